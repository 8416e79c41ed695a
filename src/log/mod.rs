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
    files: std::sync::Arc<LogFiles>,
    millisec: bool,
    /// The daemon's log thread: lines are time-stamped by the caller and
    /// written there, so no session waits for a log file's lock (a write
    /// to a file can wait behind the journal's commit) while others could
    /// be served.
    background: Option<Background>,
    /// `-bs`: panic log lines go to standard error too, as Exim's do.
    panic_to_stderr: bool,
}

/// The log files and how to reach them.
struct LogFiles {
    files: Vec<String>,
    syslog: bool,
    /// The log files open now, by template and log name, so a line costs
    /// a stat and a write, not an open (which takes the directory's lock).
    open: Mutex<HashMap<(usize, &'static str), OpenLog>>,
}

/// What the log thread is given, in order.
enum LogJob {
    Line(Targets, String),
    /// Answered once every line given before it is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

struct Background {
    tx: std::sync::mpsc::Sender<LogJob>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Logger {
    /// Lines still queued are written before the logger goes.
    fn drop(&mut self) {
        if let Some(mut b) = self.background.take() {
            drop(b.tx);
            if let Some(t) = b.thread.take() {
                let _ = t.join();
            }
        }
    }
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
        Logger::with_files(LogFiles { files, syslog, open: Mutex::new(HashMap::new()) })
    }

    fn with_files(files: LogFiles) -> Logger {
        Logger { files: std::sync::Arc::new(files), millisec: false, background: None, panic_to_stderr: false }
    }

    /// `log_selector = +millisec`: time stamps with milliseconds.
    pub fn with_millisec(mut self, on: bool) -> Logger {
        self.millisec = on;
        self
    }

    /// Copy panic log lines to standard error (`-bs`).
    pub fn set_panic_to_stderr(&mut self, on: bool) {
        self.panic_to_stderr = on;
    }

    /// Write from a thread of the logger's own (the daemon); `flush` tells
    /// when what was written so far is in the files. Without the thread
    /// (it could not be started) lines are written at once.
    pub fn in_background(mut self) -> Logger {
        let (tx, rx) = std::sync::mpsc::channel::<LogJob>();
        let files = self.files.clone();
        let spawned = std::thread::Builder::new().name("log-writer".into()).spawn(move || {
            for job in rx {
                match job {
                    LogJob::Line(targets, line) => files.write_line(targets, &line),
                    LogJob::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        if let Ok(thread) = spawned {
            self.background = Some(Background { tx, thread: Some(thread) });
        }
        self
    }

    /// A logger that writes nothing (for `-bh`).
    pub fn none() -> Logger {
        Logger::with_files(LogFiles { files: Vec::new(), syslog: false, open: Mutex::new(HashMap::new()) })
    }

    /// The file a log's lines go to today.
    pub fn path_of(template: &str, name: &str) -> String {
        let date = chrono::Local::now().format("%Y%m%d").to_string();
        template.replace("%s", name).replace("%D", &date)
    }

    /// Write a line; text after `REJECT_DETAIL` goes to the reject log only.
    pub fn write(&self, targets: Targets, text: &str) {
        let format = if self.millisec { "%Y-%m-%d %H:%M:%S%.3f" } else { "%Y-%m-%d %H:%M:%S" };
        let line = format!("{} {text}", chrono::Local::now().format(format));
        if targets.panic && self.panic_to_stderr {
            let shown = format!("{}\n", line.split(REJECT_DETAIL).next().unwrap_or(""));
            let _ = std::io::Write::write_all(&mut std::io::stderr(), &crate::bytes::to_bytes(&shown));
        }
        if let Some(b) = &self.background {
            match b.tx.send(LogJob::Line(targets, line)) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError(job)) => {
                    if let LogJob::Line(targets, line) = job {
                        self.files.write_line(targets, &line);
                    }
                    return;
                }
            }
        }
        self.files.write_line(targets, &line);
    }

    /// Resolves when every line written before is in its file: the daemon
    /// waits for it before a reply that follows a log line (Exim logs an
    /// arrival before it answers the final dot).
    pub fn flush(&self) -> Option<tokio::sync::oneshot::Receiver<()>> {
        let b = self.background.as_ref()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        b.tx.send(LogJob::Flush(tx)).ok()?;
        Some(rx)
    }
}

impl LogFiles {
    /// A time-stamped line to each log it is for.
    fn write_line(&self, targets: Targets, stamped: &str) {
        let (head, detail) = stamped.split_once(REJECT_DETAIL).unwrap_or((stamped, ""));
        let line = format!("{head}\n");
        // Syslog adds its own time stamp.
        let unstamped = head.split_once(' ').and_then(|(_, rest)| rest.split_once(' ')).map_or(head, |(_, rest)| rest);
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
                append(&mut open, (i, name), &Logger::path_of(t, name), &entry);
            }
            if self.syslog {
                let full = format!("{unstamped}\n{detail}");
                to_syslog(name, if name == "reject" && !detail.is_empty() { &full } else { unstamped });
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

    #[test]
    fn the_log_thread_keeps_the_order_and_answers_a_flush_after_the_lines() {
        let dir = std::env::temp_dir().join(format!("rexim-log-thread-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let l = Logger::new(&format!("{}/%slog", dir.display())).in_background();
        for i in 0..500 {
            l.write(Targets::MAIN, &format!("line {i}"));
        }
        l.flush().expect("a log thread").blocking_recv().unwrap();
        let main = std::fs::read_to_string(dir.join("mainlog")).unwrap();
        let numbers: Vec<usize> = main.lines().map(|s| s.rsplit(' ').next().unwrap().parse().unwrap()).collect();
        assert_eq!(numbers, (0..500).collect::<Vec<_>>());
        l.write(Targets::MAIN, "last");
        // Dropping the logger writes what is still queued.
        drop(l);
        assert!(std::fs::read_to_string(dir.join("mainlog")).unwrap().ends_with(" last\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
