//! Exim's host_name_lookup(): the name of a client from its address. The
//! PTR records give candidate names (lower-cased); each is kept only if a
//! forward lookup of it gives the address back. The first name kept is
//! `$sender_host_name`, the others its aliases.

use super::{reverse_name, DnsResult, DnsType, RecordData, Resolver};
use std::net::IpAddr;

/// The outcome, as Exim's OK / FAIL / DEFER with its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostLookup {
    /// Verified names, the host name first.
    Found(Vec<String>),
    /// `$host_lookup_failed`. `no_ptr`: there was no PTR record at all
    /// (Exim logs "no host name found for IP address ..." then); else no
    /// name pointed back to the address.
    Failed { no_ptr: bool },
    /// `$host_lookup_deferred`: a temporary DNS failure.
    Deferred,
}

/// Look up the names of `ip` with the forward check.
pub fn host_name_lookup(resolver: &dyn Resolver, ip: IpAddr) -> HostLookup {
    host_name_lookup_traced(resolver, ip, None)
}

/// The same, with Exim's debug trace of it (lines without `>>> `): the
/// names the PTR records gave, then each name's addresses, the one that
/// matches the client marked OK.
pub fn host_name_lookup_traced(resolver: &dyn Resolver, ip: IpAddr, mut trace: Option<&mut dyn FnMut(&str)>) -> HostLookup {
    let names: Vec<String> = match resolver.lookup(&reverse_name(ip), DnsType::Ptr) {
        DnsResult::Found { records, .. } => records
            .into_iter()
            .filter_map(|r| match r.data {
                RecordData::Ptr(n) => Some(n.trim_end_matches('.').to_ascii_lowercase()),
                _ => None,
            })
            .filter(|n| !n.is_empty())
            .collect(),
        DnsResult::Again => return HostLookup::Deferred,
        _ => Vec::new(),
    };
    if names.is_empty() {
        return HostLookup::Failed { no_ptr: true };
    }
    if let Some(t) = trace.as_mut() {
        t(&format!("IP address lookup yielded \"{}\"", names[0]));
        for alias in &names[1..] {
            t(&format!("  alias \"{alias}\""));
        }
    }
    let ip = ip.to_canonical();
    let mut verified = Vec::new();
    for name in names {
        if let Some(t) = trace.as_mut() {
            t(&format!("checking addresses for {name}"));
        }
        match resolver.host_addresses(&name) {
            Ok(addrs) if !addrs.is_empty() => {
                let mut ok = false;
                for a in addrs.iter().filter(|a| a.is_ipv6()).chain(addrs.iter().filter(|a| a.is_ipv4())) {
                    ok = a.to_canonical() == ip;
                    if let Some(t) = trace.as_mut() {
                        t(&format!("  {a}{}", if ok { " OK" } else { "" }));
                    }
                    if ok {
                        break;
                    }
                }
                if ok {
                    if !verified.contains(&name) {
                        verified.push(name);
                    }
                } else if let Some(t) = trace.as_mut() {
                    t(&format!("no IP address for {name} matched {ip}"));
                }
            }
            Ok(_) => {
                if let Some(t) = trace.as_mut() {
                    t(&format!("no IP addresses found for {name}"));
                }
            }
            Err(_) => {
                // Exim gives up on the first temporary error.
                if let Some(t) = trace.as_mut() {
                    t("temporary error for host name lookup");
                }
                return HostLookup::Deferred;
            }
        }
    }
    if verified.is_empty() {
        HostLookup::Failed { no_ptr: false }
    } else {
        HostLookup::Found(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fake::FakeResolver;

    fn zones() -> FakeResolver {
        let mut r = FakeResolver::default();
        r.add_zone(
            "test.ex",
            "ten-1 A 10.0.0.1\nten-99 A 10.0.0.99\nbadA A 10.99.99.99\nbadB A 10.99.99.98\nx.gov.uk A 10.99.99.97\nx.co.uk A 10.99.99.97\n",
        );
        r.add_zone(
            "10.in-addr.arpa",
            "1.0.0 PTR ten-1.test.ex.\n99.0.0 PTR ten-99.TEST.EX.\n98.0.0 PTR noforward.test.ex.\n\
             99.99.99 PTR badB.test.ex.\n97.99.99 PTR x.gov.uk.test.ex.\n97.99.99 PTR x.co.uk.test.ex.\n\
             96.99.99 PTR x.test.again.dns.\n",
        );
        r
    }

    fn lookup(ip: &str) -> HostLookup {
        host_name_lookup(&zones(), ip.parse().expect("address"))
    }

    #[test]
    fn traced_as_exim() {
        let mut lines = Vec::new();
        let found = host_name_lookup_traced(&zones(), "10.0.0.98".parse().expect("address"), Some(&mut |l: &str| lines.push(l.to_string())));
        assert_eq!(found, HostLookup::Failed { no_ptr: false });
        assert_eq!(lines, ["IP address lookup yielded \"noforward.test.ex\"", "checking addresses for noforward.test.ex", "no IP addresses found for noforward.test.ex"]);
        lines.clear();
        let found = host_name_lookup_traced(&zones(), "10.99.99.97".parse().expect("address"), Some(&mut |l: &str| lines.push(l.to_string())));
        assert_eq!(found, HostLookup::Found(vec!["x.gov.uk.test.ex".into(), "x.co.uk.test.ex".into()]));
        assert_eq!(lines[..2], ["IP address lookup yielded \"x.gov.uk.test.ex\"", "  alias \"x.co.uk.test.ex\""]);
        assert_eq!(lines[2..4], ["checking addresses for x.gov.uk.test.ex", "  10.99.99.97 OK"]);
    }

    #[test]
    fn names_with_forward_check() {
        assert_eq!(lookup("10.0.0.1"), HostLookup::Found(vec!["ten-1.test.ex".into()]));
        assert_eq!(lookup("10.0.0.99"), HostLookup::Found(vec!["ten-99.test.ex".into()]));
        assert_eq!(lookup("10.99.99.97"), HostLookup::Found(vec!["x.gov.uk.test.ex".into(), "x.co.uk.test.ex".into()]));
        assert_eq!(lookup("10.11.12.13"), HostLookup::Failed { no_ptr: true });
        assert_eq!(lookup("10.0.0.98"), HostLookup::Failed { no_ptr: false });
        assert_eq!(lookup("10.99.99.99"), HostLookup::Failed { no_ptr: false });
        assert_eq!(lookup("10.99.99.96"), HostLookup::Deferred);
    }
}
