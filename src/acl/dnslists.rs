//! `dnslists = zone[=addresses][/key] : ...` through the `Resolver`.
//! The default key is the client's IP address, reversed. On a match the
//! `$dnslist_*` variables are set. A lookup that cannot complete counts
//! as "not listed" unless the zone says `+include_unknown` (listed) or
//! `+defer_unknown` (defer), as in Exim.

use super::env::DnsAnswer;
use super::eval::{Interp, Rc};
use std::net::Ipv4Addr;

pub(crate) fn check(it: &mut Interp, arg: &str, log: &mut Option<String>) -> Rc {
    let ip = it.env.variable("sender_host_address").unwrap_or_default();
    // `+include_unknown`, `+exclude_unknown` and `+defer_unknown` as items
    // apply to the items after them.
    let mut unknown_item = "exclude";
    for item in crate::expand::lists::list_items(arg) {
        if let Some(flag) = ["+include_unknown", "+exclude_unknown", "+defer_unknown"].iter().find(|f| **f == item) {
            unknown_item = &flag[1..flag.len() - 8];
            continue;
        }
        let (mut zone, key) = match item.split_once('/') {
            Some((z, k)) => (z.to_string(), Some(k.to_string())),
            None => (item.clone(), None),
        };
        let mut unknown = unknown_item;
        for flag in ["+include_unknown", "+exclude_unknown", "+defer_unknown"] {
            if let Some(z) = zone.strip_suffix(flag) {
                unknown = &flag[1..flag.len() - 8];
                zone = z.trim_end_matches(',').to_string();
            }
        }
        let (zone, filter) = match zone.split_once('=') {
            Some((z, f)) => (z.trim_end_matches(['!', '&']).to_string(), Some((zone[z.len()..].to_string(), f.to_string()))),
            None => (zone.clone(), None),
        };
        // The keys are a list of their own (`<;` changes its separator;
        // a doubled colon in the outer list is one colon here).
        let keys: Vec<String> = match &key {
            Some(k) => crate::expand::lists::list_items(k),
            None => vec![ip.clone()],
        };
        for k in keys {
            let name = format!("{}.{zone}", reverse(&k));
            match it.env.lookup_a(&name) {
                DnsAnswer::Found(mut addrs) => {
                    // A list answers with addresses in 127.0.0.0/8; Exim
                    // drops others, with a log line each.
                    addrs.retain(|a| {
                        let listed = a.octets()[0] == 127;
                        if !listed {
                            it.env.log(&["main"], &format!("DNS list lookup for {k} at {zone} returned {a}; not in 127.0/8 and discarded"));
                        }
                        listed
                    });
                    if addrs.is_empty() {
                        continue;
                    }
                    if let Some((op, f)) = &filter {
                        if !filter_matches(op, f, &addrs) {
                            continue;
                        }
                    }
                    let text = it.env.lookup_txt(&name).unwrap_or_default();
                    let d = &mut it.state.dnslist;
                    d.insert("domain", zone.clone());
                    d.insert("matched", k.clone());
                    d.insert("value", addrs.iter().map(Ipv4Addr::to_string).collect::<Vec<_>>().join(", "));
                    d.insert("text", text);
                    return Rc::Ok;
                }
                DnsAnswer::NotFound => {}
                DnsAnswer::Defer => match unknown {
                    "include" => return Rc::Ok,
                    "defer" => {
                        // Logged on its own line; the rejection has no reason.
                        it.env.log(&["main"], &format!("DNS list lookup defer (probably timeout) for {name}: returned DEFER"));
                        *log = None;
                        return Rc::Defer;
                    }
                    _ => {}
                },
            }
        }
    }
    Rc::Fail
}

/// An IPv4 address's octets reversed; a domain stays as it is.
fn reverse(key: &str) -> String {
    match key.parse::<Ipv4Addr>() {
        Ok(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
        }
        Err(_) => key.to_string(),
    }
}

/// `=a.b.c.d,...` (any equal), `==` (all), `!=`, `!==`, `&mask`, `!&`.
fn filter_matches(op: &str, list: &str, addrs: &[Ipv4Addr]) -> bool {
    let neg = op.starts_with('!');
    let op = op.trim_start_matches('!');
    let bitmask = op.starts_with('&');
    let all = op.starts_with("==");
    let wanted: Vec<Ipv4Addr> = list.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let test = |a: &Ipv4Addr| {
        if bitmask {
            let m = list.trim().parse::<Ipv4Addr>().map(u32::from).unwrap_or_else(|_| list.trim().parse::<u32>().unwrap_or(0));
            u32::from(*a) & m == m
        } else {
            wanted.contains(a)
        }
    };
    let r = if all { addrs.iter().all(test) } else { addrs.iter().any(test) };
    r != neg
}
