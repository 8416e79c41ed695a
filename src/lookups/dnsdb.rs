//! dnsdb: DNS records as lookup data, through the resolver interface
//! (Exim's lookups/dnsdb.c). Query syntax:
//! `[>S[,F|;]] [modifier,]... [type=]domain-list`.

use super::{Lookup, LookupEnv, LookupKind, LookupOutcome, Lookups};
use crate::dns::{reverse_name, DnsResult, DnsType, RecordData};
use crate::lists::iter::{ListIter, ListSep};
use std::net::IpAddr;

pub struct Dnsdb;

/// dnsdb's record types, including its pseudo-types; sorted by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QType {
    Real(DnsType),
    Addresses,
    Csa,
    Mxh,
    Zns,
}

const TYPES: &[(&str, QType)] = &[
    ("a", QType::Real(DnsType::A)),
    ("a+", QType::Addresses),
    ("aaaa", QType::Real(DnsType::Aaaa)),
    ("cname", QType::Real(DnsType::Cname)),
    ("csa", QType::Csa),
    ("mx", QType::Real(DnsType::Mx)),
    ("mxh", QType::Mxh),
    ("ns", QType::Real(DnsType::Ns)),
    ("ptr", QType::Real(DnsType::Ptr)),
    ("soa", QType::Real(DnsType::Soa)),
    ("spf", QType::Real(DnsType::Spf)),
    ("srv", QType::Real(DnsType::Srv)),
    ("tlsa", QType::Real(DnsType::Tlsa)),
    ("txt", QType::Real(DnsType::Txt)),
    ("zns", QType::Zns),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Lax,
    Never,
}

fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// `strict`, `lax` or `never` after `defer_` or `dnssec_`.
fn mode_word(r: &str) -> Option<(Mode, &str)> {
    [("strict", Mode::Strict), ("lax", Mode::Lax), ("never", Mode::Never)]
        .into_iter()
        .find_map(|(word, m)| strip_ci(r, word).map(|rest| (m, rest)))
}

/// Parse the modifiers; returns (defer mode, dnssec mode, rest).
fn modifiers(mut q: &str) -> Result<(Mode, Mode, &str), String> {
    let (mut defer, mut dnssec) = (Mode::Lax, Mode::Lax);
    loop {
        if let Some(r) = strip_ci(q, "defer_") {
            let (m, r) = mode_word(r).ok_or("unsupported dnsdb defer behaviour")?;
            defer = m;
            q = r;
        } else if let Some(r) = strip_ci(q, "dnssec_") {
            let (m, r) = mode_word(r).ok_or("unsupported dnsdb dnssec behaviour")?;
            dnssec = m;
            q = r;
        } else if let Some(r) = strip_ci(q, "retrans_") {
            // The time-out is the resolver's business; syntax is checked.
            let n = r.find(|c: char| c == ',' || c.is_whitespace()).unwrap_or(r.len());
            if n == 0 || !r[..n].bytes().all(|c| c.is_ascii_alphanumeric()) {
                return Err("unsupported dnsdb timeout value".into());
            }
            q = &r[n..];
        } else if let Some(r) = strip_ci(q, "retry_") {
            let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            if n == 0 {
                return Err("unsupported dnsdb retry count".into());
            }
            q = &r[n..];
        } else {
            return Ok((defer, dnssec, q));
        }
        q = q.trim_start();
        match q.strip_prefix(',') {
            Some(r) => q = r.trim_start(),
            None => return Err("dnsdb modifier syntax error".into()),
        }
    }
}

