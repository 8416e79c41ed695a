//! Reading the queue: `-bp` / `-bpc` listings and `-Mrm` removal, with
//! Exim's output formats.

use std::path::{Path, PathBuf};

use super::message_id::is_message_id;
use crate::log::{Logger, Targets};

/// What `-bp` needs from a -H file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    pub sender: String,
    /// The login on the second line, shown after a sender that an
    /// untrusted caller set (`-sender_set_untrusted`).
    pub originator_login: String,
    pub sender_set_untrusted: bool,
    pub received_time: u64,
    pub frozen: bool,
    pub recipients: Vec<String>,
    pub header_size: usize,
}

/// Parse the parts of a -H file that the queue listing shows.
pub fn read_envelope(text: &str) -> Option<Envelope> {
    let mut lines = text.split('\n');
    lines.next()?; // id line
    let originator_login = lines.next()?.split(' ').next()?.to_string();
    let sender = lines.next()?.strip_prefix('<')?.strip_suffix('>')?.to_string();
    let received_time = lines.next()?.split(' ').next()?.parse().ok()?;
    let mut env = Envelope { sender, originator_login, received_time, ..Default::default() };
    let mut line = lines.next()?;
    while line.starts_with('-') {
        if line == "-frozen" || line.starts_with("-frozen ") {
            env.frozen = true;
        }
        env.sender_set_untrusted |= line == "-sender_set_untrusted";
        line = lines.next()?;
    }
    // Non-recipients tree ("XX" when empty), then the recipient count.
    while !line.chars().all(|c| c.is_ascii_digit()) || line.is_empty() {
        line = lines.next()?;
    }
    let count: usize = line.parse().ok()?;
    for _ in 0..count {
        let r = lines.next()?;
        // Exim appends DSN/errors-to data after the address in some forms;
        // the plain form is the address alone.
        env.recipients.push(r.split(' ').next().unwrap_or(r).to_string());
    }
    lines.next()?; // blank line before the headers
    let rest: Vec<&str> = lines.collect();
    let headers = rest.join("\n");
    let mut i = 0;
    let b = headers.as_bytes();
    while i + 4 <= b.len() && b[i..i + 3].iter().all(u8::is_ascii_digit) {
        let n: usize = headers[i..i + 3].parse().ok()?;
        let flag = b[i + 3];
        if flag != b'*' {
            env.header_size += n;
        }
        i += 5 + n;
    }
    Some(env)
}

/// Exim's string_format_size: five columns.
pub fn format_size(size: u64) -> String {
    let s = size as f64;
    if size == 0 {
        "     ".into()
    } else if size < 1024 {
        format!("{size:5}")
    } else if size < 10 * 1024 {
        format!("{:4.1}K", s / 1024.0)
    } else if size < 1024 * 1024 {
        format!("{:4}K", (size + 512) / 1024)
    } else if size < 10 * 1024 * 1024 {
        format!("{:4.1}M", s / (1024.0 * 1024.0))
    } else {
        format!("{:4}M", (size + 512 * 1024) / (1024 * 1024))
    }
}

/// Time on the queue as `-bp` shows it.
pub fn format_age(seconds: u64) -> String {
    let mut i = seconds / 60;
    if i > 90 {
        i = (i + 30) / 60;
        if i > 72 {
            format!("{:2}d", (i + 12) / 24)
        } else {
            format!("{i:2}h")
        }
    } else {
        format!("{i:2}m")
    }
}

/// The ids of the messages in the queue, in id order.
pub fn message_ids(spool_directory: &str) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(Path::new(spool_directory).join("input"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .filter_map(|n| n.strip_suffix("-H").map(String::from))
                .filter(|id| is_message_id(id))
                .collect()
        })
        .unwrap_or_default();
    // Sort on the time part first, then the rest, as ids compare in Exim.
    ids.sort();
    ids
}

