//! A fast path for host lists made only of (possibly negated) IP addresses
//! and networks: compiled once per list text into per-prefix hash maps
//! holding the first matching item, so a check costs one probe per distinct
//! prefix length instead of a walk of the list. The result is exactly the
//! walk's: the first matching item decides, else the end-of-list rule.

use super::iter::{ListIter, ListSep};
use crate::lookups::lsearch::parse_ip_net;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

pub struct IpIndex {
    /// (is_v6, prefix) -> masked address -> (item index, negated).
    nets: Vec<((bool, u8), HashMap<u128, (usize, bool)>)>,
    last_negated: bool,
}

/// Lists shorter than this are walked: compiling would not pay.
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
    if n < MIN_ITEMS {
        return None;
    }
    let mut nets: Vec<_> = groups.into_iter().collect();
    nets.sort_by_key(|(k, _)| *k);
    Some(IpIndex { nets, last_negated })
}

/// A cheap fingerprint of a list text (length and a sample of bytes), so
/// that a long list is not hashed in full on every check; a hit is then
/// confirmed by comparing the texts.
fn fingerprint(list: &str) -> u64 {
    let b = list.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ b.len() as u64;
    let mut eat = |c: u8| {
        h ^= c as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    let step = (b.len() / 256).max(1);
    for &c in b.iter().step_by(step) {
        eat(c);
    }
    for &c in &b[b.len().saturating_sub(64)..] {
        eat(c);
    }
    h
}

type Entry = (Arc<str>, Option<Arc<IpIndex>>);
type Cache = Mutex<HashMap<u64, Vec<Entry>>>;

/// The compiled form of `list`, or None if it is not a pure IP list.
pub fn lookup(list: &str) -> Option<Arc<IpIndex>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    if list.len() < MIN_ITEMS * 2 {
        return None;
    }
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let fp = fingerprint(list);
    {
        let c = cache.lock().ok()?;
        if let Some(v) = c.get(&fp) {
            if let Some((_, e)) = v.iter().find(|(t, _)| &**t == list) {
                return e.clone();
            }
        }
    }
    // Names, lookups, files, specials and named lists all contain a
    // character that no IP item has: reject them before compiling.
    let e = if list.bytes().any(|c| !(c.is_ascii_hexdigit() || b".:/! \t\n;<".contains(&c))) {
        None
    } else {
        compile(list).map(Arc::new)
    };
    let mut c = cache.lock().ok()?;
    if c.len() > 256 {
        c.clear();
    }
    c.entry(fp).or_default().push((Arc::from(list), e.clone()));
    e
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
