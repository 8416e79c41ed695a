//! A resolver answering from zone files in the format of Exim's testsuite
//! (test/dnszones-src after substitution, as its fakens program reads them).
//!
//! Each file `db.ZONE` in the directory holds one zone. `db.ip4.N` is the
//! zone N.in-addr.arpa (N reversed by octet), `db.ip6.H` the zone for the
//! hex digits H reversed by nibble under ip6.arpa. A line is
//! `[prefixes] name TYPE data`; a line starting with white space continues
//! the previous name; owner names without a trailing dot are relative to the
//! zone (names in record data are used as written, as fakens does); `;`
//! starts a comment. Prefixes: DNSSEC (answer is authenticated),
//! AA, TTL=n, DELAY=n (ignored), NXDOMAIN (the record exists but the name
//! is answered as non-existent). The names test.again.dns and test.fail.dns
//! give a temporary and a permanent failure, as in fakens. A name in no
//! zone is not found (the fake never passes queries on to the real DNS).

use super::{DnsResult, DnsType, Record, RecordData, Resolver};
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

#[derive(Clone, Debug)]
struct FakeRecord {
    record: Record,
    dnssec: bool,
    nxdomain: bool,
}

/// Answers from zone files loaded once at construction.
#[derive(Default, Debug)]
pub struct FakeResolver {
    /// Lower-cased owner name -> records.
    records: HashMap<String, Vec<FakeRecord>>,
    /// Zone names (lower case), to tell "no such name" in a zone we serve.
    zones: Vec<String>,
    /// A zone directory with no zones stands for a machine with no DNS
    /// server to reach: every query fails temporarily, as real Exim's do
    /// when a testsuite without zones is recorded in a loopback-only
    /// network.
    unreachable: bool,
}

fn zone_of_file(file: &str) -> Option<String> {
    let z = file.strip_prefix("db.")?;
    if let Some(n) = z.strip_prefix("ip4.") {
        let mut parts: Vec<&str> = n.split('.').collect();
        parts.reverse();
        return Some(format!("{}.in-addr.arpa", parts.join(".")));
    }
    if let Some(h) = z.strip_prefix("ip6.") {
        let mut s = String::new();
        for c in h.chars().rev().filter(|c| c.is_ascii_hexdigit()) {
            s.push(c);
            s.push('.');
        }
        return Some(format!("{s}ip6.arpa"));
    }
    Some(z.to_string())
}

fn qualify(name: &str, zone: &str) -> String {
    if let Some(abs) = name.strip_suffix('.') {
        abs.to_ascii_lowercase()
    } else if name == "@" {
        zone.to_string()
    } else {
        format!("{}.{}", name, zone).to_ascii_lowercase()
    }
}

/// The quoted strings of a TXT record, or the unquoted rest of the line.
fn txt_strings(data: &str) -> Vec<Vec<u8>> {
    let data = data.trim();
    if !data.starts_with('"') {
        return vec![data.as_bytes().to_vec()];
    }
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut inq = false;
    let mut chars = data.bytes().peekable();
    while let Some(c) = chars.next() {
        match c {
            b'"' if inq => {
                out.push(std::mem::take(&mut cur));
                inq = false;
            }
            b'"' => inq = true,
            b'\\' if inq => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            _ if inq => cur.push(c),
            _ => {}
        }
    }
    if inq {
        out.push(cur);
    }
    out
}