fn format_record(data: &RecordData, qtype: QType, fsep: Option<&str>, out: &mut String) {
    let f = fsep.unwrap_or(" ");
    match data {
        RecordData::A(a) => out.push_str(&a.to_string()),
        RecordData::Aaaa(a) => out.push_str(&a.to_string()),
        RecordData::Cname(n) | RecordData::Ns(n) | RecordData::Ptr(n) => out.push_str(n),
        RecordData::Mx { preference, exchange } => {
            if qtype != QType::Mxh {
                out.push_str(&format!("{preference}{}", first(f)));
            }
            out.push_str(exchange);
        }
        RecordData::Srv { priority, weight, port, target } => {
            let c = first(f);
            out.push_str(&format!("{priority}{c}{weight}{c}{port}{c}{target}"));
        }
        RecordData::Soa { mname, rname, serial, refresh, retry, expire, minimum } => {
            out.push_str(mname);
            if let Some(fs) = fsep {
                let c = first(fs);
                out.push_str(&format!("{c}{rname}{c}{serial}{c}{refresh}{c}{retry}{c}{expire}{c}{minimum}"));
            }
        }
        RecordData::Tlsa { usage, selector, mtype, data } => {
            let c = first(f);
            out.push_str(&format!("{usage}{c}{selector}{c}{mtype}{c}"));
            for b in data {
                out.push_str(&format!("{b:02x}"));
            }
        }
        RecordData::Txt(parts) => match fsep {
            None => out.push_str(&String::from_utf8_lossy(parts.first().map(|p| p.as_slice()).unwrap_or(b""))),
            Some(fs) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(fs);
                    }
                    out.push_str(&String::from_utf8_lossy(p));
                }
            }
        },
    }
}

/// The first character of a separator string ("" gives nothing).
fn first(s: &str) -> String {
    s.chars().next().map(String::from).unwrap_or_default()
}

