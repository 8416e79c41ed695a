//! Exim 4.96 message ids: `TTTTTT-PPPPPP-FF`, base 62 time, process id,
//! and the fraction of the second in units of 5 ms.

use std::sync::Mutex;

pub const MESSAGE_ID_LENGTH: usize = 16;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Exim's id_resolution for base-62 ids without localhost_number.
const RESOLUTION_USEC: u32 = 5000;

/// `value` in base 62, the last `width` digits.
pub fn base62(mut value: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// True for a string in the shape of a message id.
pub fn is_message_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == MESSAGE_ID_LENGTH
        && b[6] == b'-'
        && b[13] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 6 || i == 13 || c.is_ascii_alphanumeric())
}

/// Hands out ids. Exim gets uniqueness from one process per message and
/// waiting for the clock to tick; one daemon process receives many
/// messages at once, so ids are also kept strictly increasing here.
pub struct IdGenerator {
    last: Mutex<(u64, u32)>,
    pid: u32,
}

impl Default for IdGenerator {
    fn default() -> Self {
        IdGenerator { last: Mutex::new((0, 0)), pid: std::process::id() }
    }
}

impl IdGenerator {
    /// A new id for a message received at `time` (seconds, microseconds).
    pub fn next(&self, time: (u64, u32)) -> String {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let mut t = (time.0, time.1 / RESOLUTION_USEC);
        if t <= *last {
            t = (last.0, last.1 + 1);
            if t.1 >= 1_000_000 / RESOLUTION_USEC {
                t = (t.0 + 1, 0);
            }
        }
        *last = t;
        format!("{}-{}-{}", base62(t.0, 6), base62(self.pid as u64, 6), base62(t.1 as u64, 2))
    }
}

/// The current time as Exim keeps it.
pub fn now() -> (u64, u32) {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_exim() {
        // Recorded from Exim 4.96: 1xUz7r-0005vN-0X at 1795321467.166041, pid 22777.
        assert_eq!(base62(1795321467, 6), "1xUz7r");
        assert_eq!(base62(22777, 6), "0005vN");
        let g = IdGenerator { last: Mutex::new((0, 0)), pid: 22777 };
        assert_eq!(g.next((1795321467, 166041)), "1xUz7r-0005vN-0X");
        assert_eq!(g.next((1795321467, 166041)), "1xUz7r-0005vN-0Y");
        assert!(is_message_id("1xUz7r-0005vN-0X"));
        assert!(!is_message_id("1xUz7r-0005vN-0"));
    }
}
