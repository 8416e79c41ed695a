//! Writing a received message to the spool, durably, before it is
//! acknowledged: the -D file first, then the -H file under a temporary
//! name renamed into place, each fsynced, then the directory.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

/// A header line as the -H file keeps it: Exim's one-letter type flag
/// (`P` Received, `I` Message-Id, `F` From, `T` To, ... or space) and the
/// full text including the final newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolHeader {
    pub flag: char,
    pub text: String,
}

/// Everything the -H file records about a message.
#[derive(Debug, Clone, Default)]
pub struct SpoolMessage {
    pub id: String,
    pub originator_login: String,
    pub originator_uid: u32,
    pub originator_gid: u32,
    pub sender: String,
    pub received_time: (u64, u32),
    pub received_time_complete: (u64, u32),
    pub helo_name: Option<String>,
    /// `[ip]:port`
    pub host_address: Option<String>,
    pub host_name: Option<String>,
    pub interface_address: Option<String>,
    pub ident: Option<String>,
    pub received_protocol: String,
    pub active_hostname: Option<String>,
    pub auth_id: Option<String>,
    pub auth_sender: Option<String>,
    pub host_auth: Option<String>,
    pub host_auth_pubname: Option<String>,
    pub tls_cipher: Option<String>,
    pub tls_ver: Option<String>,
    pub tls_peerdn: Option<String>,
    pub tls_peercert: Option<String>,
    pub tls_ourcert: Option<String>,
    pub tls_sni: Option<String>,
    pub tls_certificate_verified: bool,
    pub body_linecount: u64,
    pub max_received_linelength: usize,
    pub allow_unqualified: bool,
    pub smtputf8: bool,
    /// DSN: ENVID as received, RET as Exim's number (1 FULL, 2 HDRS).
    pub dsn_envid: Option<String>,
    pub dsn_ret: Option<String>,
    pub recipients: Vec<String>,
    /// NOTIFY and ORCPT of each recipient (missing ones: none given).
    pub recipients_dsn: Vec<crate::dsn::RcptDsn>,
    pub headers: Vec<SpoolHeader>,
    /// The body with LF line ends.
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub struct SpoolError(pub String);

impl std::fmt::Display for SpoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl SpoolMessage {
    /// The text of the -H file.
    pub fn header_file(&self) -> String {
        let mut h = String::new();
        let line = |h: &mut String, s: &str| {
            h.push_str(s);
            h.push('\n');
        };
        line(&mut h, &format!("{}-H", self.id));
        line(&mut h, &format!("{} {} {}", self.originator_login, self.originator_uid, self.originator_gid));
        line(&mut h, &format!("<{}>", self.sender));
        line(&mut h, &format!("{} 0", self.received_time.0));
        line(&mut h, &format!("-received_time_usec .{:06}", self.received_time.1));
        line(&mut h, &format!("-received_time_complete {}.{:06}", self.received_time_complete.0, self.received_time_complete.1));
        if let Some(v) = &self.helo_name {
            line(&mut h, &format!("--helo_name {v}"));
        }
        if let Some(v) = &self.host_address {
            line(&mut h, &format!("-host_address {v}"));
        }
        if let Some(v) = &self.host_name {
            line(&mut h, &format!("-host_name {v}"));
        }
        if let Some(v) = &self.host_auth {
            line(&mut h, &format!("-host_auth {v}"));
        }
        if let Some(v) = &self.host_auth_pubname {
            line(&mut h, &format!("-host_auth_pubname {v}"));
        }
        if let Some(v) = &self.interface_address {
            line(&mut h, &format!("-interface_address {v}"));
        }
        if let Some(v) = &self.active_hostname {
            line(&mut h, &format!("-active_hostname {v}"));
        }
        if let Some(v) = &self.ident {
            line(&mut h, &format!("-ident {v}"));
        }
        line(&mut h, &format!("-received_protocol {}", self.received_protocol));
        line(&mut h, &format!("-body_linecount {}", self.body_linecount));
        line(&mut h, &format!("-max_received_linelength {}", self.max_received_linelength));
        // Values from the client are tainted: Exim marks them with "--".
        if let Some(v) = &self.auth_id {
            line(&mut h, &format!("--auth_id {v}"));
        }
        if let Some(v) = &self.auth_sender {
            line(&mut h, &format!("--auth_sender {v}"));
        }
        if self.allow_unqualified {
            line(&mut h, "-allow_unqualified_recipient");
            line(&mut h, "-allow_unqualified_sender");
        }
        line(&mut h, "-deliver_firsttime");
        if let Some(v) = &self.dsn_envid {
            line(&mut h, &format!("-dsn_envid {v}"));
        }
        if let Some(v) = &self.dsn_ret {
            line(&mut h, &format!("-dsn_ret {v}"));
        }
        if self.smtputf8 {
            line(&mut h, "-smtputf8");
        }
        if let Some(v) = &self.tls_certificate_verified.then_some(()) {
            let _ = v;
            line(&mut h, "-tls_certificate_verified");
        }
        if let Some(v) = &self.tls_cipher {
            line(&mut h, &format!("-tls_cipher {v}"));
        }
        // Certificates are PEM with each newline written as "\n".
        if let Some(v) = &self.tls_peercert {
            line(&mut h, &format!("--tls_peercert {}", v.replace('\n', "\\n")));
        }
        if let Some(v) = &self.tls_peerdn {
            line(&mut h, &format!("--tls_peerdn {v}"));
        }
        if let Some(v) = &self.tls_ourcert {
            line(&mut h, &format!("-tls_ourcert {}", v.replace('\n', "\\n")));
        }
        // A: no TLS; B: TLS without session resumption.
        line(&mut h, if self.tls_cipher.is_some() { "-tls_resumption B" } else { "-tls_resumption A" });
        if let Some(v) = &self.tls_sni {
            line(&mut h, &format!("-tls_sni {v}"));
        }
        if let Some(v) = &self.tls_ver {
            line(&mut h, &format!("-tls_ver {v}"));
        }
        // No non-recipients yet: an empty tree.
        line(&mut h, "XX");
        line(&mut h, &self.recipients.len().to_string());
        let none = crate::dsn::RcptDsn::default();
        for (i, r) in self.recipients.iter().enumerate() {
            line(&mut h, &crate::dsn::recipient_line(r, self.recipients_dsn.get(i).unwrap_or(&none), None, -1));
        }
        h.push('\n');
        for hd in &self.headers {
            h.push_str(&format!("{:03}{} {}", hd.text.len(), hd.flag, hd.text));
        }
        h
    }

