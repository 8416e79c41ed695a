//! Matching one host list item (Exim's check_host()).

use super::check::ItemRc;
use super::hostitem::{classify, HostItem};
use super::string::match_check_string;
use super::{HostSubject, ListContext, MatchData};
use crate::lookups::lsearch::parse_ip_net;
use crate::lookups::{LookupError, LookupOutcome, LookupSpec};
use std::net::IpAddr;

/// Parse a subject address; IPv4-mapped IPv6 becomes IPv4, as Exim
/// compares it.
pub fn parse_subject_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.parse().ok()?;
    Some(unmap(ip))
}

pub(crate) fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// Exim's host_nmtoa(): the (masked) address as a lookup key. IPv6 is
/// written unabbreviated in 4-digit groups joined by `sep`; a mask length
/// is appended as /N when given.
pub fn net_key(ip: IpAddr, mask: Option<u32>, sep: char) -> String {
    let mut s = match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = match mask {
                Some(0) => 0,
                Some(n) if n < 32 => bits & (u32::MAX << (32 - n)),
                _ => bits,
            };
            std::net::Ipv4Addr::from(m).to_string()
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = match mask {
                Some(0) => 0,
                Some(n) if n < 128 => bits & (u128::MAX << (128 - n)),
                _ => bits,
            };
            let segs = std::net::Ipv6Addr::from(m).segments();
            segs.iter().map(|g| format!("{g:04x}")).collect::<Vec<_>>().join(&sep.to_string())
        }
    };
    if let Some(n) = mask {
        s.push_str(&format!("/{n}"));
    }
    s
}

pub(crate) fn in_net(ip: IpAddr, net: &ipnet::IpNet) -> bool {
    match (ip, net) {
        (IpAddr::V4(_), ipnet::IpNet::V4(_)) | (IpAddr::V6(_), ipnet::IpNet::V6(_)) => net.contains(&ip),
        _ => false,
    }
}

fn lookup_by_address(ctx: &mut dyn ListContext, ip: IpAddr, mask: Option<u32>, ltype: &str, opts: &str, arg: &str) -> ItemRc {
    let full = if opts.is_empty() { ltype.to_string() } else { format!("{ltype},{opts}") };
    let spec = match LookupSpec::parse(&full) {
        Ok(s) => s,
        Err(e) => return ItemRc::Panic(e.to_string()),
    };
    let found = if spec.is_query_style() {
        ctx.list_lookup(&spec, arg, None)
    } else {
        let sep = if spec.lookup.name() == "iplsearch" { ':' } else { '.' };
        let key = net_key(ip, mask, sep);
        // No partial matching or defaults for address keys.
        let mut plain = spec.clone();
        plain.partial = None;
        plain.star = false;
        plain.star_at = false;
        ctx.list_lookup(&plain, arg, Some(&key))
    };
    let found = match found {
        Ok(f) => f,
        Err(LookupError::Open(m)) | Err(LookupError::Syntax(m)) => return ItemRc::Panic(m),
    };
    match found.outcome {
        LookupOutcome::Found(v) => ItemRc::Ok(MatchData { value: Some(v), numeric: vec![] }),
        LookupOutcome::NotFound => ItemRc::Fail,
        LookupOutcome::Defer(m) => ItemRc::Defer(Some(m)),
    }
}

fn match_names(ctx: &mut dyn ListContext, names: &[String], pattern: &str) -> ItemRc {
    for n in names {
        match match_check_string(ctx, n, pattern, true, true, true) {
            ItemRc::Fail => {}
            other => return other,
        }
    }
    ItemRc::Fail
}

/// The trace of Exim's host_find_byname() for a name item: the addresses
/// found, IPv6 first (Exim asks for them first).
fn trace_addresses(ctx: &mut dyn ListContext, name: &str, addrs: &[IpAddr]) {
    ctx.trace("gethostbyname2 looked up these IP addresses:");
    for a in addrs.iter().filter(|a| a.is_ipv6()).chain(addrs.iter().filter(|a| a.is_ipv4())) {
        ctx.trace(&format!("  name={name} address={a}"));
    }
}

/// The start of Exim's text for a name without addresses; callers that
/// know the connection add ` (during ...)`.
pub const NO_ADDRESS: &str = "no IP address found for host ";

/// A name item without addresses: Exim's host_find_byname() says so in
/// the trace (with the test harness's check of dns_again_means_nonexist
/// around a deferral) and logs it unless the lookup deferred.
fn not_found(ctx: &mut dyn ListContext, name: &str, deferred: bool) {
    let msg = match ctx.connection_info() {
        Some(during) => format!("{NO_ADDRESS}{name} (during {during})"),
        None => format!("{NO_ADDRESS}{name}"),
    };
    if ctx.tracing() {
        let again = format!("{name} in dns_again_means_nonexist? no (option unset)");
        if deferred {
            ctx.trace(&again);
        }
        ctx.trace(&msg);
        if deferred {
            ctx.trace(&again);
        }
    }
    if !deferred {
        ctx.log(&msg, false);
    }
}

