//! Exim's log files: main, reject and panic logs written where
//! `log_file_path` says (`%s` is the log's name, `%D` the date), and/or to
//! syslog, with Exim's time-stamped line format.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
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
    /// The log files open now, by template and log name, so a line costs
    /// a stat and a write, not an open (which takes the directory's lock).
    open: Mutex<HashMap<(usize, &'static str), OpenLog>>,
}

/// A log file kept open, and which file it is: when the path names
/// another file (rotated by exicyclog) or none, it is opened again, as
/// Exim does.
struct OpenLog {
    path: String,
    file: std::fs::File,
    dev: u64,
    ino: u64,
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
        Logger { files, syslog, millisec: false, open: Mutex::new(HashMap::new()) }
    }

    /// `log_selector = +millisec`: time stamps with milliseconds.
    pub fn with_millisec(mut self, on: bool) -> Logger {
        self.millisec = on;
        self
    }

    /// A logger that writes nothing (for `-bh`).
    pub fn none() -> Logger {
        Logger { files: Vec::new(), syslog: false, millisec: false, open: Mutex::new(HashMap::new()) }
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
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
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
            for (i, t) in self.files.iter().enumerate() {
                append(&mut open, (i, name), &Self::path_of(t, name), &entry);
            }
            if self.syslog {
                let full = format!("{head}\n{detail}");
                to_syslog(name, if name == "reject" && !detail.is_empty() { &full } else { head });
            }
        }
    }
}

fn append(open: &mut HashMap<(usize, &'static str), OpenLog>, key: (usize, &'static str), path: &str, line: &str) {
    let now = std::fs::metadata(path).ok();
    if let (Some(m), Some(o)) = (&now, open.get_mut(&key)) {
        if o.path == path && o.dev == m.dev() && o.ino == m.ino() {
            // One write call, so concurrent processes do not interleave lines.
            let _ = o.file.write_all(&crate::bytes::to_bytes(line));
            return;
        }
    }
    open.remove(&key);
    // Exim creates the log directory when it is missing.
    if now.is_none() {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                let _ = std::fs::create_dir_all(dir);
            }
        }
    }
    let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) else { return };
    let _ = file.write_all(&crate::bytes::to_bytes(line));
    if let Ok(m) = file.metadata() {
        open.insert(key, OpenLog { path: path.to_string(), file, dev: m.dev(), ino: m.ino() });
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

    #[test]
    fn a_rotated_or_removed_log_is_opened_again() {
        let dir = std::env::temp_dir().join(format!("rexim-log-rotate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let l = Logger::new(&format!("{}/%slog", dir.display()));
        l.write(Targets::MAIN, "one");
        std::fs::rename(dir.join("mainlog"), dir.join("mainlog.1")).unwrap();
        l.write(Targets::MAIN, "two");
        assert!(std::fs::read_to_string(dir.join("mainlog.1")).unwrap().ends_with(" one\n"));
        assert!(std::fs::read_to_string(dir.join("mainlog")).unwrap().ends_with(" two\n"));
        std::fs::remove_dir_all(&dir).unwrap();
        l.write(Targets::MAIN, "three");
        assert!(std::fs::read_to_string(dir.join("mainlog")).unwrap().ends_with(" three\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
