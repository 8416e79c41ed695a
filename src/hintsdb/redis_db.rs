//! Hints in Redis, so that several rexim servers share one ratelimit per
//! client. Keys are "rexim:DB:KEY". Updates use WATCH/MULTI/EXEC and
//! retry when another server changed the key meanwhile. Connect, read and
//! write time out after `timeout`, so a Redis that is down gives an error
//! (the ACL defers) and never a hang.

use super::{Change, HintsDb, HintsError};
use std::time::Duration;

pub struct RedisDb {
    client: redis::Client,
    conn: Option<redis::Connection>,
    timeout: Duration,
}

/// WATCH conflicts tolerated before giving up (and deferring).
const MAX_RETRIES: u64 = 100;

impl RedisDb {
    /// `url` as redis://host:port/db.
    pub fn new(url: &str, timeout: Duration) -> Result<RedisDb, HintsError> {
        let client = redis::Client::open(url).map_err(|e| HintsError(format!("bad redis URL \"{url}\": {e}")))?;
        Ok(RedisDb { client, conn: None, timeout })
    }

    fn conn(&mut self) -> Result<&mut redis::Connection, HintsError> {
        if self.conn.is_none() {
            let c = self.client.get_connection_with_timeout(self.timeout).map_err(|e| HintsError(format!("redis connection failed: {e}")))?;
            c.set_read_timeout(Some(self.timeout)).map_err(|e| HintsError(format!("redis: {e}")))?;
            c.set_write_timeout(Some(self.timeout)).map_err(|e| HintsError(format!("redis: {e}")))?;
            self.conn = Some(c);
        }
        Ok(self.conn.as_mut().expect("just set"))
    }

    fn try_update(&mut self, k: &str, change: &mut Change) -> Result<bool, redis::RedisError> {
        let con = self.conn().map_err(|e| redis::RedisError::from((redis::ErrorKind::IoError, "connect", e.0)))?;
        redis::cmd("WATCH").arg(k).query::<()>(con)?;
        let old: Option<Vec<u8>> = redis::cmd("GET").arg(k).query(con)?;
        let Some(new) = change(old.as_deref()) else {
            redis::cmd("UNWATCH").query::<()>(con)?;
            return Ok(true);
        };
        let res: Option<Vec<redis::Value>> = redis::pipe().atomic().cmd("SET").arg(k).arg(new).ignore().query(con)?;
        Ok(res.is_some())
    }
}

impl HintsDb for RedisDb {
    fn update(&mut self, db: &str, key: &str, change: &mut Change) -> Result<(), HintsError> {
        let k = format!("rexim:{db}:{key}");
        for attempt in 0..MAX_RETRIES {
            match self.try_update(&k, change) {
                Ok(true) => return Ok(()),
                // Another server changed the record: back off a little,
                // differently in each process, so the two do not collide
                // again and again.
                Ok(false) => std::thread::sleep(std::time::Duration::from_micros(
                    (attempt + 1) * (50 + u64::from(std::process::id() % 97)),
                )),
                Err(e) => {
                    self.conn = None;
                    return Err(HintsError(format!("redis {db} database: {e}")));
                }
            }
        }
        Err(HintsError(format!("redis {db} database: too many concurrent updates of \"{key}\"")))
    }
}
