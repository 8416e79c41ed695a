//! One file per database in spool/db (`ratelimit`, `seen`...), guarded
//! by an exclusive flock on `NAME.lockfile` for the whole
//! read-modify-write. The file is a journal: one record per line, the key
//! and the value hex-encoded and separated by a space (any bytes are
//! safe), the last line of a key wins. An update appends one line; the
//! process keeps the records it has read and where it stopped, so it
//! reads only what other processes appended since. When the file holds
//! many dead lines it is compacted: the live records are written to a
//! temporary file that is renamed into place, which the other readers
//! notice by the file's new inode. A line without its newline (a write
//! cut by a crash) is ignored.

use super::{Change, HintsDb, HintsError};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// Compact when the dead lines exceed the live records by this many.
const COMPACT_SLACK: usize = 1000;

pub struct FileDb {
    dir: PathBuf,
}

/// The journals read by this process, by file path: shared by every
/// session's `FileDb`, so a database is held in memory once per process.
fn journals() -> &'static Mutex<HashMap<PathBuf, Journal>> {
    static JOURNALS: OnceLock<Mutex<HashMap<PathBuf, Journal>>> = OnceLock::new();
    JOURNALS.get_or_init(Default::default)
}

/// What this process has read of one database's file.
#[derive(Default)]
struct Journal {
    records: HashMap<Vec<u8>, Vec<u8>>,
    /// The file (inode) and how far it has been read.
    ino: u64,
    offset: u64,
    /// Lines read or written, live or dead.
    lines: usize,
    /// The last byte read was not a newline (a torn line).
    torn: bool,
}

impl FileDb {
    /// `dir` is the spool directory's `db` subdirectory; it is created
    /// when missing.
    pub fn new(dir: impl Into<PathBuf>) -> FileDb {
        FileDb { dir: dir.into() }
    }

    fn lock(&self, db: &str) -> Result<File, HintsError> {
        fs::create_dir_all(&self.dir).map_err(|e| HintsError(format!("failed to create {}: {e}", self.dir.display())))?;
        let path = self.dir.join(format!("{db}.lockfile"));
        let f = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path).map_err(|e| HintsError(format!("failed to open {db} database lock file {}: {e}", path.display())))?;
        // SAFETY: flock on a file descriptor we own; blocking is bounded
        // by the other holders' short critical sections.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(HintsError(format!("failed to lock {db} database: {}", std::io::Error::last_os_error())));
        }
        Ok(f)
    }

    /// Bring `j` up to date with the file (under the lock): what was
    /// appended since, or all of it when the file was replaced.
    fn catch_up(file: &mut File, j: &mut Journal) -> std::io::Result<()> {
        let meta = file.metadata()?;
        if meta.ino() != j.ino || meta.len() < j.offset {
            *j = Journal { ino: meta.ino(), ..Journal::default() };
        }
        if meta.len() == j.offset {
            return Ok(());
        }
        file.seek(SeekFrom::Start(j.offset))?;
        let mut new = Vec::with_capacity((meta.len() - j.offset) as usize);
        file.read_to_end(&mut new)?;
        j.offset += new.len() as u64;
        j.torn = new.last() != Some(&b'\n');
        let complete = if j.torn { new.split(|&b| b == b'\n').count() - 1 } else { usize::MAX };
        for line in new.split(|&b| b == b'\n').take(complete) {
            if line.is_empty() {
                continue;
            }
            j.lines += 1;
            let Ok(line) = std::str::from_utf8(line) else { continue };
            if let Some((k, v)) = line.split_once(' ') {
                if let (Some(k), Some(v)) = (unhex(k), unhex(v)) {
                    j.records.insert(k, v);
                }
            }
        }
        Ok(())
    }

    /// Rewrite the file with the live records only (under the lock).
    fn compact(&self, db: &str, j: &mut Journal) -> std::io::Result<()> {
        let path = self.dir.join(db);
        let tmp = self.dir.join(format!("{db}.tmp{}", std::process::id()));
        let mut out = Vec::new();
        for (k, v) in &j.records {
            record(&mut out, k, v);
        }
        let mut f = File::create(&tmp)?;
        f.write_all(&out)?;
        fs::rename(&tmp, &path)?;
        let meta = f.metadata()?;
        let records = std::mem::take(&mut j.records);
        *j = Journal { lines: records.len(), records, ino: meta.ino(), offset: meta.len(), torn: false };
        Ok(())
    }
}