/// `-bp` output.
pub fn list(spool_directory: &str, now: u64) -> String {
    let input = Path::new(spool_directory).join("input");
    let mut out = String::new();
    for id in message_ids(spool_directory) {
        let Ok(text) = std::fs::read(input.join(format!("{id}-H"))).map(crate::bytes::from_vec) else { continue };
        let Some(env) = read_envelope(&text) else {
            out.push_str(&format!("{id} (spool file error)\n\n"));
            continue;
        };
        let data_len = std::fs::metadata(input.join(format!("{id}-D"))).map(|m| m.len()).unwrap_or(0);
        let data_start = (id.len() + 3) as u64;
        let size = env.header_size as u64 + data_len.saturating_sub(data_start) + 1;
        out.push_str(&format!("{} {} {id} <{}>", format_age(now.saturating_sub(env.received_time)), format_size(size), env.sender));
        if env.sender_set_untrusted {
            out.push_str(&format!(" ({})", env.originator_login));
        }
        if env.frozen {
            out.push_str(" *** frozen ***");
        }
        out.push('\n');
        for r in &env.recipients {
            out.push_str(&format!("          {r}\n"));
        }
        out.push('\n');
    }
    out
}

fn spool_files(spool_directory: &str, id: &str) -> [PathBuf; 3] {
    let base = Path::new(spool_directory);
    [base.join("msglog").join(id), base.join("input").join(format!("{id}-D")), base.join("input").join(format!("{id}-H"))]
}

/// `-Mrm`: remove messages; the output lines and whether all went well.
pub fn remove(spool_directory: &str, ids: &[String], user: &str, log: &Logger) -> (String, bool) {
    let mut out = String::new();
    let mut ok = true;
    for id in ids {
        let [msglog, data, header] = spool_files(spool_directory, id);
        let mut removed = false;
        let _ = std::fs::remove_file(&msglog);
        match std::fs::remove_file(&data) {
            Ok(()) => removed = true,
            Err(_) => {
                out.push_str(&format!(
                    "Spool data file for {id} does not exist\nContinuing, to ensure all files removed\n"
                ));
                log.write(Targets::MAIN, &format!("{id} Spool file {id}-D not found"));
            }
        }
        match std::fs::remove_file(&header) {
            Ok(()) => removed = true,
            Err(e) => out.push_str(&format!(
                "Spool read error for {id}-H: {}\nContinuing to ensure all files removed\n",
                crate::texts::errno_text(&e)
            )),
        }
        if removed {
            log.write(Targets::MAIN, &format!("{id} removed by {user}"));
            log.write(Targets::MAIN, &format!("{id} Completed"));
            out.push_str(&format!("Message {id} has been removed\n"));
        } else {
            ok = false;
            out.push_str(&format!("Message {id} has been removed or did not exist\n"));
        }
    }
    (out, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages() {
        assert_eq!(format_size(154), "  154");
        assert_eq!(format_size(2048), " 2.0K");
        assert_eq!(format_size(20480), "  20K");
        assert_eq!(format_age(120), " 2m");
        assert_eq!(format_age(60 * 200), " 3h");
        assert_eq!(format_age(3600 * 100), " 4d");
    }

    #[test]
    fn reads_envelope() {
        let h = "1xUz9N-0007HI-2f-H\nroot 0 0\n<>\n1795321561 0\n-received_time_usec .827113\n-deliver_firsttime\nXX\n1\na@b\n\n011  Subject: x\n";
        let e = read_envelope(h).unwrap();
        assert_eq!(e.sender, "");
        assert_eq!(e.recipients, vec!["a@b"]);
        assert_eq!(e.header_size, 11);
    }

    #[test]
    fn listing_shows_untrusted_sender_then_frozen() {
        let dir = std::env::temp_dir().join(format!("rexim-bp-{}", std::process::id()));
        let input = dir.join("input");
        std::fs::create_dir_all(&input).unwrap();
        let id = "1xUz9N-0007HI-2f";
        let h = format!("{id}-H\njim 1001 1001\n<foo@bar>\n1795321561 0\n-local\n-frozen 1795321561\n-sender_set_untrusted\nXX\n1\na@b\n\n011  Subject: x\n");
        std::fs::write(input.join(format!("{id}-H")), h).unwrap();
        std::fs::write(input.join(format!("{id}-D")), format!("{id}-D\nbody\n")).unwrap();
        let listing = list(dir.to_str().unwrap(), 1795321561 + 60);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(listing, format!(" 1m    17 {id} <foo@bar> (jim) *** frozen ***\n          a@b\n\n"));
    }
}
