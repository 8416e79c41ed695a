//! A self-contained environment for tests, benchmarks and tools: literal,
//! wildcard and CIDR host lists, literal and `*.suffix` domain lists,
//! session variables from a map, log lines collected in memory. The
//! session plugs in the real lists layer instead.

use super::env::*;
use super::statement::Acl;
use super::AclStore;
use crate::hintsdb::{HintsDb, MemoryDb};
use crate::expand::ListKind;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// FNV-1a: cheap hashing for the helper's own maps (keys are the test's,
/// not a client's).
#[derive(Default)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf29ce484222325 } else { self.0 };
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        self.0 = h;
    }
}

pub type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

pub struct SimpleEnv {
    pub store: AclStore,
    pub vars: FnvMap<String, String>,
    pub log: Vec<String>,
    pub trace: Vec<String>,
    pub trace_on: bool,
    pub dns: HashMap<String, Vec<std::net::Ipv4Addr>>,
    pub db: Box<dyn HintsDb>,
    pub headers: Vec<String>,
    pub recipients: Vec<String>,
    /// Fixed clock for reproducible rates (None: the real clock).
    pub clock: Option<f64>,
    /// A list matcher to use instead of the built-in one (the lists
    /// layer, in tests that check the two together).
    pub list_matcher: Option<Box<ListFn>>,
    /// The lists layer with its compiled lists, as the session uses it
    /// (benchmarks); takes precedence over `list_matcher`.
    pub lists_layer: Option<super::lists_env::StaticListContext>,
    /// Variables whose values count as tainted.
    pub tainted: std::collections::HashSet<String>,
    /// What `text_acl_origin` reports.
    pub text_origin: Option<(String, u32)>,
    /// Named lists for `+name` items: (kind letter, text).
    pub named: HashMap<String, (char, String)>,
    /// Parsed lists by address and length of the text (checked against
    /// the text on use), so a long literal list is parsed once.
    parsed: FnvMap<(usize, usize, u8), (String, ParsedList)>,
    parsed_short: [FnvMap<String, ParsedList>; 4],
}

/// The cached text is the list at the same address with the same length;
/// comparing its ends (and not all of a list that may be many kilobytes)
/// is enough for a test and benchmark helper.
fn same_text(a: &str, b: &str) -> bool {
    const N: usize = 256;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && (a.len() <= 2 * N || (a[..N] == b[..N] && a[a.len() - N..] == b[b.len() - N..]))
        && (a.len() > 2 * N || a == b)
}

/// An external list matcher.
pub type ListFn = dyn FnMut(ListKind, &str, &str) -> Result<Option<crate::lists::MatchData>, String>;

/// A parsed list: (negated, item) in order.
type ParsedList = Arc<Vec<(bool, Parsed)>>;

/// A list item, parsed.
enum Parsed {
    Any,
    Named(String),
    Regex(pcre2::bytes::Regex),
    Net(ipnet::IpNet),
    Ip(IpAddr),
    /// A run of plain IP addresses, for speed.
    IpSet(std::collections::HashSet<IpAddr>),
    Suffix(String),
    Literal(String),
    Nothing,
}

fn parse_item(kind: ListKind, item: &str) -> Parsed {
    if item == "*" {
        Parsed::Any
    } else if let Some(name) = item.strip_prefix('+') {
        Parsed::Named(name.to_string())
    } else if item.starts_with('^') {
        pcre2::bytes::Regex::new(item).map(Parsed::Regex).unwrap_or(Parsed::Nothing)
    } else if kind == ListKind::Host {
        match item.split_once('/') {
            Some((net, bits)) => match (net.parse::<IpAddr>(), bits.parse::<u8>()) {
                (Ok(n), Ok(b)) => ipnet::IpNet::new(n, b).map(Parsed::Net).unwrap_or(Parsed::Nothing),
                _ => Parsed::Nothing,
            },
            None => item.parse::<IpAddr>().map(Parsed::Ip).unwrap_or(Parsed::Nothing),
        }
    } else if let Some(suffix) = item.strip_prefix('*') {
        Parsed::Suffix(suffix.to_ascii_lowercase())
    } else {
        Parsed::Literal(item.to_string())
    }
}

fn parse_list(kind: ListKind, list: &str) -> Vec<(bool, Parsed)> {
    let items = crate::expand::lists::list_items(list).into_iter().map(|raw| match raw.strip_prefix('!') {
        Some(r) => (true, parse_item(kind, r.trim())),
        None => (false, parse_item(kind, &raw)),
    });
    // Consecutive positive IP addresses become one set: the first match
    // in such a run is positive whichever it is.
    let mut out: Vec<(bool, Parsed)> = Vec::new();
    for (neg, p) in items {
        match (neg, p, out.last_mut()) {
            (false, Parsed::Ip(a), Some((false, Parsed::IpSet(set)))) => {
                set.insert(a);
            }
            (false, Parsed::Ip(a), _) => out.push((false, Parsed::IpSet([a].into_iter().collect()))),
            (neg, p, _) => out.push((neg, p)),
        }
    }
    out
}

