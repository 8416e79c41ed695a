//! Raw-bytes conversations with the state machine. The expected replies
//! were recorded from Exim 4.96 (daemon and -bs) with the same settings.

use std::sync::Arc;

use super::hooks::{AcceptAll, DefaultAcls};
use super::session::{Event, Peer, Services, Session, SessionMode};
use super::{AclHooks, SmtpConfig};

fn config(extra: &[(&str, &str)]) -> SmtpConfig {
    let mut opts: Vec<(String, String)> = vec![
        ("primary_hostname".into(), "myhost.test.ex".into()),
        ("qualify_domain".into(), "test.ex".into()),
        ("smtp_banner".into(), "myhost.test.ex ESMTP Exim 4.96 DATE".into()),
        ("tls_advertise_hosts".into(), "".into()),
    ];
    for (k, v) in extra {
        opts.retain(|(n, _)| n != k);
        opts.push((k.to_string(), v.to_string()));
    }
    SmtpConfig::from_lookup(&move |n| opts.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
}

fn services(cfg: SmtpConfig, auths: Vec<Box<dyn crate::auth::Authenticator>>) -> Services {
    Services {
        cfg: Arc::new(cfg),
        hosts: Arc::new(super::ListsHostMatcher::plain()),
        auths: Arc::new(auths),
        ids: Arc::new(crate::spool::IdGenerator::default()),
        resolver: Arc::new(crate::dns::fake::FakeResolver::default()),
    }
}

fn remote(s: &Services, acls: Box<dyn AclHooks + Send>) -> Session {
    let peer = Peer { address: Some("127.0.0.1".into()), port: 40000, connection_count: 1, ..Default::default() };
    Session::new(s, acls, SessionMode::Remote, peer)
}

/// Replies as text, log lines, and whether the session closed; a spool
/// request is answered with success.
fn run(session: &mut Session, events: Vec<Event>) -> (String, Vec<String>, bool) {
    let mut out = String::new();
    let mut logs = Vec::new();
    let mut closed = false;
    let mut queue = std::collections::VecDeque::from(events);
    while let Some(e) = queue.pop_front() {
        match e {
            Event::Reply(b) => out.push_str(&String::from_utf8_lossy(&b)),
            Event::Log(_, t) => logs.push(t),
            Event::Spool(m) => queue.extend(session.spooled(&m, Ok(()))),
            Event::StartTls | Event::TlsHandshake => {}
            Event::Close => closed = true,
            Event::Continue => queue.extend(session.feed(&[])),
            Event::Command { argv, .. } => logs.push(format!("command: {}", argv.join(" "))),
        }
    }
    (out, logs, closed)
}

fn feed(session: &mut Session, bytes: &str) -> (String, Vec<String>, bool) {
    let ev = session.feed(bytes.as_bytes());
    run(session, ev)
}

fn mask_id(s: &str) -> String {
    let re = pcre2::bytes::Regex::new(r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}").unwrap();
    let mut out = s.to_string();
    while let Ok(Some(m)) = re.find(out.as_bytes()) {
        out.replace_range(m.start()..m.end(), "ID");
    }
    out
}

const EHLO_REPLY: &str = "250-myhost.test.ex Hello x [127.0.0.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-PIPECONNECT\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n250 HELP\r\n";

#[test]
fn pipelined_message_then_sync_error() {
    let s = services(config(&[]), Vec::new());
    let mut sess = remote(&s, Box::new(AcceptAll));
    let ev = sess.start();
    assert_eq!(run(&mut sess, ev).0, "220 myhost.test.ex ESMTP Exim 4.96 DATE\r\n");
    assert_eq!(feed(&mut sess, "EHLO x\r\n").0, EHLO_REPLY);
    let (out, logs, _) = feed(&mut sess, "MAIL FROM:<>\r\nRCPT TO:<a@b>\r\nDATA\r\nSubject: x\r\n\r\n.\r\n");
    assert_eq!(mask_id(&out), "250 OK\r\n250 Accepted\r\n354 Enter message, ending with \".\" on a line by itself\r\n250 OK id=ID\r\n");
    assert_eq!(mask_id(&logs[0]), "ID <= <> H=(x) [127.0.0.1] P=esmtp S=154");
    let (out, logs, closed) = feed(&mut sess, "MAIL FROM:<>\r\nRCPT TO:<a@b>\r\nNOOP\r\nRSET\r\n");
    assert_eq!(out, "250 OK\r\n250 Accepted\r\n554 SMTP synchronization error\r\n");
    assert_eq!(
        logs,
        vec!["SMTP protocol synchronization error (next input sent too soon: pipelining was advertised): rejected \"NOOP\" H=(x) [127.0.0.1] next input=\"RSET\\r\\n\""]
    );
    assert!(closed);
}

#[test]
fn too_many_syntax_errors() {
    let s = services(config(&[]), Vec::new());
    let mut sess = remote(&s, Box::new(AcceptAll));
    let _ = sess.start();
    let mut all = String::new();
    let mut logs = Vec::new();
    for cmd in ["HELO x\r\n", "FOO\r\n", "MAIL FROM:<a@b.c> SIZE=1\r\n", "RCPT TO:<x>\r\n", "RCPT TO:<postmaster>\r\n"] {
        let (o, l, _) = feed(&mut sess, cmd);
        all.push_str(&o);
        logs.extend(l);
    }
    assert_eq!(
        all,
        "250 myhost.test.ex Hello x [127.0.0.1]\r\n500 unrecognized command\r\n\
         501 <a@b.c> SIZE=1: malformed address: SIZE=1 may not follow <a@b.c> \r\n\
         503 sender not yet given\r\n503-sender not yet given\r\n503 Too many syntax or protocol errors\r\n"
    );
    assert_eq!(
        logs.last().unwrap(),
        "SMTP call from (x) [127.0.0.1] dropped: too many syntax or protocol errors (last command was \"RCPT TO:<postmaster>\",  C=HELO,MAIL,RCPT,RCPT)"
    );
}

#[test]
fn default_acls_refuse_recipients() {
    let s = services(config(&[]), Vec::new());
    let mut sess = remote(&s, Box::new(DefaultAcls));
    let _ = sess.start();
    let (out, logs, _) = feed(&mut sess, "EHLO x\r\n");
    assert!(logs.is_empty() && out == EHLO_REPLY);
    let (out, logs, _) = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    assert_eq!((out.as_str(), logs.len()), ("250 OK\r\n", 0));
    let (out, logs, _) = feed(&mut sess, "RCPT TO:<x@y.z>\r\n");
    assert_eq!(out, "550 Administrative prohibition\r\n");
    assert_eq!(logs, vec!["H=(x) [127.0.0.1] F=<a@b.c> rejected RCPT <x@y.z>"]);
    let (out, _, _) = feed(&mut sess, "DATA\r\n");
    assert_eq!(
        out,
        "503-All RCPT commands were rejected with this error:\r\n503-Administrative prohibition\r\n503 Valid RCPT command must precede DATA\r\n"
    );
    assert_eq!(feed(&mut sess, "VRFY x@y.z\r\n").0, "252 Administrative prohibition\r\n");
    // Exim checks and qualifies the address before the ACL (recorded).
    assert_eq!(feed(&mut sess, "VRFY x\r\n").0, "501 x: recipient address must contain a domain\r\n");
    assert_eq!(feed(&mut sess, "VRFY\r\n").0, "501 empty address\r\n");
    assert_eq!(feed(&mut sess, "QUIT\r\n").0, "221 myhost.test.ex closing connection\r\n");
}

#[test]
fn bdat_chunks() {
    let s = services(config(&[]), Vec::new());
    let mut sess = remote(&s, Box::new(AcceptAll));
    let _ = sess.start();
    let _ = feed(&mut sess, "EHLO x\r\n");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    let _ = feed(&mut sess, "RCPT TO:<r@s.t>\r\n");
    assert_eq!(feed(&mut sess, "BDAT 6\r\nab\r\n\r\n").0, "250 6 byte chunk received\r\n");
    assert_eq!(mask_id(&feed(&mut sess, "BDAT 3 LAST\r\nc\r\n").0), "250- 3 byte chunk, total 10\r\n250 OK id=ID\r\n");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    let _ = feed(&mut sess, "RCPT TO:<r@s.t>\r\n");
    assert_eq!(mask_id(&feed(&mut sess, "BDAT 0 LAST\r\n").0), "250- 0 byte chunk, total 2\r\n250 OK id=ID\r\n");
    // Totals recorded from Exim: headers with and without a body after them.
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    let _ = feed(&mut sess, "RCPT TO:<r@s.t>\r\n");
    assert_eq!(mask_id(&feed(&mut sess, "BDAT 14 LAST\r\nA: b\r\n\r\nc\r\nd\r\n").0), "250- 14 byte chunk, total 14\r\n250 OK id=ID\r\n");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    let _ = feed(&mut sess, "RCPT TO:<r@s.t>\r\n");
    assert_eq!(mask_id(&feed(&mut sess, "BDAT 6 LAST\r\nA: b\r\n").0), "250- 6 byte chunk, total 6\r\n250 OK id=ID\r\n");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    let _ = feed(&mut sess, "RCPT TO:<r@s.t>\r\n");
    assert_eq!(feed(&mut sess, "BDAT 3\r\nab\n").0, "250 3 byte chunk received\r\n");
    assert_eq!(feed(&mut sess, "NOOP\r\n").0, "250 OK\r\n");
    assert_eq!(feed(&mut sess, "MAIL FROM:<>\r\n").0, "503 only BDAT permissible after non-LAST BDAT\r\n");
    assert_eq!(feed(&mut sess, "NOOP\r\n").0, "503 only RSET accepted now\r\n");
    assert_eq!(feed(&mut sess, "RSET\r\n").0, "250 Reset OK\r\n");
}

#[test]
fn auth_plain_and_login() {
    let plain = crate::auth::Plaintext::new(crate::auth::PlaintextOptions {
        name: "plain".into(),
        public_name: "PLAIN".into(),
        server_prompts: Some(":".into()),
        server_condition: Some("${if and {{eq{$auth2}{u}}{eq{$auth3}{p}}}}".into()),
        server_set_id: Some("$auth2".into()),
        ..Default::default()
    });
    let login = crate::auth::Plaintext::new(crate::auth::PlaintextOptions {
        name: "login".into(),
        public_name: "LOGIN".into(),
        server_prompts: Some("Username:: : Password::".into()),
        server_condition: Some("${if and {{eq{$auth1}{u}}{eq{$auth2}{p}}}}".into()),
        server_set_id: Some("$auth1".into()),
        ..Default::default()
    });
    let s = services(config(&[]), vec![Box::new(plain), Box::new(login)]);
    let mut sess = remote(&s, Box::new(AcceptAll));
    let _ = sess.start();
    let (out, _, _) = feed(&mut sess, "EHLO x\r\n");
    assert!(out.contains("250-PIPECONNECT\r\n250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n"));
    assert_eq!(feed(&mut sess, "AUTH LOGIN\r\n").0, "334 VXNlcm5hbWU6\r\n");
    assert_eq!(feed(&mut sess, "dQ==\r\n").0, "334 UGFzc3dvcmQ6\r\n");
    let (out, logs, _) = feed(&mut sess, "eA==\r\n");
    assert_eq!(out, "535 Incorrect authentication data\r\n");
    assert_eq!(logs, vec!["login authenticator failed for (x) [127.0.0.1]: 535 Incorrect authentication data (set_id=u)"]);
    assert_eq!(feed(&mut sess, "AUTH FOO\r\n").0, "504 FOO authentication mechanism not supported\r\n");
    assert_eq!(feed(&mut sess, "AUTH PLAIN AHUAcA==\r\n").0, "235 Authentication succeeded\r\n");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\nRCPT TO:<r@s.t>\r\nDATA\r\n");
    let (_, logs, _) = feed(&mut sess, "Subject: x\r\n\r\n.\r\n");
    assert!(mask_id(&logs[0]).starts_with("ID <= a@b.c H=(x) [127.0.0.1] P=esmtpa A=plain:u S="), "{logs:?}");
}

#[test]
fn local_bs_spools_like_exim() {
    let dir = std::env::temp_dir().join(format!("rexim-bs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = config(&[("spool_directory", dir.to_str().unwrap()), ("log_file_path", "")]);
    let s = services(cfg, Vec::new());
    let log = crate::log::Logger::none();
    let input = "EHLO foo.bar\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n..dot\r\n.\r\nQUIT\r\n";
    let mut out = Vec::new();
    let quit = super::stdio::run(&s, Box::new(AcceptAll), super::caller::Caller::trusted("root"), Default::default(), &log, &mut input.as_bytes(), &mut out);
    assert!(quit);
    let out = mask_id(&String::from_utf8(out).unwrap());
    assert!(out.starts_with("220 myhost.test.ex ESMTP Exim 4.96 DATE\r\n250-myhost.test.ex Hello root at foo.bar\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n250 HELP\r\n"), "{out}");
    assert!(out.ends_with("250 OK id=ID\r\n221 myhost.test.ex closing connection\r\n"));
    let ids = crate::spool::queue::message_ids(dir.to_str().unwrap());
    assert_eq!(ids.len(), 1);
    let h = std::fs::read_to_string(dir.join("input").join(format!("{}-H", ids[0]))).unwrap();
    let d = std::fs::read_to_string(dir.join("input").join(format!("{}-D", ids[0]))).unwrap();
    assert_eq!(d, format!("{}-D\nbody\n.dot\n", ids[0]));
    assert!(h.contains("\n<a@b.c>\n"));
    assert!(h.contains("--helo_name foo.bar\n-ident root\n-received_protocol local-esmtp\n-body_linecount 2\n"));
    assert!(h.contains("\nXX\n1\nx@y.z\n\n174P Received: from root (helo=foo.bar)\n\tby myhost.test.ex with local-esmtp (Exim 4.96)\n\t(envelope-from <a@b.c>)\n"));
    assert!(h.contains("012  Subject: hi\n047I Message-Id: <E"));
    assert!(h.contains("012F From: a@b.c\n038  Date: "));
    let listing = crate::spool::queue::list(dir.to_str().unwrap(), crate::spool::message_id::now().0);
    assert_eq!(mask_id(&listing), " 0m   294 ID <a@b.c>\n          x@y.z\n\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What Exim's testsuite shows for -bs from an untrusted caller (0028,
/// 0220, 0389, 0468): the sender given is replaced by the caller's own
/// address unless untrusted_set_sender allows it; From: carries the
/// caller's name; a From: that is not the caller's gets a Sender: line,
/// and the message's own Sender: is dropped.
#[test]
fn local_bs_untrusted_caller() {
    let dir = std::env::temp_dir().join(format!("rexim-bs-untrusted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = config(&[("spool_directory", dir.to_str().unwrap()), ("log_file_path", ""), ("untrusted_set_sender", "foo@bar")]);
    let s = services(cfg, Vec::new());
    let log = crate::log::Logger::none();
    let caller = super::caller::Caller { login: "jim".into(), uid: 1001, gid: 1001, name: "Jim Smith".into(), trusted: false };
    let message = |from: &str, headers: &str| format!("MAIL FROM:<{from}>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n{headers}\r\nbody\r\n.\r\n");
    let input = format!(
        "HELO test\r\n{}{}{}QUIT\r\n",
        message("x@y", "Subject: 1\r\n"),
        message("foo@bar", "Subject: 2\r\n"),
        message("", "Subject: 3\r\nFrom: other@x\r\nSender: fake@x\r\n")
    );
    let mut out = Vec::new();
    assert!(super::stdio::run(&s, Box::new(AcceptAll), caller, Default::default(), &log, &mut input.as_bytes(), &mut out));
    let spool = dir.to_str().unwrap();
    let read = |id: &String| std::fs::read_to_string(dir.join("input").join(format!("{id}-H"))).unwrap();
    let mut headers: Vec<String> = crate::spool::queue::message_ids(spool).iter().map(read).collect();
    headers.sort_by_key(|h| h.find("Subject: ").map(|i| h[i..].to_string()));
    let [first, second, third] = &headers[..] else { panic!("{headers:?}") };
    assert!(first.contains("-H\njim 1001 1001\n<jim@test.ex>\n"), "{first}");
    assert!(first.contains("-auth_id jim\n-allow_unqualified_recipient\n-allow_unqualified_sender\n-deliver_firsttime\n-local\n"), "{first}");
    assert!(first.contains("\t(envelope-from <jim@test.ex>)\n"));
    assert!(first.contains("F From: Jim Smith <jim@test.ex>\n038  Date: "), "{first}");
    assert!(!first.contains("Sender:") && !first.contains("-sender_set_untrusted"));
    assert!(second.contains("\n<foo@bar>\n") && second.contains("-local\n-sender_set_untrusted\n"), "{second}");
    assert!(second.contains("F From: Jim Smith <foo@bar>\n032S Sender: Jim Smith <jim@test.ex>\n038  Date: "), "{second}");
    assert!(third.contains("\n<jim@test.ex>\n"), "{third}");
    assert!(third.contains("F From: other@x\n015* Sender: fake@x\n"), "{third}");
    assert!(third.contains("S Sender: Jim Smith <jim@test.ex>\n"), "{third}");
    let listing = crate::spool::queue::list(spool, crate::spool::message_id::now().0);
    assert!(listing.contains(" <foo@bar> (jim)\n"), "{listing}");
    assert_eq!(listing.matches("(jim)").count(), 1, "{listing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_never_panics() {
    let s = services(config(&[]), Vec::new());
    for input in [&b"\0\0\0\r\n"[..], b"\xff\xfe\r\n", b"BDAT 99999999999999999999\r\n", b"MAIL FROM:<\"unterminated\r\n", b"\r\n\r\n\n\n", b"AUTH PLAIN =\r\n"] {
        let mut sess = remote(&s, Box::new(AcceptAll));
        let _ = sess.start();
        let _ = feed(&mut sess, "EHLO x\r\n");
        let ev = sess.feed(input);
        let _ = run(&mut sess, ev);
        let _ = sess.eof();
    }
    let mut sess = remote(&s, Box::new(AcceptAll));
    let _ = sess.start();
    let long = "X".repeat(20000);
    let (out, _, closed) = feed(&mut sess, &long);
    assert_eq!(out, "500 Command line too long\r\n");
    assert!(closed);
}

#[test]
fn input_before_the_greeting() {
    // PIPECONNECT advertised to this host: early EHLO is fine.
    let s = services(config(&[]), Vec::new());
    let mut sess = remote(&s, Box::new(AcceptAll));
    assert!(sess.early_input(b"EHLO x\r\n").is_none());
    // Not advertised: Exim's refusal, without the banner.
    let s = services(config(&[("pipelining_connect_advertise_hosts", "")]), Vec::new());
    let mut sess = remote(&s, Box::new(AcceptAll));
    let ev = sess.early_input(b"EHLO x\r\n").unwrap();
    let (out, logs, closed) = run(&mut sess, ev);
    assert_eq!(out, "554 SMTP synchronization error\r\n");
    assert_eq!(
        logs,
        vec!["SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[127.0.0.1] input=\"EHLO x\\r\\n\""]
    );
    assert!(closed);
}

#[test]
fn dot_after_crlf_needs_crlf() {
    // Debian's Exim 4.96: "\r\n.\n" does not end the data; "\n.\n" does.
    let s = services(config(&[]), Vec::new());
    let mut sess = remote(&s, Box::new(AcceptAll));
    let _ = sess.start();
    let _ = feed(&mut sess, "EHLO x\r\n");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n");
    assert_eq!(feed(&mut sess, "body\r\n.\n").0, "");
    assert_eq!(mask_id(&feed(&mut sess, "x\n.\n").0), "250 OK id=ID\r\n");
}

#[test]
fn host_check_session() {
    let s = services(config(&[]), Vec::new());
    let input = "HELO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\nSubject: a\r\n\r\nb\r\n.\r\nQUIT\r\n";
    let (mut out, mut log) = (Vec::new(), Vec::new());
    assert!(super::stdio::run_host_check(&s, Box::new(AcceptAll), "10.0.0.1", None, Default::default(), &mut input.as_bytes(), &mut out, &mut log));
    let out = mask_id(&String::from_utf8(out).unwrap());
    assert_eq!(
        out,
        "\n**** SMTP testing session as if from host 10.0.0.1\n**** but without any ident (RFC 1413) callback.\n**** This is not for real!\n\n\
         220 myhost.test.ex ESMTP Exim 4.96 DATE\r\n250 myhost.test.ex Hello x [10.0.0.1]\r\n250 OK\r\n250 Accepted\r\n\
         354 Enter message, ending with \".\" on a line by itself\r\n250 OK id=ID\r\n\n**** SMTP testing: that is not a real message id!\n\n\
         221 myhost.test.ex closing connection\r\n"
    );
    let (mut out, mut log) = (Vec::new(), Vec::new());
    super::stdio::run_host_check(&s, Box::new(DefaultAcls), "10.0.0.1", None, Default::default(), &mut "HELO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\n".as_bytes(), &mut out, &mut log);
    let log = String::from_utf8(log).unwrap();
    assert!(log.starts_with(">>> host in hosts_connection_nolog? no (option unset)\n"), "{log}");
    assert!(log.lines().any(|l| l == "LOG: H=(x) [10.0.0.1] F=<a@b.c> rejected RCPT <x@y.z>"), "{log}");
}

#[test]
fn bdat_header_with_bare_lf_is_refused() {
    let s = services(config(&[]), Vec::new());
    let mut sess = remote(&s, Box::new(AcceptAll));
    let _ = sess.start();
    let _ = feed(&mut sess, "EHLO x\r\n");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    let _ = feed(&mut sess, "RCPT TO:<r@s.t>\r\n");
    // Texts recorded from Exim; the rest of the chunk is read and dropped.
    let _ = feed(&mut sess, "BDAT 17 LAST\r\n");
    assert_eq!(feed(&mut sess, "A: b\nC: d\r\n").0, "");
    let (out, logs, _) = feed(&mut sess, "E");
    assert_eq!(out, "552 Message header not CRLF terminated\r\n");
    let want = "rejected from <a@b.c> H=(x) [127.0.0.1]: Non-CRLF-terminated header, under CHUNKING: message abandoned\u{1e}Envelope-from: <a@b.c>\nEnvelope-to: <r@s.t>\n  A: b\n";
    assert_eq!(logs, vec![want.to_string()]);
    assert_eq!(feed(&mut sess, ": f\r\n").0, "");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    let _ = feed(&mut sess, "RCPT TO:<r@s.t>\r\n");
    let _ = feed(&mut sess, "BDAT 87 last\r\nTo: Susan@random.com\n");
    assert_eq!(feed(&mut sess, "From: Sam@random.com\r\nSubject: This is a Bodyless test message\r\n\r\n").0, "552 Message header not CRLF terminated\r\n");
    let _ = feed(&mut sess, "MAIL FROM:<a@b.c>\r\n");
    let _ = feed(&mut sess, "RCPT TO:<r@s.t>\r\n");
    let (out, _, _) = feed(&mut sess, "BDAT 11 last\r\nA: b\nC: d\r\nNOOP\r\n");
    assert_eq!(out, "552 Message header not CRLF terminated\r\n250 OK\r\n");
    assert_eq!(feed(&mut sess, "QUIT\r\n").0, "221 myhost.test.ex closing connection\r\n");
}

/// A `smtp_accept_max_per_connection` that cannot be expanded gets Exim's
/// panic line (Exim 4.96 then dies with SIGSEGV); rexim goes on with no
/// limit (docs/compat.md).
#[test]
fn mailmax_expansion_failure() {
    let s = services(config(&[("smtp_accept_max_per_connection", "${if eq{a}}")]), Vec::new());
    let mut sess = remote(&s, Box::new(AcceptAll));
    let _ = sess.start();
    let (_, logs, _) = feed(&mut sess, "EHLO x\r\n");
    assert_eq!(logs, vec!["failed to expand smtp_accept_max_per_connection"]);
    for _ in 0..3 {
        let (out, _, _) = feed(&mut sess, "MAIL FROM:<a@b.c>\r\nRSET\r\n");
        assert_eq!(out, "250 OK\r\n250 Reset OK\r\n");
    }
}
