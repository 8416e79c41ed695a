//! Exim's log files: main, reject and panic logs written where
//! `log_file_path` says (`%s` is the log's name, `%D` the date), and/or to
//! syslog, with Exim's time-stamped line format.

use std::io::Write;
use std::sync::Mutex;

/// Which logs a line goes to, as Exim's LOG_MAIN / LOG_REJECT / LOG_PANIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Targets {
    pub main: bool,
    pub reject: bool,
    pub panic: bool,
}

impl Targets {
    pub const MAIN: Targets = Targets { main: true, reject: false, panic: false };
    pub const REJECT: Targets = Targets { main: true, reject: true, panic: false };
    pub const PANIC: Targets = Targets { main: true, reject: false, panic: true };
}

/// Separates a line from detail meant for the reject log only (Exim's
/// envelope and header lines after a rejection during DATA). A control
/// character that log text never contains: Exim prints those escaped.
pub const REJECT_DETAIL: char = '\u{1e}';

/// Debian's build-time default for `log_file_path`.
pub const DEFAULT_LOG_FILE_PATH: &str = "/var/log/exim4/%slog";

/// Writes log lines; shared by every session of a process.
pub struct Logger {
    files: Vec<String>,
    syslog: bool,
    millisec: bool,
    lock: Mutex<()>,
}

impl Logger {
    /// `log_file_path` as Exim reads it: a colon-separated list of file
    /// templates and the word `syslog`; empty means the default path.
    pub fn new(log_file_path: &str) -> Logger {
        let mut files = Vec::new();
        let mut syslog = false;
        for item in log_file_path.split(':').map(str::trim) {
            match item {
                "syslog" => syslog = true,
                "" => {}
                t => files.push(t.to_string()),
            }
        }
        if files.is_empty() && !syslog {
            files.push(DEFAULT_LOG_FILE_PATH.to_string());
        }
        Logger { files, syslog, millisec: false, lock: Mutex::new(()) }
    }

    /// `log_selector = +millisec`: time stamps with milliseconds.
    pub fn with_millisec(mut self, on: bool) -> Logger {
        self.millisec = on;
        self
    }

    /// A logger that writes nothing (for `-bh`).
    pub fn none() -> Logger {
        Logger { files: Vec::new(), syslog: false, millisec: false, lock: Mutex::new(()) }
    }

    /// The file a log's lines go to today.
    pub fn path_of(template: &str, name: &str) -> String {
        let date = chrono::Local::now().format("%Y%m%d").to_string();
        template.replace("%s", name).replace("%D", &date)
    }

    /// Write a line; text after `REJECT_DETAIL` goes to the reject log only.
    pub fn write(&self, targets: Targets, text: &str) {
        let format = if self.millisec { "%Y-%m-%d %H:%M:%S%.3f" } else { "%Y-%m-%d %H:%M:%S" };
        let stamp = chrono::Local::now().format(format);
        let (head, detail) = text.split_once(REJECT_DETAIL).unwrap_or((text, ""));
        let line = format!("{stamp} {head}\n");
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        for (wanted, name) in [(targets.main, "main"), (targets.reject, "reject"), (targets.panic, "panic")] {
            if !wanted {
                continue;
            }
            let entry = if name == "reject" && !detail.is_empty() {
                let nl = if detail.ends_with('\n') { "" } else { "\n" };
                format!("{line}{detail}{nl}")
            } else {
                line.clone()
            };
            for t in &self.files {
                append(&Self::path_of(t, name), &entry);
            }
            if self.syslog {
                let full = format!("{head}\n{detail}");
                to_syslog(name, if name == "reject" && !detail.is_empty() { &full } else { head });
            }
        }
    }
}

fn append(path: &str, line: &str) {
    // Exim creates the log directory when it is missing.
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            let _ = std::fs::create_dir_all(dir);
        }
    }
    let f = std::fs::OpenOptions::new().create(true).append(true).open(path);
    if let Ok(mut f) = f {
        // One write call, so concurrent processes do not interleave lines.
        let _ = f.write_all(line.as_bytes());
    }
}

fn to_syslog(name: &str, text: &str) {
    let priority = match name {
        "panic" => libc::LOG_ALERT,
        "reject" => libc::LOG_NOTICE,
        _ => libc::LOG_INFO,
    };
    let Ok(msg) = std::ffi::CString::new(text.replace('\0', "?")) else { return };
    // SAFETY: the format and message are NUL-terminated strings we own.
    unsafe {
        libc::openlog(c"exim".as_ptr(), libc::LOG_PID, libc::LOG_MAIL);
        libc::syslog(priority, c"%s".as_ptr(), msg.as_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_main_and_reject() {
        let dir = std::env::temp_dir().join(format!("rexim-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let l = Logger::new(&format!("{}/%slog", dir.display()));
        l.write(Targets::REJECT, "rejected x");
        l.write(Targets::MAIN, "hello");
        let main = std::fs::read_to_string(dir.join("mainlog")).unwrap();
        let rej = std::fs::read_to_string(dir.join("rejectlog")).unwrap();
        assert!(main.ends_with(" rejected x\n") == false && main.contains(" rejected x\n") && main.ends_with(" hello\n"));
        assert_eq!(rej.lines().count(), 1);
        assert_eq!(&main[4..5], "-");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reject_detail_goes_to_the_reject_log_only() {
        let dir = std::env::temp_dir().join(format!("rexim-log-detail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let l = Logger::new(&format!("{}/%slog", dir.display()));
        l.write(Targets::REJECT, &format!("id rejected after DATA{REJECT_DETAIL}Envelope-from: <a@b>\nP Received: x\n"));
        l.write(Targets::MAIN, "Warning: two\n lines");
        let main = std::fs::read_to_string(dir.join("mainlog")).unwrap();
        let rej = std::fs::read_to_string(dir.join("rejectlog")).unwrap();
        assert_eq!(main.lines().count(), 3, "{main}");
        assert!(main.contains(" id rejected after DATA\n") && main.ends_with(" lines\n"));
        assert!(rej.ends_with(" id rejected after DATA\nEnvelope-from: <a@b>\nP Received: x\n"), "{rej}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