/// Names in record data are taken as written, less a trailing dot (fakens
/// does not qualify them: "hostmaster.exim.test.ex" in an SOA stays so,
/// as Exim's test 2200 shows).
fn data_name(name: &str, _zone: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

fn parse_data(rtype: DnsType, data: &str, zone: &str) -> Option<RecordData> {
    let qualify = data_name;
    let f: Vec<&str> = data.split_whitespace().collect();
    Some(match rtype {
        DnsType::A => RecordData::A(f.first()?.parse::<Ipv4Addr>().ok()?),
        DnsType::Aaaa => RecordData::Aaaa(f.first()?.parse::<Ipv6Addr>().ok()?),
        DnsType::Cname => RecordData::Cname(qualify(f.first()?, zone)),
        DnsType::Ns => RecordData::Ns(qualify(f.first()?, zone)),
        DnsType::Ptr => RecordData::Ptr(qualify(f.first()?, zone)),
        DnsType::Mx => RecordData::Mx { preference: f.first()?.parse().ok()?, exchange: qualify(f.get(1)?, zone) },
        DnsType::Txt | DnsType::Spf => RecordData::Txt(txt_strings(data)),
        DnsType::Soa => RecordData::Soa {
            mname: qualify(f.first()?, zone),
            rname: qualify(f.get(1)?, zone),
            serial: f.get(2).and_then(|v| v.parse().ok()).unwrap_or(0),
            refresh: f.get(3).and_then(|v| v.parse().ok()).unwrap_or(0),
            retry: f.get(4).and_then(|v| v.parse().ok()).unwrap_or(0),
            expire: f.get(5).and_then(|v| v.parse().ok()).unwrap_or(0),
            minimum: f.get(6).and_then(|v| v.parse().ok()).unwrap_or(0),
        },
        DnsType::Srv => RecordData::Srv {
            priority: f.first()?.parse().ok()?,
            weight: f.get(1)?.parse().ok()?,
            port: f.get(2)?.parse().ok()?,
            target: qualify(f.get(3)?, zone),
        },
        DnsType::Tlsa => {
            let hex: String = f.get(3..)?.concat();
            let data = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .ok()?;
            RecordData::Tlsa { usage: f.first()?.parse().ok()?, selector: f.get(1)?.parse().ok()?, mtype: f.get(2)?.parse().ok()?, data }
        }
    })
}

impl FakeResolver {
    /// Load every `db.*` file of `dir`. Unreadable files and bad lines are
    /// skipped: the fake serves what it can, like fakens.
    pub fn from_dir(dir: &Path) -> Self {
        let mut r = FakeResolver { unreachable: true, ..Default::default() };
        let Ok(entries) = std::fs::read_dir(dir) else { return r };
        let mut files: Vec<_> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        for f in files {
            let Some(zone) = zone_of_file(&f) else { continue };
            if let Ok(text) = std::fs::read_to_string(dir.join(&f)) {
                r.add_zone(&zone, &text);
            }
        }
        r.unreachable = r.zones.is_empty();
        r
    }

    /// Add the records of one zone file's text.
    pub fn add_zone(&mut self, zone: &str, text: &str) {
        let zone = zone.to_ascii_lowercase();
        self.zones.push(zone.clone());
        let mut last_name: Option<String> = None;
        for line in text.lines() {
            let body = match line.find(';') {
                // A ';' inside a quoted TXT string is data, not a comment.
                Some(i) if line[..i].matches('"').count() % 2 == 0 => &line[..i],
                _ => line,
            };
            if body.trim().is_empty() {
                continue;
            }
            let continued = body.starts_with(' ') || body.starts_with('\t');
            let mut words = body.split_whitespace().peekable();
            let (mut dnssec, mut nxdomain, mut ttl) = (false, false, 3600u32);
            while let Some(w) = words.peek() {
                if *w == "DNSSEC" {
                    dnssec = true;
                } else if *w == "NXDOMAIN" {
                    nxdomain = true;
                } else if *w == "AA" || w.starts_with("DELAY=") {
                } else if let Some(t) = w.strip_prefix("TTL=") {
                    ttl = t.parse().unwrap_or(ttl);
                } else {
                    break;
                }
                words.next();
            }
            let name = if continued {
                match &last_name {
                    Some(n) => n.clone(),
                    None => continue,
                }
            } else {
                match words.next() {
                    Some(n) => qualify(n, &zone),
                    None => continue,
                }
            };
            last_name = Some(name.clone());
            let Some(tname) = words.next() else { continue };
            let Some(rtype) = DnsType::from_name(tname) else { continue };
            // The data is the rest of the line after the type word.
            let after = body.find(tname).map(|i| &body[i + tname.len()..]).unwrap_or("");
            let Some(data) = parse_data(rtype, after, &zone) else { continue };
            self.records.entry(name.clone()).or_default().push(FakeRecord {
                record: Record { name, ttl, data },
                dnssec,
                nxdomain,
            });
        }
    }

    /// Records for a name, trying a `*.` wildcard one label up.
    fn owner(&self, name: &str) -> Option<&Vec<FakeRecord>> {
        self.records.get(name).or_else(|| {
            let (_, parent) = name.split_once('.')?;
            self.records.get(&format!("*.{parent}"))
        })
    }
}

impl Resolver for FakeResolver {
    fn lookup(&self, name: &str, rtype: DnsType) -> DnsResult {
        if self.unreachable {
            return DnsResult::Again;
        }
        let mut name = name.trim_end_matches('.').to_ascii_lowercase();
        if name == "test.again.dns" || name.ends_with(".test.again.dns") {
            return DnsResult::Again;
        }
        if name == "test.fail.dns" || name.ends_with(".test.fail.dns") {
            return DnsResult::Fail;
        }
        let mut authenticated = true;
        // Follow CNAMEs (bounded, as a resolver would).
        for _ in 0..10 {
            // Names in no zone are not found either: the fake never passes
            // a query on to the real DNS.
            let Some(recs) = self.owner(&name) else { return DnsResult::NoMatch };
            if recs.iter().any(|r| r.nxdomain) {
                return DnsResult::NoMatch;
            }
            let wanted: Vec<&FakeRecord> = recs.iter().filter(|r| r.record.data_type() == rtype).collect();
            if !wanted.is_empty() {
                authenticated &= wanted.iter().all(|r| r.dnssec);
                let records = wanted
                    .into_iter()
                    .map(|r| Record { name: name.clone(), ..r.record.clone() })
                    .collect();
                return DnsResult::Found { records, authenticated };
            }
            match recs.iter().find(|r| matches!(r.record.data, RecordData::Cname(_))) {
                Some(FakeRecord { record: Record { data: RecordData::Cname(target), .. }, dnssec, .. }) if rtype != DnsType::Cname => {
                    authenticated &= *dnssec;
                    name = target.clone();
                }
                _ => return DnsResult::NoData,
            }
        }
        DnsResult::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FakeResolver {
        let mut r = FakeResolver::default();
        r.add_zone(
            "test.ex",
            "; comment\n\
             test.ex.   TXT  \"A TXT record for test.ex.\"\n\
             mx1        MX   10 ten-1.test.ex.\n\
             \x20          MX   20 ten-2.test.ex.\n\
             ten-1      A    10.0.0.1\n\
             DNSSEC TTL=2 sec A 10.0.0.2\n\
             cname      CNAME ten-1.test.ex.\n\
             NXDOMAIN gone. A 127.0.0.1\n\
             double\tTXT\tv=spf1 -all\n",
        );
        r.add_zone("0.0.10.in-addr.arpa", "1  PTR ten-1.test.ex.\n*.9 PTR wild.test.ex.\n");
        r
    }

    #[test]
    fn answers_from_zone_text() {
        let r = sample();
        match r.lookup("mx1.test.ex", DnsType::Mx) {
            DnsResult::Found { records, authenticated } => {
                assert!(!authenticated);
                assert_eq!(records.len(), 2);
                assert_eq!(records[0].data, RecordData::Mx { preference: 10, exchange: "ten-1.test.ex".into() });
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.lookup("mx1.test.ex", DnsType::A), DnsResult::NoData);
        assert_eq!(r.lookup("nope.test.ex", DnsType::A), DnsResult::NoMatch);
        assert_eq!(r.lookup("gone", DnsType::A), DnsResult::NoMatch);
        assert_eq!(r.lookup("x.test.again.dns", DnsType::A), DnsResult::Again);
        assert_eq!(r.lookup("test.fail.dns", DnsType::A), DnsResult::Fail);
        match r.lookup("sec.test.ex", DnsType::A) {
            DnsResult::Found { records, authenticated } => {
                assert!(authenticated);
                assert_eq!(records[0].ttl, 2);
            }
            other => panic!("{other:?}"),
        }
        match r.lookup("test.ex", DnsType::Txt) {
            DnsResult::Found { records, .. } => assert_eq!(records[0].data, RecordData::Txt(vec![b"A TXT record for test.ex.".to_vec()])),
            other => panic!("{other:?}"),
        }
        match r.lookup("double.test.ex", DnsType::Txt) {
            DnsResult::Found { records, .. } => assert_eq!(records[0].data, RecordData::Txt(vec![b"v=spf1 -all".to_vec()])),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cname_wildcard_and_reverse() {
        let r = sample();
        match r.lookup("cname.test.ex", DnsType::A) {
            DnsResult::Found { records, .. } => assert_eq!(records[0].data, RecordData::A(Ipv4Addr::new(10, 0, 0, 1))),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.host_names("10.0.0.1".parse().unwrap()).unwrap(), vec!["ten-1.test.ex".to_string()]);
        match r.lookup("7.9.0.0.10.in-addr.arpa", DnsType::Ptr) {
            DnsResult::Found { records, .. } => assert_eq!(records[0].data, RecordData::Ptr("wild.test.ex".into())),
            other => panic!("{other:?}"),
        }
        assert_eq!(zone_of_file("db.ip4.10.0"), Some("0.10.in-addr.arpa".into()));
        assert_eq!(zone_of_file("db.ip6.0"), Some("0.ip6.arpa".into()));
    }
}
