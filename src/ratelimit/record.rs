//! The stored form of a rate: "time rate epoch" and the unique values,
//! one per line (text, so the file database stays inspectable).

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
        let mut s = format!("{} {} {}\n", self.time, self.rate, self.unique_epoch);
        for u in &self.unique {
            s.push_str(&u.replace('\n', " "));
            s.push('\n');
        }
        s.into_bytes()
    }

    pub fn decode(b: &[u8]) -> Option<Record> {
        let s = std::str::from_utf8(b).ok()?;
        let mut lines = s.split('\n');
        let mut head = lines.next()?.split(' ');
        let time = head.next()?.parse().ok()?;
        let rate = head.next()?.parse().ok()?;
        let unique_epoch = head.next().and_then(|x| x.parse().ok()).unwrap_or(time);
        let unique = lines.filter(|l| !l.is_empty()).map(str::to_string).collect();
        Some(Record { time, rate, unique, unique_epoch })
    }
}
