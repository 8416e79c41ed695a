//! One file per database in spool/db (`ratelimit`, `seen`...), guarded
//! by an exclusive flock on `NAME.lockfile` for the whole
//! read-modify-write. The file holds one record per line: the key and the
//! value, hex-encoded and separated by a space, so any bytes are safe.
//! The new contents are written to a temporary file and renamed into
//! place, so a crash never leaves a half-written database.

use super::{Change, HintsDb, HintsError};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;

pub struct FileDb {
    dir: PathBuf,
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

    fn load(&self, db: &str) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, HintsError> {
        let path = self.dir.join(db);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(HintsError(format!("failed to read {db} database: {e}"))),
        };
        let mut map = BTreeMap::new();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once(' ') {
                if let (Some(k), Some(v)) = (unhex(k), unhex(v)) {
                    map.insert(k, v);
                }
            }
        }
        Ok(map)
    }

    fn store(&self, db: &str, map: &BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), HintsError> {
        let path = self.dir.join(db);
        let tmp = self.dir.join(format!("{db}.tmp{}", std::process::id()));
        let mut out = String::new();
        for (k, v) in map {
            out.push_str(&hex(k));
            out.push(' ');
            out.push_str(&hex(v));
            out.push('\n');
        }
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(out.as_bytes())?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| HintsError(format!("failed to write {db} database: {e}")))
    }
}

impl HintsDb for FileDb {
    fn update(&mut self, db: &str, key: &str, change: &mut Change) -> Result<(), HintsError> {
        let _lock = self.lock(db)?;
        let mut map = self.load(db)?;
        if let Some(new) = change(map.get(key.as_bytes()).map(Vec::as_slice)) {
            map.insert(key.as_bytes().to_vec(), new);
            self.store(db, &map)?;
        }
        Ok(())
    }
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
}
