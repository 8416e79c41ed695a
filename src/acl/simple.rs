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

pub struct SimpleEnv {
    pub store: AclStore,
    pub vars: HashMap<String, String>,
    pub log: Vec<String>,
    pub trace: Vec<String>,
    pub trace_on: bool,
    pub dns: HashMap<String, Vec<std::net::Ipv4Addr>>,
    pub db: Box<dyn HintsDb>,
    pub headers: Vec<String>,
    pub recipients: Vec<String>,
    /// Fixed clock for reproducible rates (None: the real clock).
    pub clock: Option<f64>,
    /// Named lists for `+name` items: (kind letter, text).
    pub named: HashMap<String, (char, String)>,
}

impl SimpleEnv {
    pub fn new(store: AclStore) -> SimpleEnv {
        SimpleEnv {
            store,
            vars: HashMap::new(),
            log: Vec::new(),
            trace: Vec::new(),
            trace_on: false,
            dns: HashMap::new(),
            db: Box::new(MemoryDb::default()),
            headers: Vec::new(),
            recipients: Vec::new(),
            clock: None,
            named: HashMap::new(),
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
}

impl SessionVars for SimpleEnv {
    fn variable(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
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
    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<bool, String> {
        Ok(simple_match(kind, subject, list, &self.named))
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
    let mut last_negative = false;
    for raw in crate::expand::lists::list_items(list) {
        let (neg, item) = match raw.strip_prefix('!') {
            Some(r) => (true, r.trim()),
            None => (false, raw.as_str()),
        };
        last_negative = neg;
        let hit = if item == "*" {
            true
        } else if let Some(name) = item.strip_prefix('+') {
            named.get(name).is_some_and(|(_, text)| simple_match(kind, subject, text, named))
        } else if item.starts_with('^') {
            pcre2::bytes::Regex::new(item).and_then(|r| r.is_match(subject.as_bytes())).unwrap_or(false)
        } else if kind == ListKind::Host {
            host_item(subject, item)
        } else if let Some(suffix) = item.strip_prefix('*') {
            subject.len() >= suffix.len() && subject[subject.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        } else {
            subject.eq_ignore_ascii_case(item)
        };
        if hit {
            return !neg;
        }
    }
    last_negative
}

fn host_item(ip: &str, item: &str) -> bool {
    let Ok(addr) = ip.parse::<IpAddr>() else { return false };
    match item.split_once('/') {
        Some((net, bits)) => match (net.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Ok(n), Ok(b)) => ipnet::IpNet::new(n, b).map(|n| n.contains(&addr)).unwrap_or(false),
            _ => false,
        },
        None => item.parse::<IpAddr>().map(|i| i == addr).unwrap_or(false),
    }
}