impl HintsDb for FileDb {
    fn update(&mut self, db: &str, key: &str, change: &mut Change) -> Result<(), HintsError> {
        let _lock = self.lock(db)?;
        let failed = |e: std::io::Error| HintsError(format!("failed to update {db} database: {e}"));
        let path = self.dir.join(db);
        let mut file = OpenOptions::new().create(true).read(true).append(true).open(&path).map_err(failed)?;
        // The flock orders processes and threads alike; the mutex only
        // guards the map, for as long as this update holds the lock.
        let mut all = journals().lock().unwrap_or_else(|e| e.into_inner());
        let mut j = all.remove(&path).unwrap_or_default();
        let result = (|| {
            Self::catch_up(&mut file, &mut j)?;
            let Some(new) = change(j.records.get(key.as_bytes()).map(Vec::as_slice)) else { return Ok(()) };
            let mut line = Vec::new();
            if j.torn {
                // A cut line stays invalid ("!" is not hex), and ours
                // starts on a line of its own.
                line.extend_from_slice(b"!\n");
            }
            record(&mut line, key.as_bytes(), &new);
            file.write_all(&line)?;
            j.offset += line.len() as u64;
            j.torn = false;
            j.lines += 1;
            j.records.insert(key.as_bytes().to_vec(), new);
            if j.lines > 2 * j.records.len() + COMPACT_SLACK {
                self.compact(db, &mut j)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                all.insert(path, j);
                Ok(())
            }
            Err(e) => Err(failed(e)),
        }
    }
}

/// One journal line: hex key, a space, hex value, a newline.
fn record(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    out.extend_from_slice(hex(k).as_bytes());
    out.push(b' ');
    out.extend_from_slice(hex(v).as_bytes());
    out.push(b'\n');
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopen_and_concurrent_writers() {
        let dir = std::env::temp_dir().join(format!("rexim-hintsdb-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let mut db = FileDb::new(&dir);
                    for _ in 0..25 {
                        db.update("count", "k", &mut |old| {
                            let n: u32 = old.and_then(|b| std::str::from_utf8(b).ok()?.parse().ok()).unwrap_or(0);
                            Some((n + 1).to_string().into_bytes())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let mut db = FileDb::new(&dir);
        assert_eq!(db.read("count", "k").unwrap(), Some(b"100".to_vec()));
        let _ = fs::remove_dir_all(&dir);
    }

    fn set(db: &mut FileDb, key: &str, value: &str) {
        db.update("t", key, &mut |_| Some(value.as_bytes().to_vec())).unwrap();
    }

    fn get(db: &mut FileDb, key: &str) -> Option<String> {
        db.read("t", key).unwrap().map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn journal_compacts_and_other_writers_see_it() {
        let dir = std::env::temp_dir().join(format!("rexim-hintsdb-c-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (mut a, mut b) = (FileDb::new(&dir), FileDb::new(&dir));
        set(&mut b, "other", "1");
        for i in 0..3000 {
            set(&mut a, &format!("k{}", i % 10), &i.to_string());
        }
        // Compacted: far fewer lines than updates, the last values kept.
        let lines = fs::read_to_string(dir.join("t")).unwrap().lines().count();
        assert!(lines < 1100, "{lines} lines");
        assert_eq!(get(&mut a, "k9").as_deref(), Some("2999"));
        // b read the file before a replaced it: it reloads.
        assert_eq!(get(&mut b, "k0").as_deref(), Some("2990"));
        assert_eq!(get(&mut b, "other").as_deref(), Some("1"));
        set(&mut b, "k0", "b");
        assert_eq!(get(&mut a, "k0").as_deref(), Some("b"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_replaced_by_another_process_is_read_again() {
        let dir = std::env::temp_dir().join(format!("rexim-hintsdb-r-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut db = FileDb::new(&dir);
        set(&mut db, "a", "1");
        set(&mut db, "b", "2");
        // Another process compacts: a new file, renamed into place.
        let mut text = Vec::new();
        record(&mut text, b"a", b"9");
        fs::write(dir.join("t.new"), &text).unwrap();
        fs::rename(dir.join("t.new"), dir.join("t")).unwrap();
        assert_eq!(get(&mut db, "a").as_deref(), Some("9"));
        assert_eq!(get(&mut db, "b"), None);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let dir = std::env::temp_dir().join(format!("rexim-hintsdb-t-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut text = Vec::new();
        record(&mut text, b"a", b"1");
        text.extend_from_slice(b"62 31"); // "b" without its newline
        fs::write(dir.join("t"), &text).unwrap();
        let mut db = FileDb::new(&dir);
        assert_eq!(get(&mut db, "a").as_deref(), Some("1"));
        assert_eq!(get(&mut db, "b"), None);
        set(&mut db, "c", "3");
        let mut fresh = FileDb::new(&dir);
        assert_eq!(get(&mut fresh, "c").as_deref(), Some("3"));
        assert_eq!(get(&mut fresh, "b"), None);
        let _ = fs::remove_dir_all(&dir);
    }
}
