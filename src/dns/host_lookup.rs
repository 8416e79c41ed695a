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

/// `host_lookup_order`'s default.
pub const DEFAULT_ORDER: &str = "bydns:byaddr";

/// Look up the names of `ip` with the forward check.
pub fn host_name_lookup(resolver: &dyn Resolver, ip: IpAddr) -> HostLookup {
    host_name_lookup_traced(resolver, ip, DEFAULT_ORDER, None)
}

/// The PTR records' names, lower-cased; `None` when the DNS deferred.
fn names_by_dns(resolver: &dyn Resolver, ip: IpAddr) -> Option<Vec<String>> {
    match resolver.lookup(&reverse_name(ip), DnsType::Ptr) {
        DnsResult::Found { records, .. } => Some(
            records
                .into_iter()
                .filter_map(|r| match r.data {
                    RecordData::Ptr(n) => Some(n.trim_end_matches('.').to_ascii_lowercase()),
                    _ => None,
                })
                .filter(|n| !n.is_empty())
                .collect(),
        ),
        DnsResult::Again => None,
        _ => Some(Vec::new()),
    }
}

/// The forward check's lookup: the DNS only (Exim's host_find_bydns), so
/// `localhost` from /etc/hosts is not found; `Err` for a temporary error.
fn dns_addresses(resolver: &dyn Resolver, name: &str) -> Result<Vec<IpAddr>, ()> {
    let mut out = Vec::new();
    for t in [DnsType::A, DnsType::Aaaa] {
        match resolver.lookup(name, t) {
            DnsResult::Found { records, .. } => out.extend(records.into_iter().filter_map(|r| match r.data {
                RecordData::A(a) => Some(IpAddr::V4(a)),
                RecordData::Aaaa(a) => Some(IpAddr::V6(a)),
                _ => None,
            })),
            DnsResult::Again => return Err(()),
            _ => {}
        }
    }
    Ok(out)
}

/// The same, with Exim's debug trace of it (lines without `>>> `): the
/// names the PTR records (or gethostbyaddr) gave, then each name's
/// addresses, the one that matches the client marked OK. `order` is
/// `host_lookup_order`: `bydns` and `byaddr` tried in turn until one
/// gives a name.
pub fn host_name_lookup_traced(resolver: &dyn Resolver, ip: IpAddr, order: &str, mut trace: Option<&mut dyn FnMut(&str)>) -> HostLookup {
    let mut names = Vec::new();
    for method in order.split(':').map(str::trim) {
        if method.eq_ignore_ascii_case("bydns") {
            match names_by_dns(resolver, ip) {
                None => return HostLookup::Deferred,
                Some(n) if !n.is_empty() => {
                    names = n;
                    break;
                }
                Some(_) => {}
            }
        } else if method.eq_ignore_ascii_case("byaddr") {
            let Some(found) = resolver.names_by_address(ip) else { continue };
            if let Some(t) = trace.as_mut() {
                t("IP address lookup using gethostbyaddr()");
            }
            match found {
                Ok(n) if !n.is_empty() => {
                    names = n.into_iter().map(|n| n.to_ascii_lowercase()).collect();
                    break;
                }
                Ok(_) => {}
                // TRY_AGAIN: Exim defers.
                Err(2) => return HostLookup::Deferred,
                Err(h_errno) => {
                    if let Some(t) = trace.as_mut() {
                        t(&format!("IP address lookup failed: h_errno={h_errno}"));
                    }
                }
            }
        }
    }
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
        match dns_addresses(resolver, &name) {
            Ok(addrs) if !addrs.is_empty() => {
                if let Some(t) = trace.as_mut() {
                    t(&format!("checking addresses for {name}"));
                }
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
                    t(&format!("{ip} does not match any IP address for {name}"));
                }
            }
            Err(()) => {
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
        let found = host_name_lookup_traced(&zones(), "10.0.0.98".parse().expect("address"), DEFAULT_ORDER, Some(&mut |l: &str| lines.push(l.to_string())));
        assert_eq!(found, HostLookup::Failed { no_ptr: false });
        // As Exim 4.96 traces a name with no addresses (recorded from Debian's
        // Exim for 127.0.0.1, whose name "localhost" is not in the DNS).
        assert_eq!(
            lines,
            [
                "IP address lookup yielded \"noforward.test.ex\"",
                "no IP addresses found for noforward.test.ex",
                "10.0.0.98 does not match any IP address for noforward.test.ex"
            ]
        );
        lines.clear();
        let found = host_name_lookup_traced(&zones(), "10.99.99.97".parse().expect("address"), DEFAULT_ORDER, Some(&mut |l: &str| lines.push(l.to_string())));
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
