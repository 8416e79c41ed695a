//! File and database lookups (Exim's search.c and lookups/*.c).
//!
//! One trait, `Lookup`, and one sorted static table of lookup types
//! (`LOOKUP_TYPES`): callers name a type by its Exim name and never depend
//! on which types exist. `Lookups` holds the per-process state Exim keeps
//! (open-file indexes, the result cache, the redis client) and implements
//! search_find(): partial matching, `*` and `*@` defaults, `ret=key`,
//! `cache=no_rd`.

pub mod dnsdb;
pub mod dsearch;
pub mod error;
pub mod expansion;
pub mod lsearch;
pub mod redis;
pub mod spec;

pub use error::LookupError;
pub use spec::LookupSpec;

use crate::dns::Resolver;
use std::collections::HashMap;
use std::sync::Arc;

/// The outcome of one lookup (Exim's OK / FAIL / DEFER).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupOutcome {
    Found(String),
    NotFound,
    /// A temporary error, with Exim's message (search_error_message).
    Defer(String),
}

/// What a lookup needs from the caller while it runs.
pub trait LookupEnv {
    /// Expand a string (wildlsearch keys).
    fn expand(&mut self, s: &str) -> crate::lists::Expanded;
}

/// A LookupEnv for callers that have no expander: strings are used as they
/// are (the behaviour of nwildlsearch).
pub struct NoExpand;

impl LookupEnv for NoExpand {
    fn expand(&mut self, s: &str) -> crate::lists::Expanded {
        crate::lists::Expanded::Ok(s.to_string())
    }
}

/// Whether a type takes a key and a file, or a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupKind {
    /// Single-key; `abs_file` means the file name must be absolute.
    SingleKey,
    QueryStyle,
}

/// One lookup type. Implementations are stateless: per-process state lives
/// in `Lookups`, which they receive.
pub trait Lookup: Sync {
    fn name(&self) -> &'static str;
    fn kind(&self) -> LookupKind;
    /// Check that the file can be used (Exim's open function). Single-key
    /// types only; Err is Exim's message (a lookup "open" failure).
    fn open(&self, _lookups: &mut Lookups, _file: &str) -> Result<(), String> {
        Ok(())
    }
    /// Look up `key` in `file` (single-key) or run `query` (query-style,
    /// `file` empty). `opts` are the comma options after the type name.
    fn find(&self, lookups: &mut Lookups, file: &str, key: &str, opts: &[(String, String)], env: &mut dyn LookupEnv) -> LookupOutcome;
    /// The `${quote_<type>:...}` operator, where the type has one.
    fn quote(&self, _s: &str, _opt: Option<&str>) -> Option<String> {
        None
    }
}

/// Every lookup type, sorted by name (searched by binary search).
pub static LOOKUP_TYPES: &[&dyn Lookup] = &[
    &dnsdb::Dnsdb,
    &dsearch::Dsearch,
    &lsearch::IPLSEARCH,
    &lsearch::LSEARCH,
    &lsearch::NWILDLSEARCH,
    &redis::Redis,
    &lsearch::WILDLSEARCH,
];

/// Find a lookup type by its exact name.
pub fn lookup_type(name: &str) -> Option<&'static dyn Lookup> {
    LOOKUP_TYPES.binary_search_by(|l| l.name().cmp(name)).ok().map(|i| LOOKUP_TYPES[i])
}

/// `${quote_<name>:s}`: Some(quoted) for a known type (types without
/// quoting rules return the string unchanged), None for an unknown type.
pub fn quote(name: &str, s: &str, opt: Option<&str>) -> Option<String> {
    let t = lookup_type(name)?;
    Some(t.quote(s, opt).unwrap_or_else(|| s.to_string()))
}

/// The result of search_find(): the outcome, and for a partial or default
/// match the values Exim puts in $1 (the wild part) and $2 (the fixed part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub outcome: LookupOutcome,
    pub numeric: Option<(String, String)>,
}

