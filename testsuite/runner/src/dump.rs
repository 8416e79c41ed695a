//! `dump NAME`: a hints database (spool/db/NAME) as Exim's `exim_dumpdb`
//! prints it, then sorted as runtest does before it goes to test-stdout.
//! Real Exim's databases are read by its own `exim_dumpdb`; rexim's
//! (src/hintsdb/file.rs: one "HEXKEY HEXVALUE" line per record) are read
//! here and printed in exim_dumpdb's formats.

use std::collections::BTreeMap;
use std::path::Path;

/// The line runtest writes before each dump.
pub const SEPARATOR: &str = "+++++++++++++++++++++++++++\n";

/// The database names exim_dumpdb knows (`wait-` takes a transport name).
pub fn known_name(name: &str) -> bool {
    matches!(name, "retry" | "misc" | "callout" | "ratelimit" | "tls" | "seen") || name.strip_prefix("wait-").is_some_and(|t| !t.is_empty())
}

/// exim_dumpdb's print_time(): "%d-%b-%Y %H:%M:%S" (the suite runs in UTC).
pub fn print_time(secs: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let rem = secs.rem_euclid(86400);
    format!("{:02}-{}-{:04} {:02}:{:02}:{:02}", d, MONTHS[(m - 1) as usize], y, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Year, month (1-12) and day of a count of days since 1970-01-01
/// (Howard Hinnant's civil_from_days).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

/// Print rexim's database `name` from `spool` as exim_dumpdb would.
/// Err: a database whose records rexim does not write in a known form.
pub fn rexim_dump(spool: &Path, name: &str) -> Result<String, String> {
    let dir = spool.join("db");
    let lock = dir.join(format!("{}.lockfile", name));
    if !lock.exists() {
        return Ok(format!("** Failed to open database lock file {}: No such file or directory\n", lock.display()));
    }
    let file = dir.join(name);
    let text = match std::fs::read(&file) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) => return Ok(format!("** Failed to open DBM file {} for reading:\n   {}\n", file.display(), os_message(&e))),
    };
    let mut records = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(' ') {
            if let (Some(k), Some(v)) = (unhex(k), unhex(v)) {
                records.insert(k, v);
            }
        }
    }
    let mut out = String::new();
    for (key, value) in &records {
        let key = String::from_utf8_lossy(key);
        match name {
            "seen" => {
                let t = std::str::from_utf8(value).ok().and_then(|s| s.trim().parse::<f64>().ok()).ok_or_else(|| format!("bad seen record for {}", key))?;
                out.push_str(&format!("{}\t{}\n", key, print_time(t as i64)));
            }
            "ratelimit" => {
                let f = |i: usize| value.get(i..i + 8).and_then(|b| b.try_into().ok()).map(f64::from_le_bytes);
                let (Some(time), Some(rate), Some(epoch)) = (f(0), f(8), f(16)) else {
                    return Err(format!("bad ratelimit record for {}", key));
                };
                let stamp = format!("{}.{:06}", print_time(time.floor() as i64), ((time - time.floor()) * 1e6) as u32);
                if key.contains("/unique/") {
                    // rexim keeps the unique values themselves, not Exim's
                    // Bloom filter: "size" is their count.
                    let count = value.get(24..).map(|u| u.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count()).unwrap_or(0);
                    out.push_str(&format!("{} rate: {:10.3} epoch: {} size: {} key: {}\n", stamp, rate, print_time(epoch as i64), count, key));
                } else {
                    out.push_str(&format!("{} rate: {:10.3} key: {}\n", stamp, rate, key));
                }
            }
            other => return Err(format!("rexim writes no {} records in a form the runner can print", other)),
        }
    }
    Ok(out)
}

