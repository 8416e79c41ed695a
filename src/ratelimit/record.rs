//! The stored form of a rate: time, rate and the start of the unique set
//! as little-endian f64s, then the `unique=` values, one per line.

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Seconds since the epoch of the last update.
    pub time: f64,
    pub rate: f64,
    /// `unique=` values seen since `unique_epoch`.
    pub unique: Vec<String>,
    pub unique_epoch: f64,
}

impl Record {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(24 + self.unique.iter().map(|u| u.len() + 1).sum::<usize>());
        b.extend_from_slice(&self.time.to_le_bytes());
        b.extend_from_slice(&self.rate.to_le_bytes());
        b.extend_from_slice(&self.unique_epoch.to_le_bytes());
        for u in &self.unique {
            b.extend_from_slice(u.replace('\n', " ").as_bytes());
            b.push(b'\n');
        }
        b
    }

    pub fn decode(b: &[u8]) -> Option<Record> {
        let f = |i: usize| Some(f64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?));
        let (time, rate, unique_epoch) = (f(0)?, f(8)?, f(16)?);
        let unique = std::str::from_utf8(&b[24..]).ok()?.split('\n').filter(|l| !l.is_empty()).map(str::to_string).collect();
        Some(Record { time, rate, unique, unique_epoch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = Record { time: 1.5, rate: 2.25, unique: vec!["a@b".into(), "c".into()], unique_epoch: 1.0 };
        assert_eq!(Record::decode(&r.encode()), Some(r));
        assert_eq!(Record::decode(b"short"), None);
    }
}