/// Per-process lookup state.
pub struct Lookups {
    resolver: Arc<dyn Resolver>,
    /// The `redis_servers` main option.
    pub redis_servers: String,
    pub(crate) redis: redis::RedisState,
    pub(crate) files: lsearch::FileCache,
    /// (type+options, file-or-query, key) -> cached outcome (never Defer).
    cache: HashMap<(String, String, String), LookupOutcome>,
    /// Messages for the main log (Exim's log_write(0, LOG_MAIN, ...)).
    pub log: Vec<String>,
    /// Exim's global search_error_message: None until a lookup runs, ""
    /// after one, the message after a failure. Expansion failures that
    /// report it show this (stale) value, as Exim does.
    pub search_error_message: Option<String>,
}

impl Lookups {
    pub fn new(resolver: Arc<dyn Resolver>) -> Self {
        Lookups {
            resolver,
            redis_servers: String::new(),
            redis: redis::RedisState::default(),
            files: lsearch::FileCache::default(),
            cache: HashMap::new(),
            log: Vec::new(),
            search_error_message: None,
        }
    }

    pub fn resolver(&self) -> Arc<dyn Resolver> {
        self.resolver.clone()
    }

    /// Exim's search_tidyup(): forget cached results and file indexes.
    pub fn tidyup(&mut self) {
        self.cache.clear();
        self.files.clear();
    }

    /// Open the file of a single-key lookup (search_open()). Exim treats a
    /// failure here differently from a lookup failure, so it is separate.
    pub fn open(&mut self, spec: &LookupSpec, file: &str) -> Result<(), LookupError> {
        if spec.lookup.kind() == LookupKind::SingleKey {
            spec.lookup.open(self, file).map_err(LookupError::Open)?;
        }
        Ok(())
    }

    /// One lookup through the cache (internal_search_find()).
    fn find_cached(&mut self, spec: &LookupSpec, file: &str, key: &str, env: &mut dyn LookupEnv) -> LookupOutcome {
        let ck = (spec.cache_key(), file.to_string(), key.to_string());
        if !spec.no_cache_read() {
            if let Some(o) = self.cache.get(&ck) {
                return o.clone();
            }
        }
        let mut outcome = spec.lookup.find(self, file, key, &spec.opts, env);
        if let LookupOutcome::Found(_) = outcome {
            if spec.ret_key() {
                outcome = LookupOutcome::Found(key.to_string());
            }
        }
        if !matches!(outcome, LookupOutcome::Defer(_)) && spec.lookup.name() != "redis" {
            self.cache.insert(ck, outcome.clone());
        }
        outcome
    }

    /// Exim's search_find() for a single-key lookup: the key itself, then
    /// partial keys, then `*@` and `*` defaults. Err for an open failure.
    pub fn find(&mut self, spec: &LookupSpec, file: &str, key: &str, env: &mut dyn LookupEnv) -> Result<Found, LookupError> {
        self.search_error_message = Some(String::new());
        if let Err(e) = self.open(spec, file) {
            self.search_error_message = Some(e.to_string());
            return Err(e);
        }
        let f = self.search_find(spec, file, key, env);
        self.note(&f.outcome);
        Ok(f)
    }

    fn note(&mut self, o: &LookupOutcome) {
        if let LookupOutcome::Defer(m) = o {
            self.search_error_message = Some(m.clone());
        }
    }

    /// A query-style lookup.
    pub fn query(&mut self, spec: &LookupSpec, query: &str, env: &mut dyn LookupEnv) -> Found {
        self.search_error_message = Some(String::new());
        let outcome = self.find_cached(spec, "", query, env);
        self.note(&outcome);
        Found { outcome, numeric: None }
    }