pub fn check_host(ctx: &mut dyn ListContext, h: &HostSubject, item: &str) -> ItemRc {
    let ok = || ItemRc::Ok(MatchData::default());
    if item == "*" {
        return ok();
    }
    // No remote host: only the empty item matches.
    let Some(ip) = h.address.map(unmap) else {
        return if item.is_empty() { ok() } else { ItemRc::Fail };
    };
    if item.is_empty() {
        return ItemRc::Fail;
    }
    let ip_only = h.ip_only;
    let mut pattern = item.to_string();
    // Only items starting with "@" can be "@" or "@[]"; the grammar is
    // not needed for the common case of addresses.
    if item.starts_with('@') {
        match classify(item) {
            HostItem::PrimaryHostname => {
                if ip_only {
                    return ItemRc::Error("cannot match host name in match_ip list".into());
                }
                pattern = ctx.primary_hostname();
            }
            HostItem::LocalInterfaces => {
                return if ctx.local_interfaces().iter().any(|a| unmap(*a) == ip) { ok() } else { ItemRc::Fail };
            }
            _ => {}
        }
    }
    if let Some(net) = parse_ip_net(&pattern) {
        return if in_net(ip, &net) { ok() } else { ItemRc::Fail };
    }
    let class = classify(&pattern);
    if class == HostItem::MalformedV4 {
        return ItemRc::Error(format!("malformed IPv4 address or address mask: {pattern}"));
    }
    match class {
        HostItem::NetLookup { mask, ltype, opts, arg } if !ip_only => return lookup_by_address(ctx, ip, mask, ltype, opts, arg),
        HostItem::NetLookup { mask, ltype, opts, arg } => return lookup_by_address(ctx, ip, mask, ltype, opts, arg),
        HostItem::Lookup { ltype, opts, arg } if ip_only => return lookup_by_address(ctx, ip, None, ltype, opts, arg),
        _ => {}
    }
    if ip_only {
        return ItemRc::Error(NO_NAMES_IN_MATCH_IP.into());
    }
    if class == HostItem::DomainName {
        // A plain name: match its addresses.
        let resolver = ctx.lookups().0.resolver();
        let found = resolver.host_addresses(&pattern);
        if !matches!(&found, Ok(addrs) if !addrs.is_empty()) {
            not_found(ctx, &pattern, found.is_err());
        } else if ctx.tracing() {
            trace_addresses(ctx, &pattern, found.as_deref().unwrap_or_default());
        }
        return match found {
            Ok(addrs) if !addrs.is_empty() => {
                if addrs.into_iter().map(unmap).any(|a| a == ip) {
                    ok()
                } else {
                    ItemRc::Fail
                }
            }
            Ok(_) => ItemRc::Error(format!("failed to find IP address for {pattern}")),
            Err(_) => ItemRc::Defer(None),
        };
    }
    // A query-style lookup item without a known name: the lookup decides.
    if let (None, HostItem::Lookup { ltype, .. }) = (&h.name, &class) {
        match LookupSpec::parse(ltype) {
            Err(e) => {
                // Exim's search_error_message is the lookup type's error.
                ctx.log(&format!("{e} in host list item \"{pattern}\""), true);
                return ItemRc::Defer(Some(e.to_string()));
            }
            Ok(spec) if spec.is_query_style() => {
                return match match_check_string(ctx, "", &pattern, true, true, true) {
                    ItemRc::Ok(d) => ItemRc::Ok(d),
                    ItemRc::Defer(m) => ItemRc::Defer(m),
                    ItemRc::Panic(m) => ItemRc::Panic(m),
                    _ => ItemRc::Fail,
                };
            }
            Ok(_) => {}
        }
    }
    match match_host_names(ctx, h, &pattern) {
        Some(rc) => rc,
        None => ItemRc::Error(format!("failed to find host name for {ip}")),
    }
}

const NO_NAMES_IN_MATCH_IP: &str = "cannot match host name in match_ip list";

/// A host name pattern (`*.example`, `^regex`, a name that is not a plain
/// domain name) against the host's names: the given name, else the
/// client's, looked up when first needed. None when it has none.
pub(crate) fn match_host_names(ctx: &mut dyn ListContext, h: &HostSubject, pattern: &str) -> Option<ItemRc> {
    if h.ip_only {
        return Some(ItemRc::Error(NO_NAMES_IN_MATCH_IP.into()));
    }
    if let Some(name) = &h.name {
        return Some(match_check_string(ctx, name, pattern, true, true, true));
    }
    if ctx.tracing() && !ctx.sender_host_name_known() {
        ctx.trace(&format!("sender host name required, to match against {pattern}"));
    }
    let names = ctx.sender_host_names().filter(|n| !n.is_empty())?;
    Some(match_names(ctx, &names, pattern))
}