impl SimpleEnv {
    pub fn new(store: AclStore) -> SimpleEnv {
        SimpleEnv {
            store,
            vars: FnvMap::default(),
            log: Vec::new(),
            trace: Vec::new(),
            trace_on: false,
            dns: HashMap::new(),
            db: Box::new(MemoryDb::default()),
            headers: Vec::new(),
            recipients: Vec::new(),
            clock: None,
            named: HashMap::new(),
            text_origin: None,
            tainted: Default::default(),
            list_matcher: None,
            lists_layer: None,
            parsed: FnvMap::default(),
            parsed_short: Default::default(),
        }
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut SimpleEnv {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }
}

impl AclSource for SimpleEnv {
    fn named_acl(&self, name: &str) -> Option<Arc<Acl>> {
        self.store.named_acl(name)
    }
    fn text_acl_origin(&self) -> Option<(String, u32)> {
        self.text_origin.clone()
    }
}

impl SessionVars for SimpleEnv {
    fn variable(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }
    fn is_tainted(&self, name: &str) -> bool {
        self.tainted.contains(name)
    }
    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)> {
        self.named.get(name).filter(|(k, _)| kind.is_none_or(|w| w == *k)).cloned()
    }
    fn recipients(&self) -> Vec<String> {
        self.recipients.clone()
    }
    fn now(&self) -> f64 {
        self.clock.unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0))
    }
}

impl ListMatcher for SimpleEnv {
    fn match_compiled(&mut self, kind: ListKind, subject: &str, list: &crate::lists::compiled::CompiledList) -> Result<Option<crate::lists::MatchData>, String> {
        match self.lists_layer.as_mut() {
            Some(ctx) => super::lists_env::match_compiled(ctx, subject, list),
            None => self.match_list(kind, subject, list.text()),
        }
    }

    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<crate::lists::MatchData>, String> {
        if let Some(ctx) = self.lists_layer.as_mut() {
            return super::lists_env::match_compiled(ctx, subject, &super::lists_env::compiled(kind, list));
        }
        if let Some(f) = self.list_matcher.as_mut() {
            return f(kind, subject, list);
        }
        // Long lists are literal in the ACL (stable address); short ones
        // may be expanded afresh each time and are found by their text.
        let key = (list.as_ptr() as usize, list.len(), kind as u8);
        let items = match self.parsed.get(&key) {
            Some((text, items)) if same_text(text, list) => items.clone(),
            _ => match self.parsed_short[kind as usize].get(list) {
                Some(items) => items.clone(),
                None => {
                    let items = Arc::new(parse_list(kind, list));
                    if self.parsed.len() > 1000 || self.parsed_short.iter().any(|m| m.len() > 1000) {
                        self.parsed.clear();
                        self.parsed_short.iter_mut().for_each(FnvMap::clear);
                    }
                    if list.len() < 1024 {
                        self.parsed_short[kind as usize].insert(list.to_string(), items.clone());
                    } else {
                        self.parsed.insert(key, (list.to_string(), items.clone()));
                    }
                    items
                }
            },
        };
        // This matcher (for benchmarks and tests) keeps no match data.
        Ok(match_parsed(kind, subject, &items, &self.named).then(crate::lists::MatchData::default))
    }
}

impl AclLog for SimpleEnv {
    fn log(&mut self, _targets: &[&str], line: &str) {
        self.log.push(line.to_string());
    }
    fn debug(&mut self, line: &str) {
        self.trace.push(line.to_string());
    }
    fn debugging(&self) -> bool {
        self.trace_on
    }
    fn delay(&mut self, _seconds: u64) {
        if self.trace_on {
            self.trace.push("delay skipped in -bh checking mode".to_string());
        }
    }
}

impl Resolver for SimpleEnv {
    fn lookup_a(&mut self, name: &str) -> DnsAnswer {
        match self.dns.get(name) {
            Some(a) => DnsAnswer::Found(a.clone()),
            None => DnsAnswer::NotFound,
        }
    }
}

impl Verifier for SimpleEnv {}

impl AclEnv for SimpleEnv {
    fn hints(&mut self) -> Option<&mut dyn HintsDb> {
        Some(self.db.as_mut())
    }
}

/// Colon-separated list, `!` negation, first match wins: IP literals and
/// CIDR for hosts, `*` anywhere, `^regex`, `*suffix`, `+named` lists and
/// literal (caseless) items. As in Exim, when nothing matches and the
/// last item was negative, the subject is in the list.
pub fn simple_match(kind: ListKind, subject: &str, list: &str, named: &HashMap<String, (char, String)>) -> bool {
    match_parsed(kind, subject, &parse_list(kind, list), named)
}

fn match_parsed(kind: ListKind, subject: &str, items: &[(bool, Parsed)], named: &HashMap<String, (char, String)>) -> bool {
    let addr = if kind == ListKind::Host { subject.parse::<IpAddr>().ok() } else { None };
    let mut last_negative = false;
    for (neg, item) in items {
        last_negative = *neg;
        let hit = match item {
            Parsed::Any => true,
            Parsed::Named(name) => named.get(name).is_some_and(|(_, text)| simple_match(kind, subject, text, named)),
            Parsed::Regex(r) => r.is_match(subject.as_bytes()).unwrap_or(false),
            Parsed::Net(n) => addr.is_some_and(|a| n.contains(&a)),
            Parsed::Ip(i) => addr == Some(*i),
            Parsed::IpSet(set) => addr.is_some_and(|a| set.contains(&a)),
            Parsed::Suffix(sfx) => subject.len() >= sfx.len() && subject[subject.len() - sfx.len()..].eq_ignore_ascii_case(sfx),
            Parsed::Literal(l) => subject.eq_ignore_ascii_case(l),
            Parsed::Nothing => false,
        };
        if hit {
            return !neg;
        }
    }
    last_negative
}