    fn search_find(&mut self, spec: &LookupSpec, file: &str, key: &str, env: &mut dyn LookupEnv) -> Found {
        let ret = |o: LookupOutcome, n: Option<(String, String)>| Found { outcome: o, numeric: n };
        // Single-key lookups with ret=key give back the original key, even
        // for a partial or default match.
        let fix = |o: LookupOutcome| match o {
            LookupOutcome::Found(_) if spec.ret_key() => LookupOutcome::Found(key.to_string()),
            o => o,
        };
        if key.is_empty() && spec.lookup.kind() == LookupKind::SingleKey {
            return ret(LookupOutcome::NotFound, None);
        }
        let o = self.find_cached(spec, file, key, env);
        if !matches!(o, LookupOutcome::NotFound) {
            let n = spec.partial.as_ref().filter(|_| matches!(o, LookupOutcome::Found(_))).map(|_| (String::new(), key.to_string()));
            return ret(o, n);
        }
        if let Some(p) = &spec.partial {
            let affix = p.affix.as_str();
            if !affix.is_empty() {
                let k2 = format!("{affix}{key}");
                let o = self.find_cached(spec, file, &k2, env);
                if !matches!(o, LookupOutcome::NotFound) {
                    let n = matches!(o, LookupOutcome::Found(_)).then(|| (String::new(), key.to_string()));
                    return ret(fix(o), n);
                }
            }
            let dots = key.bytes().filter(|&c| c == b'.').count() as i64;
            let mut rest = key;
            let mut left = dots;
            while left >= p.min as i64 {
                left -= 1;
                let k3 = match rest.find('.') {
                    Some(i) => {
                        rest = &rest[i + 1..];
                        format!("{affix}{rest}")
                    }
                    None => {
                        if affix.is_empty() {
                            break;
                        }
                        let a = if affix.len() > 1 && affix.ends_with('.') { &affix[..affix.len() - 1] } else { affix };
                        a.to_string()
                    }
                };
                let o = self.find_cached(spec, file, &k3, env);
                match o {
                    LookupOutcome::NotFound => {}
                    LookupOutcome::Defer(_) => return ret(o, None),
                    LookupOutcome::Found(_) => {
                        // Exim's arithmetic, including its quirk for a final
                        // lookup of the bare affix (partial0).
                        let a = if k3.len() < affix.len() { k3.len() } else { affix.len() };
                        let fixed = k3.len() as i64 - a as i64;
                        let wild = (key.len() as i64 - fixed - 1).max(0) as usize;
                        let fixed = fixed.max(0) as usize;
                        let w = key.get(..wild).unwrap_or("").to_string();
                        let f = key.get((wild + 1).min(key.len())..(wild + 1 + fixed).min(key.len())).unwrap_or("").to_string();
                        return ret(fix(o), Some((w, f)));
                    }
                }
            }
        }
        if spec.star_at {
            if let Some(at) = key.rfind('@').filter(|&i| i > 0) {
                let k = format!("*{}", &key[at..]);
                let o = self.find_cached(spec, file, &k, env);
                if !matches!(o, LookupOutcome::NotFound) {
                    let n = matches!(o, LookupOutcome::Found(_)).then(|| (key[..at].to_string(), String::new()));
                    return ret(fix(o), n);
                }
            }
        }
        if spec.star || spec.star_at {
            let o = self.find_cached(spec, file, "*", env);
            let n = matches!(o, LookupOutcome::Found(_)).then(|| (key.to_string(), String::new()));
            return ret(fix(o), n);
        }
        ret(LookupOutcome::NotFound, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(LOOKUP_TYPES.windows(2).all(|w| w[0].name() < w[1].name()));
        assert!(lookup_type("lsearch").is_some());
        assert!(lookup_type("nosuch").is_none());
    }
}

#[cfg(test)]
mod search_tests;

/// The `Lookups (built-in):` line of `-bV`, in Exim's order (the lsearch
/// family first, then the others alphabetically). The testsuite's
/// REQUIRES "lookup X" lines are checked against it.
pub fn bv_line() -> String {
    let family = ["lsearch", "wildlsearch", "nwildlsearch", "iplsearch"];
    let mut names: Vec<&str> = family.iter().copied().filter(|n| lookup_type(n).is_some()).collect();
    names.extend(LOOKUP_TYPES.iter().map(|l| l.name()).filter(|n| !family.contains(n)));
    format!("Lookups (built-in): {}", names.join(" "))
}

#[cfg(test)]
mod bv_tests {
    #[test]
    fn bv_line_order() {
        assert_eq!(super::bv_line(), "Lookups (built-in): lsearch wildlsearch nwildlsearch iplsearch dnsdb dsearch redis");
    }
}
