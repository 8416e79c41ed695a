//! Hints databases (Exim's spool/db/*): small key/value stores that
//! survive restarts and are shared by concurrent sessions. Records are
//! changed with `update`, a read-modify-write done under the database's
//! lock, so concurrent sessions never lose each other's updates.
//!
//! `FileDb` keeps each database in one file under spool/db with an
//! exclusive `flock` on a lock file (as Exim's dbfn does); `RedisDb`
//! keeps them in Redis so several servers share one state (a rexim
//! extension); `MemoryDb` is for tests.

mod file;
mod redis_db;

pub use file::FileDb;
pub use redis_db::RedisDb;

use std::collections::HashMap;

/// Why a hints database could not be used (the text goes in the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintsError(pub String);

impl std::fmt::Display for HintsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HintsError {}

/// The change function gets the old record (None if absent) and returns
/// the new one, or None to leave the record as it is.
pub type Change<'a> = dyn FnMut(Option<&[u8]>) -> Option<Vec<u8>> + 'a;

pub trait HintsDb {
    fn update(&mut self, db: &str, key: &str, change: &mut Change) -> Result<(), HintsError>;

    fn read(&mut self, db: &str, key: &str) -> Result<Option<Vec<u8>>, HintsError> {
        let mut out = None;
        self.update(db, key, &mut |old| {
            out = old.map(<[u8]>::to_vec);
            None
        })?;
        Ok(out)
    }
}

/// In-process store.
#[derive(Debug, Default)]
pub struct MemoryDb {
    data: HashMap<String, HashMap<String, Vec<u8>>>,
}

impl HintsDb for MemoryDb {
    fn update(&mut self, db: &str, key: &str, change: &mut Change) -> Result<(), HintsError> {
        let table = match self.data.get_mut(db) {
            Some(t) => t,
            None => self.data.entry(db.to_string()).or_default(),
        };
        match table.get_mut(key) {
            Some(old) => {
                if let Some(new) = change(Some(old)) {
                    *old = new;
                }
            }
            None => {
                if let Some(new) = change(None) {
                    table.insert(key.to_string(), new);
                }
            }
        }
        Ok(())
    }
}
