//! DSN parameters against Exim 4.96's recorded replies and spool lines
//! (tests/fixtures/dsn/recorded/, made by record.py there).

use std::fs;
use std::path::Path;

use rexim::dsn::{parse_mail_params, parse_rcpt_params, recipient_line, MailDsn, MailParamError, RcptDsn};

struct Exchange {
    command: String,
    reply: String,
}

fn load(path: &Path) -> (bool, Vec<Exchange>, Vec<String>) {
    let text = fs::read_to_string(path).unwrap();
    let advertised = text.starts_with("# advertised: yes");
    let mut ex: Vec<Exchange> = Vec::new();
    let mut spool = Vec::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix(">>> ") {
            ex.push(Exchange { command: c.to_string(), reply: String::new() });
        } else if let Some(r) = line.strip_prefix("<<< ") {
            // Keep the last line of a multi-line reply.
            ex.last_mut().unwrap().reply = r.to_string();
        } else if let Some(s) = line.strip_prefix("spool: ") {
            spool.push(s.to_string());
        }
    }
    (advertised, ex, spool)
}

/// What the address parser would say: fine only if nothing is left after
/// the <address>.
fn bare_address(rest: &str) -> bool {
    rest.trim_end().ends_with('>') && !rest.contains("> ")
}

#[test]
fn replies_and_spool_as_exim() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsn/recorded");
    let mut n = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (advertised, exchanges, spool) = load(&path);
        let mut mail: Option<MailDsn> = None;
        let mut rcpts: Vec<(String, RcptDsn)> = Vec::new();
        for e in &exchanges {
            if let Some(data) = e.command.strip_prefix("MAIL FROM:") {
                match parse_mail_params(data, advertised, |_, _| Ok::<bool, ()>(true)) {
                    Ok((rest, dsn)) => {
                        if bare_address(rest) {
                            assert_eq!(e.reply, "250 OK", "{name}: {}", e.command);
                            mail = Some(dsn);
                        } else {
                            assert!(e.reply.contains("malformed address"), "{name}: {}", e.reply);
                        }
                    }
                    Err(MailParamError::Dsn(err)) => assert_eq!(err.to_string(), e.reply, "{name}"),
                    Err(MailParamError::Other(())) => unreachable!(),
                }
            } else if let Some(data) = e.command.strip_prefix("RCPT TO:") {
                if mail.is_none() {
                    continue;
                }
                match parse_rcpt_params(data, advertised) {
                    Ok((rest, dsn)) => {
                        if bare_address(rest) {
                            assert_eq!(e.reply, "250 Accepted", "{name}: {}", e.command);
                            let addr = rest.trim().trim_start_matches('<').trim_end_matches('>');
                            rcpts.push((addr.to_string(), dsn));
                        } else {
                            assert!(e.reply.contains("malformed address"), "{name}: {}", e.reply);
                        }
                    }
                    Err(err) => assert_eq!(err.to_string(), e.reply, "{name}"),
                }
            }
        }
        let mut ours = mail.as_ref().map(|m| m.spool_lines()).unwrap_or_default();
        if !rcpts.is_empty() {
            ours.extend(rcpts.iter().map(|(a, d)| recipient_line(a, d, None, -1)));
        } else {
            ours.clear(); // no message was written
        }
        assert_eq!(ours, spool, "{name}");
        n += 1;
    }
    assert!(n >= 40, "only {n} recorded cases");
}

#[test]
fn other_mail_parameters_in_exim_order() {
    // Taken from the right: SIZE is seen before RET, BODY after.
    let mut seen = Vec::new();
    let r = parse_mail_params("<a@b> BODY=8BITMIME RET=FULL SIZE=10 PRDR", true, |n, v| {
        seen.push(format!("{n}={v}"));
        Ok::<bool, ()>(true)
    });
    let (rest, dsn) = r.unwrap();
    assert_eq!(rest, "<a@b>");
    assert_eq!(dsn.ret, Some(rexim::dsn::Ret::Full));
    assert_eq!(seen, ["PRDR=PRDR", "SIZE=10", "BODY=8BITMIME"]);
    // An error from the session's handler stops the loop before RET.
    let r = parse_mail_params("<a@b> RET=BAD SIZE=x", true, |_, _| Err("size"));
    assert_eq!(r, Err(MailParamError::Other("size")));
    // Ok(false) (Exim's arg_error) ends the loop with the parameter
    // dropped: RET is never seen.
    let r = parse_mail_params("<a@b> RET=BAD SIZE=x", true, |_, _| Ok::<bool, ()>(false));
    assert_eq!(r.map(|(rest, d)| (rest, d.ret)), Ok(("<a@b> RET=BAD", None)));
}
