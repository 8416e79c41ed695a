//! A fast path for host lists made only of (possibly negated) IP addresses
//! and networks: compiled once per list text into per-prefix hash maps
//! holding the first matching item, so a check costs one probe per distinct
//! prefix length instead of a walk of the list. The result is exactly the
//! walk's: the first matching item decides, else the end-of-list rule.

use super::iter::{ListIter, ListSep};
use crate::lookups::lsearch::parse_ip_net;
use std::collections::HashMap;
use std::net::IpAddr;

pub struct IpIndex {
    /// (is_v6, prefix) -> masked address -> (item index, negated).
    nets: Vec<((bool, u8), HashMap<u128, (usize, bool)>)>,
    last_negated: bool,
}

/// Lists shorter than this are walked by `compile()`'s callers.
const MIN_ITEMS: usize = 32;

fn bits(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u32::from(a) as u128),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

fn mask(b: u128, v6: bool, len: u8) -> u128 {
    let w = if v6 { 128 } else { 32 };
    if len == 0 {
        0
    } else {
        b & (u128::MAX << (w - len as u32))
    }
}

/// Compile a list; callers that keep a list (config options, named lists)
/// can hold the result and check in well under a microsecond.
pub fn compile(list: &str) -> Option<IpIndex> {
    compile_min(list, MIN_ITEMS)
}

/// Compile a list of any length, for a caller that holds the result.
pub fn compile_any(list: &str) -> Option<IpIndex> {
    compile_min(list, 1)
}

fn compile_min(list: &str, min_items: usize) -> Option<IpIndex> {
    let mut groups: HashMap<(bool, u8), HashMap<u128, (usize, bool)>> = HashMap::new();
    let mut last_negated = false;
    let mut n = 0;
    for (i, item) in ListIter::new(list, ListSep::Default).enumerate() {
        let (neg, s) = match item.strip_prefix('!') {
            Some(r) => (true, r.trim_start().to_string()),
            None => (false, item),
        };
        let net = parse_ip_net(&s)?;
        let (v6, b) = bits(net.addr());
        let len = net.prefix_len();
        groups.entry((v6, len)).or_default().entry(mask(b, v6, len)).or_insert((i, neg));
        last_negated = neg;
        n += 1;
    }
    if n < min_items {
        return None;
    }
    let mut nets: Vec<_> = groups.into_iter().collect();
    nets.sort_by_key(|(k, _)| *k);
    Some(IpIndex { nets, last_negated })
}

impl IpIndex {
    /// Some(true) in the list, Some(false) not; as the walk would say.
    pub fn check(&self, ip: IpAddr) -> bool {
        let (v6, b) = bits(ip);
        let first = self
            .nets
            .iter()
            .filter(|((f, _), _)| *f == v6)
            .filter_map(|((_, len), m)| m.get(&mask(b, v6, *len)).copied())
            .min_by_key(|(i, _)| *i);
        match first {
            Some((_, neg)) => !neg,
            None => self.last_negated,
        }
    }
}