    /// Message size as Exim counts it: headers, the blank line, the body.
    pub fn size(&self) -> usize {
        self.headers.iter().filter(|h| h.flag != '*').map(|h| h.text.len()).sum::<usize>() + 1 + self.body.len()
    }
}

fn io_err(what: &str, path: &std::path::Path, e: std::io::Error) -> SpoolError {
    SpoolError(format!("{what} {}: {}", path.display(), crate::texts::errno_text(&e)))
}

fn ensure_dir(path: &std::path::Path) -> Result<(), SpoolError> {
    if !path.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(path)
            .map_err(|e| io_err("failed to create directory", path, e))?;
    }
    Ok(())
}

use std::os::unix::fs::DirBuilderExt;

fn write_synced(path: &std::path::Path, parts: &[&[u8]]) -> Result<(), SpoolError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| io_err("failed to create", path, e))?;
    for p in parts {
        f.write_all(p).map_err(|e| io_err("failed to write", path, e))?;
    }
    f.sync_all().map_err(|e| io_err("failed to sync", path, e))
}

/// Write the message to `spool_directory`; when this returns Ok the
/// message survives a crash.
pub fn write_message(spool_directory: &str, msg: &SpoolMessage, msglog_line: &str) -> Result<(), SpoolError> {
    let input = std::path::Path::new(spool_directory).join("input");
    let msglog = std::path::Path::new(spool_directory).join("msglog");
    ensure_dir(&input)?;
    ensure_dir(&msglog)?;
    let data = input.join(format!("{}-D", msg.id));
    let first = format!("{}-D\n", msg.id);
    write_synced(&data, &[first.as_bytes(), &msg.body])?;
    let temp = input.join(format!("hdr.{}", msg.id));
    let _ = std::fs::remove_file(&temp);
    if let Err(e) = write_synced(&temp, &[msg.header_file().as_bytes()]) {
        let _ = std::fs::remove_file(&data);
        return Err(e);
    }
    let header = input.join(format!("{}-H", msg.id));
    if let Err(e) = std::fs::rename(&temp, &header) {
        let _ = std::fs::remove_file(&temp);
        let _ = std::fs::remove_file(&data);
        return Err(io_err("failed to rename", &temp, e));
    }
    sync_dir(&input)?;
    let stamp = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
    let log_path = msglog.join(&msg.id);
    // The message log is informational: failing to write it does not lose mail.
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(&log_path)
        .and_then(|mut f| f.write_all(format!("{stamp} {msglog_line}\n").as_bytes()));
    Ok(())
}

fn sync_dir(dir: &std::path::Path) -> Result<(), SpoolError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_err("failed to sync", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_file_layout() {
        let m = SpoolMessage {
            id: "1xUz7r-0005vN-0X".into(),
            originator_login: "root".into(),
            sender: "a@b.c".into(),
            received_time: (1795321467, 166041),
            received_time_complete: (1795321467, 167350),
            helo_name: Some("foo.bar".into()),
            ident: Some("root".into()),
            received_protocol: "local-esmtp".into(),
            body_linecount: 1,
            max_received_linelength: 11,
            allow_unqualified: true,
            recipients: vec!["x@y.z".into()],
            headers: vec![SpoolHeader { flag: ' ', text: "Subject: hi\n".into() }],
            body: b"body\n".to_vec(),
            ..Default::default()
        };
        let h = m.header_file();
        assert!(h.starts_with("1xUz7r-0005vN-0X-H\nroot 0 0\n<a@b.c>\n1795321467 0\n-received_time_usec .166041\n"));
        assert!(h.ends_with("-tls_resumption A\nXX\n1\nx@y.z\n\n012  Subject: hi\n"));
        assert_eq!(m.size(), 12 + 1 + 5);
        // A recipient with NOTIFY gets Exim's extended line.
        let m = SpoolMessage {
            recipients: vec!["x@y.z".into(), "w@y.z".into()],
            recipients_dsn: vec![crate::dsn::RcptDsn { dsn_flags: crate::dsn::RF_NOTIFY_SUCCESS, orcpt: Some("rfc822;X@y.z".into()) }],
            ..Default::default()
        };
        assert!(m.header_file().contains("XX\n2\nx@y.z rfc822;X@y.z 12,4  0,-1#3\nw@y.z\n"));
    }
}
