//! The resolver interface: every DNS question rexim asks goes through the
//! `Resolver` trait, so that tests can answer from Exim-testsuite-style zone
//! files (`fake.rs`, selected by REXIM_FAKE_DNS) and production uses the
//! system resolver (`system.rs`, libresolv's res_query()).

pub mod fake;
pub mod host_lookup;
pub mod message;
pub mod system;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The record types rexim asks for (Exim's T_* values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    Soa,
    Ptr,
    Mx,
    Txt,
    Aaaa,
    Srv,
    Tlsa,
    Spf,
}

/// Sorted by name, like Exim's table of dnsdb type names.
const TYPE_NAMES: &[(&str, DnsType, u16)] = &[
    ("a", DnsType::A, 1),
    ("aaaa", DnsType::Aaaa, 28),
    ("cname", DnsType::Cname, 5),
    ("mx", DnsType::Mx, 15),
    ("ns", DnsType::Ns, 2),
    ("ptr", DnsType::Ptr, 12),
    ("soa", DnsType::Soa, 6),
    ("spf", DnsType::Spf, 99),
    ("srv", DnsType::Srv, 33),
    ("tlsa", DnsType::Tlsa, 52),
    ("txt", DnsType::Txt, 16),
];

impl DnsType {
    /// Look a type up by its (case-insensitive) name.
    pub fn from_name(name: &str) -> Option<DnsType> {
        let lc = name.to_ascii_lowercase();
        TYPE_NAMES
            .binary_search_by(|(n, _, _)| n.cmp(&lc.as_str()))
            .ok()
            .map(|i| TYPE_NAMES[i].1)
    }

    pub fn code(self) -> u16 {
        TYPE_NAMES.iter().find(|(_, t, _)| *t == self).map(|e| e.2).unwrap_or(0)
    }

    pub fn from_code(code: u16) -> Option<DnsType> {
        TYPE_NAMES.iter().find(|e| e.2 == code).map(|e| e.1)
    }

    pub fn name(self) -> &'static str {
        TYPE_NAMES.iter().find(|(_, t, _)| *t == self).map(|e| e.0).unwrap_or("?")
    }
}

/// The data of one resource record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Ns(String),
    Ptr(String),
    Mx { preference: u16, exchange: String },
    /// The character-strings of a TXT (or SPF) record.
    Txt(Vec<Vec<u8>>),
    Soa { mname: String, rname: String, serial: u32, refresh: u32, retry: u32, expire: u32, minimum: u32 },
    Srv { priority: u16, weight: u16, port: u16, target: String },
    Tlsa { usage: u8, selector: u8, mtype: u8, data: Vec<u8> },
}

/// One answer record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub ttl: u32,
    pub data: RecordData,
}

impl Record {
    /// The type of this record's data.
    pub fn data_type(&self) -> DnsType {
        match self.data {
            RecordData::A(_) => DnsType::A,
            RecordData::Aaaa(_) => DnsType::Aaaa,
            RecordData::Cname(_) => DnsType::Cname,
            RecordData::Ns(_) => DnsType::Ns,
            RecordData::Ptr(_) => DnsType::Ptr,
            RecordData::Mx { .. } => DnsType::Mx,
            RecordData::Txt(_) => DnsType::Txt,
            RecordData::Soa { .. } => DnsType::Soa,
            RecordData::Srv { .. } => DnsType::Srv,
            RecordData::Tlsa { .. } => DnsType::Tlsa,
        }
    }
}

/// Exim's dns_lookup() outcomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsResult {
    /// DNS_SUCCEED: the records of the asked type (after CNAMEs), and
    /// whether the answer was DNSSEC-authenticated.
    Found { records: Vec<Record>, authenticated: bool },
    /// DNS_NOMATCH: the name does not exist.
    NoMatch,
    /// DNS_NODATA: the name exists but has no record of that type.
    NoData,
    /// DNS_AGAIN: temporary failure.
    Again,
    /// DNS_FAIL: permanent server failure.
    Fail,
}

/// Everything the rest of rexim may ask the DNS.
pub trait Resolver: Send + Sync {
    /// Look up records of one type for a fully qualified name.
    fn lookup(&self, name: &str, rtype: DnsType) -> DnsResult;

    /// Exim's `byaddr` host name lookup (gethostbyaddr): the names for an
    /// address, or the h_errno of the failure; `None` where there is no
    /// such lookup (the testsuite's zone files, as Exim's test harness).
    fn names_by_address(&self, _ip: IpAddr) -> Option<Result<Vec<String>, i32>> {
        None
    }

    /// Forward lookup of a host name (A then AAAA), as Exim's
    /// host_find_byname() does in host lists. Ok(empty) means not found.
    fn host_addresses(&self, name: &str) -> Result<Vec<IpAddr>, DnsResult> {
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        // Exim asks the system (gethostbyname2), which answers localhost
        // from /etc/hosts without the DNS; its test harness does the same.
        if name.eq_ignore_ascii_case("localhost") {
            return Ok(vec![IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)]);
        }
        let mut out = Vec::new();
        let mut again = false;
        for t in [DnsType::A, DnsType::Aaaa] {
            match self.lookup(name, t) {
                DnsResult::Found { records, .. } => {
                    for r in records {
                        match r.data {
                            RecordData::A(a) => out.push(IpAddr::V4(a)),
                            RecordData::Aaaa(a) => out.push(IpAddr::V6(a)),
                            _ => {}
                        }
                    }
                }
                DnsResult::Again => again = true,
                _ => {}
            }
        }
        if out.is_empty() && again {
            return Err(DnsResult::Again);
        }
        Ok(out)
    }

    /// Reverse lookup of an address, with the forward check Exim does
    /// (host_name_lookup()): only names whose addresses include `ip` are
    /// kept. Err(Again) for a temporary failure.
    fn host_names(&self, ip: IpAddr) -> Result<Vec<String>, DnsResult> {
        let ptrs = match self.lookup(&reverse_name(ip), DnsType::Ptr) {
            DnsResult::Found { records, .. } => records,
            DnsResult::Again => return Err(DnsResult::Again),
            _ => return Ok(Vec::new()),
        };
        let mut names = Vec::new();
        for r in ptrs {
            if let RecordData::Ptr(n) = r.data {
                if let Ok(addrs) = self.host_addresses(&n) {
                    if addrs.contains(&ip) {
                        names.push(n);
                    }
                }
            }
        }
        Ok(names)
    }
}

/// The in-addr.arpa / ip6.arpa name for an address.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut s = String::new();
            for b in a.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

/// The resolver for this process: the fake one when REXIM_FAKE_DNS names a
/// directory of zone files (the test-mode switch), else the system one.
pub fn default_resolver() -> Arc<dyn Resolver> {
    match std::env::var_os("REXIM_FAKE_DNS") {
        Some(dir) if !dir.is_empty() => Arc::new(fake::FakeResolver::from_dir(std::path::Path::new(&dir))),
        _ => Arc::new(system::SystemResolver::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_table_is_sorted_and_found() {
        assert!(TYPE_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(DnsType::from_name("MX"), Some(DnsType::Mx));
        assert_eq!(DnsType::from_name("mxh"), None);
        assert_eq!(DnsType::Aaaa.code(), 28);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(reverse_name("1.2.3.4".parse().unwrap()), "4.3.2.1.in-addr.arpa");
        assert!(reverse_name("::1".parse().unwrap()).starts_with("1.0.0.0."));
        assert!(reverse_name("::1".parse().unwrap()).ends_with(".0.ip6.arpa"));
    }
}