fn os_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    // "No such file or directory (os error 2)" -> strerror()'s text.
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// runtest's handling of exim_dumpdb's output: the separator line, retry
/// records (a key line "  KEY ERRNO MORE TEXT" and a line of three times)
/// sorted by key, callout records sorted after their 21-character time
/// stamp; anything else as it is.
pub fn for_stdout(name: &str, raw: &str) -> String {
    let mut out = String::from(SEPARATOR);
    match name {
        "retry" => {
            let mut items: Vec<(String, String)> = Vec::new();
            let mut lines = raw.lines();
            while let Some(first) = lines.next() {
                let second = lines.next().unwrap_or("");
                items.push((first.trim_start().to_string(), second.trim_end().to_string()));
            }
            items.sort_by(|a, b| a.0.split_whitespace().next().cmp(&b.0.split_whitespace().next()));
            for (first, second) in items {
                out.push_str(&format!("  {}\n{}\n", first, second));
            }
        }
        "callout" => {
            let mut lines: Vec<&str> = raw.split_inclusive('\n').collect();
            lines.sort_by(|a, b| a.get(21..).unwrap_or("").cmp(b.get(21..).unwrap_or("")));
            out.extend(lines);
        }
        "seen" => {
            // Debian's Exim hands the records over in hash order; the
            // suite's expected files (and rexim's databases) have them
            // sorted by key.
            let mut lines: Vec<&str> = raw.split_inclusive('\n').collect();
            lines.sort();
            out.extend(lines);
        }
        _ => out.push_str(raw),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn times() {
        assert_eq!(print_time(952431712), "07-Mar-2000 12:21:52");
        assert_eq!(print_time(0), "01-Jan-1970 00:00:00");
    }

    #[test]
    fn names() {
        assert!(known_name("retry") && known_name("wait-smtp") && known_name("seen"));
        assert!(!known_name("wait-") && !known_name("foo"));
    }

    #[test]
    fn rexim_databases() {
        let spool = std::env::temp_dir().join(format!("rexim-dump-{}", std::process::id()));
        let db = spool.join("db");
        std::fs::create_dir_all(&db).unwrap();
        assert_eq!(rexim_dump(&spool, "retry").unwrap(), format!("** Failed to open database lock file {}/db/retry.lockfile: No such file or directory\n", spool.display()));
        std::fs::write(db.join("seen.lockfile"), "").unwrap();
        assert!(rexim_dump(&spool, "seen").unwrap().starts_with("** Failed to open DBM file"));
        std::fs::write(db.join("seen"), format!("{} {}\n{} {}\n", hex(b"127.0.0.1"), hex(b"952431712.5"), hex(b"10.0.0.1_foo"), hex(b"952431713"))).unwrap();
        assert_eq!(rexim_dump(&spool, "seen").unwrap(), "10.0.0.1_foo\t07-Mar-2000 12:21:53\n127.0.0.1\t07-Mar-2000 12:21:52\n");
        let mut rec = Vec::new();
        for f in [952431712.25f64, 3.5, 952431700.0] {
            rec.extend_from_slice(&f.to_le_bytes());
        }
        let mut uniq = rec.clone();
        uniq.extend_from_slice(b"a@b\nc@d\n");
        std::fs::write(db.join("ratelimit.lockfile"), "").unwrap();
        std::fs::write(db.join("ratelimit"), format!("{} {}\n{} {}\n", hex(b"1h/per_rcpt/unique/x"), hex(&uniq), hex(b"1h/per_conn/x"), hex(&rec))).unwrap();
        assert_eq!(
            rexim_dump(&spool, "ratelimit").unwrap(),
            "07-Mar-2000 12:21:52.250000 rate:      3.500 key: 1h/per_conn/x\n07-Mar-2000 12:21:52.250000 rate:      3.500 epoch: 07-Mar-2000 12:21:40 size: 2 key: 1h/per_rcpt/unique/x\n"
        );
        std::fs::write(db.join("misc.lockfile"), "").unwrap();
        std::fs::write(db.join("misc"), format!("{} {}\n", hex(b"k"), hex(b"v"))).unwrap();
        assert!(rexim_dump(&spool, "misc").is_err());
        std::fs::remove_dir_all(&spool).unwrap();
    }

    #[test]
    fn retry_records_sorted_by_key() {
        let raw = "  T:b.ex:1.2.3.4 111 65 Connection refused\n07-Mar-2000 12:21:52  07-Mar-2000 12:21:52  07-Mar-2000 12:41:52 \n  R:a.ex -1 0 not just now\n07-Mar-2000 12:21:52  07-Mar-2000 12:21:52  07-Mar-2000 12:21:52 *\n";
        assert_eq!(
            for_stdout("retry", raw),
            "+++++++++++++++++++++++++++\n  R:a.ex -1 0 not just now\n07-Mar-2000 12:21:52  07-Mar-2000 12:21:52  07-Mar-2000 12:21:52 *\n  T:b.ex:1.2.3.4 111 65 Connection refused\n07-Mar-2000 12:21:52  07-Mar-2000 12:21:52  07-Mar-2000 12:41:52\n"
        );
        assert_eq!(for_stdout("retry", ""), SEPARATOR);
    }

    #[test]
    fn callout_records_sorted_after_the_time() {
        let raw = "07-Mar-2000 12:21:59 b@x callout=accept\n07-Mar-2000 12:21:52 a@x callout=reject\n";
        assert_eq!(for_stdout("callout", raw), "+++++++++++++++++++++++++++\n07-Mar-2000 12:21:52 a@x callout=reject\n07-Mar-2000 12:21:59 b@x callout=accept\n");
        assert_eq!(for_stdout("seen", "x\t07-Mar-2000 12:21:52\nb\t07-Mar-2000 12:21:52\n"), "+++++++++++++++++++++++++++\nb\t07-Mar-2000 12:21:52\nx\t07-Mar-2000 12:21:52\n");
    }
}