impl Lookup for Dnsdb {
    fn name(&self) -> &'static str {
        "dnsdb"
    }
    fn kind(&self) -> LookupKind {
        LookupKind::QueryStyle
    }
    fn find(&self, lookups: &mut Lookups, _file: &str, query: &str, _opts: &[(String, String)], _env: &mut dyn LookupEnv) -> LookupOutcome {
        let mut q = query.trim_start();
        let mut outsep = "\n".to_string();
        let mut fsep: Option<String> = None;
        if let Some(r) = q.strip_prefix('>') {
            let mut it = r.chars();
            if let Some(c) = it.next() {
                outsep = c.to_string();
            }
            let r = it.as_str();
            q = if let Some(r2) = r.strip_prefix(',') {
                let mut it = r2.chars();
                fsep = Some(it.next().map(String::from).unwrap_or_default());
                it.as_str()
            } else if let Some(r2) = r.strip_prefix(';') {
                fsep = Some(String::new());
                r2
            } else {
                r
            };
            q = q.trim_start();
        }
        let (defer_mode, dnssec_mode, rest) = match modifiers(q) {
            Ok(x) => x,
            Err(m) => return LookupOutcome::Defer(m),
        };
        q = rest;
        let mut qtype = QType::Real(DnsType::Txt);
        if let Some(eq) = q.find('=') {
            let tname = q[..eq].trim_end().to_ascii_lowercase();
            match TYPES.iter().find(|(n, _)| *n == tname) {
                Some((_, t)) => qtype = *t,
                None => return LookupOutcome::Defer("unsupported DNS record type".into()),
            }
            q = q[eq + 1..].trim_start();
        }
        if qtype == QType::Csa {
            return LookupOutcome::Defer("unsupported DNS record type".into());
        }
        if fsep.is_none() {
            fsep = match qtype {
                QType::Real(DnsType::Spf) => Some(String::new()),
                QType::Real(DnsType::Srv) | QType::Real(DnsType::Mx) | QType::Real(DnsType::Tlsa) => Some(" ".into()),
                _ => None,
            };
        }
        // A PTR query that is exactly one IP address is not a list (so
        // that IPv6 colons need no doubling).
        let single = qtype == QType::Real(DnsType::Ptr) && !q.starts_with('<') && q.parse::<IpAddr>().is_ok();
        let domains: Vec<String> = if single { vec![q.to_string()] } else { ListIter::new(q, ListSep::Default).collect() };
        let resolver = lookups.resolver();
        let mut out = String::new();
        let mut failrc = LookupOutcome::NotFound;
        for domain in domains {
            let name = if qtype == QType::Real(DnsType::Ptr) {
                domain.parse::<IpAddr>().map(reverse_name).unwrap_or(domain.clone())
            } else {
                domain.clone()
            };
            let searches: Vec<DnsType> = match qtype {
                QType::Addresses => vec![DnsType::Aaaa, DnsType::A],
                QType::Mxh => vec![DnsType::Mx],
                QType::Zns => vec![DnsType::Ns],
                QType::Real(t) => vec![t],
                QType::Csa => vec![],
            };
            for st in searches {
                let res = if qtype == QType::Zns || st == DnsType::Soa {
                    // Drop leading components until something is found.
                    let mut n = name.as_str();
                    loop {
                        let r = resolver.lookup(n, st);
                        match (&r, n.split_once('.')) {
                            (DnsResult::NoMatch | DnsResult::NoData, Some((_, parent))) => n = parent,
                            _ => break r,
                        }
                    }
                } else {
                    resolver.lookup(&name, st)
                };
                let (records, authenticated) = match res {
                    DnsResult::NoMatch | DnsResult::NoData => continue,
                    DnsResult::Found { records, authenticated } => (records, authenticated),
                    DnsResult::Again | DnsResult::Fail => (Vec::new(), false),
                };
                if records.is_empty() || (dnssec_mode == Mode::Strict && !authenticated) {
                    match defer_mode {
                        Mode::Strict => return LookupOutcome::Defer(String::new()),
                        Mode::Lax => failrc = LookupOutcome::Defer(String::new()),
                        Mode::Never => {}
                    }
                    continue;
                }
                for r in records.iter().filter(|r| r.data_type() == st || (st == DnsType::Spf && r.data_type() == DnsType::Txt)) {
                    if !out.is_empty() {
                        out.push_str(&outsep);
                    }
                    format_record(&r.data, qtype, fsep.as_deref(), &mut out);
                }
            }
        }
        if out.is_empty() {
            failrc
        } else {
            LookupOutcome::Found(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fake::FakeResolver;
    use crate::lookups::{LookupSpec, NoExpand};
    use std::sync::Arc;

    fn lookups() -> Lookups {
        let mut f = FakeResolver::default();
        f.add_zone(
            "test.ex",
            "test.ex. SOA exim.test.ex. hostmaster.exim.test.ex 1430683638 1200 120 604800 3000\n\
             test.ex. NS exim.test.ex.\n\
             mx1 MX 10 a.test.ex.\n    MX 20 b.test.ex.\n\
             a A 10.0.0.1\n  AAAA 1::2\n\
             t TXT \"one\" \"two\"\n\
             _smtp._tcp.srv SRV 1 3 99 a.test.ex.\n",
        );
        f.add_zone("0.0.10.in-addr.arpa", "1 PTR a.test.ex.\n");
        Lookups::new(Arc::new(f))
    }

    fn q(l: &mut Lookups, s: &str) -> LookupOutcome {
        let spec = LookupSpec::parse("dnsdb").unwrap();
        l.query(&spec, s, &mut NoExpand).outcome
    }

    fn found(s: &str) -> LookupOutcome {
        LookupOutcome::Found(s.into())
    }

    #[test]
    fn record_types() {
        let mut l = lookups();
        assert_eq!(q(&mut l, "mx=mx1.test.ex"), found("10 a.test.ex\n20 b.test.ex"));
        assert_eq!(q(&mut l, ">: mxh=mx1.test.ex"), found("a.test.ex:b.test.ex"));
        assert_eq!(q(&mut l, ">:,- mx=mx1.test.ex"), found("10-a.test.ex:20-b.test.ex"));
        assert_eq!(q(&mut l, "t.test.ex"), found("one"));
        assert_eq!(q(&mut l, ">\n; txt=t.test.ex"), found("onetwo"));
        assert_eq!(q(&mut l, ">\n,| txt=t.test.ex"), found("one|two"));
        assert_eq!(q(&mut l, "a+=a.test.ex"), found("1::2\n10.0.0.1"));
        assert_eq!(q(&mut l, "ptr=10.0.0.1"), found("a.test.ex"));
        assert_eq!(q(&mut l, "srv=_smtp._tcp.srv.test.ex"), found("1 3 99 a.test.ex"));
        assert_eq!(q(&mut l, "soa=x.y.test.ex"), found("exim.test.ex"));
        assert_eq!(q(&mut l, "zns=x.y.test.ex"), found("exim.test.ex"));
        assert_eq!(q(&mut l, "a=nope.test.ex:a.test.ex"), found("10.0.0.1"));
    }

    #[test]
    fn failures() {
        let mut l = lookups();
        assert_eq!(q(&mut l, "a=nope.test.ex"), LookupOutcome::NotFound);
        assert_eq!(q(&mut l, "a=test.again.dns"), LookupOutcome::Defer(String::new()));
        assert_eq!(q(&mut l, "defer_never,a=test.again.dns"), LookupOutcome::NotFound);
        assert_eq!(q(&mut l, "a=test.again.dns:a.test.ex"), found("10.0.0.1"));
        assert_eq!(q(&mut l, "defer_strict,a=test.again.dns:a.test.ex"), LookupOutcome::Defer(String::new()));
        assert_eq!(q(&mut l, "xx=a.test.ex"), LookupOutcome::Defer("unsupported DNS record type".into()));
        assert_eq!(q(&mut l, "defer_foo,a=a.test.ex"), LookupOutcome::Defer("unsupported dnsdb defer behaviour".into()));
        assert_eq!(q(&mut l, "defer_lax a=a.test.ex"), LookupOutcome::Defer("dnsdb modifier syntax error".into()));
        assert_eq!(q(&mut l, "dnssec_strict,a=a.test.ex"), LookupOutcome::Defer(String::new()));
    }
}

/// dnsdb against the zone files of Exim's own testsuite (read where they
/// lie, beside the repository: ../shared/exim-4.96/test, or the directory
/// named by REXIM_EXIM_TEST_DIR), with V4NET = 224 and V6NET = ff00 as
/// Exim's runtest substitutes them. Expected values are those of Exim's
/// tests 2200 and 2250 (stdout/2200, stdout/2250).
#[cfg(test)]
mod exim_2200 {
    use super::*;
    use crate::dns::fake::FakeResolver;
    use crate::lookups::{LookupSpec, NoExpand};
    use std::path::PathBuf;
    use std::sync::Arc;

    fn exim_test_dir() -> Option<PathBuf> {
        let d = match std::env::var_os("REXIM_EXIM_TEST_DIR") {
            Some(d) => PathBuf::from(d),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/exim-4.96/test"),
        };
        d.join("dnszones-src").is_dir().then_some(d)
    }

    fn resolver(dir: &std::path::Path) -> FakeResolver {
        let mut r = FakeResolver::default();
        for e in std::fs::read_dir(dir.join("dnszones-src")).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().replace("V4NET", "224").replace("V6NET", "ff00");
            let Some(zone) = name.strip_prefix("db.") else { continue };
            let zone = if let Some(n) = zone.strip_prefix("ip4.") {
                let mut p: Vec<&str> = n.split('.').collect();
                p.reverse();
                format!("{}.in-addr.arpa", p.join("."))
            } else if let Some(h) = zone.strip_prefix("ip6.") {
                let nibbles: Vec<String> = h.chars().rev().map(|c| c.to_string()).collect();
                format!("{}.ip6.arpa", nibbles.join("."))
            } else {
                zone.to_string()
            };
            let text = std::fs::read_to_string(e.path()).unwrap_or_default().replace("V4NET", "224").replace("V6NET", "ff00");
            r.add_zone(&zone, &text);
        }
        r
    }

    #[test]
    fn as_exim_test_2200() {
        let Some(dir) = exim_test_dir() else {
            eprintln!("Exim's testsuite data not found: exim_2200 not run");
            return;
        };
        let mut l = Lookups::new(Arc::new(resolver(&dir)));
        let spec = LookupSpec::parse("dnsdb").unwrap();
        let f = |s: &str| LookupOutcome::Found(s.to_string());
        let cases: Vec<(&str, LookupOutcome)> = vec![
            ("test.ex", f("A TXT record for test.ex.")),
            ("s/lash.test.ex", f("A TXT record for s/lash.test.ex.")),
            ("txt=test.ex", f("A TXT record for test.ex.")),
            ("a=black-1.test.ex", f("224.11.12.13")),
            ("xxx=test.ex", LookupOutcome::Defer("unsupported DNS record type".into())),
            ("a=localhost.test.ex", f("127.0.0.1")),
            ("cname=alias-eximtesthost.test.ex", f("eximtesthost.test.ex")),
            ("ns=test.ex", f("exim.test.ex")),
            ("zns=x.y.z.test.ex", f("exim.test.ex")),
            ("mx=mxt1.test.ex", f("5 eximtesthost.test.ex")),
            ("mx=mxt3.test.ex", f("5 not-exist.test.ex\n6 eximtesthost.test.ex")),
            ("mxh=mxt1.test.ex", f("eximtesthost.test.ex")),
            ("ptr=224.0.0.1", f("ten-1.test.ex")),
            ("ptr=ptr.test.ex", f("data.for.ptr.test.ex")),
            ("srv=_smtp._tcp.srv01.test.ex", f("0 0 25 ten-1.test.ex")),
            ("srv=_smtp._tcp.nosmtp.test.ex", f("0 0 0 ")),
            ("soa=test.ex", f("exim.test.ex")),
            (">:, soa=test.ex", f("exim.test.ex hostmaster.exim.test.ex 1430683638 1200 120 604800 3000")),
            ("a=ten-1.test.ex:ten-2.test.ex", f("224.0.0.1\n224.0.0.2")),
            ("a=ten-1.test.ex:test.again.dns:ten-2.test.ex", f("224.0.0.1\n224.0.0.2")),
            ("a=<|ten-1.test.ex|ten-2.test.ex", f("224.0.0.1\n224.0.0.2")),
            (">|mx=<;mxt1.test.ex;mxt2.test.ex", f("5 eximtesthost.test.ex|5 not-exist.test.ex")),
            (">|,:mx=<;mxt1.test.ex;mxt2.test.ex", f("5:eximtesthost.test.ex|5:not-exist.test.ex")),
            (">|mxh=<;mxt1.test.ex;mxt2.test.ex", f("eximtesthost.test.ex|not-exist.test.ex")),
            ("> 13.12.11.224.rbl.test.ex:13.12.11.224.rbl.test.ex", f("This is a test blacklisting message This is a test blacklisting message")),
            ("ptr=224.0.0.1:224.0.0.2", f("ten-1.test.ex\nten-2.test.ex")),
            (" a = ten-1.test.ex:badbad.test.ex", f("224.0.0.1")),
            (" a = <; badbad.test.ex ; badbad.test.ex", LookupOutcome::NotFound),
            ("a=test.again.dns:test.again.dns", LookupOutcome::Defer(String::new())),
            ("a=test.again.dns:ten-1.test.ex", f("224.0.0.1")),
            ("defer_lax,a=test.again.dns:ten-1.test.ex", f("224.0.0.1")),
            ("defer_never,a=test.again.dns:ten-1.test.ex", f("224.0.0.1")),
            ("defer_never,a=test.again.dns:test.again.dns", LookupOutcome::NotFound),
            ("defer_strict,a=test.again.dns:ten-1.test.ex", LookupOutcome::Defer(String::new())),
            // Test 2250 (IPv6).
            ("ptr=<;ff00:0:12:1:a00:20ff:fe86:a062", f("testptr-arpa.ipv6.test.ex")),
            ("ptr=ff00:0:12:1:a00:20ff:fe86:a062", f("testptr-arpa.ipv6.test.ex")),
            (">; a=46.test.ex", f("224.0.0.4")),
            (">; aaaa=46.test.ex", f("ff00:ffff:836f:a00:a:800:200a:c031")),
            (">; a+=46.test.ex", f("ff00:ffff:836f:a00:a:800:200a:c031;224.0.0.4")),
        ];
        for (q, want) in cases {
            assert_eq!(l.query(&spec, q, &mut NoExpand).outcome, want, "dnsdb{{{q}}}");
        }
    }
}
