//! The cache of named-list results (Exim's cache_bits and
//! namedlist_cacheblock): per (kind, name, subject), whether it matched and
//! the data value of the match.

use super::{ListKind, MatchData};
use std::collections::HashMap;

#[derive(Default, Debug)]
pub struct NamedListCache {
    results: HashMap<(ListKind, String, String), Option<MatchData>>,
}

impl NamedListCache {
    pub fn get(&self, kind: ListKind, name: &str, key: &str) -> Option<&Option<MatchData>> {
        self.results.get(&(kind, name.to_string(), key.to_string()))
    }

    pub fn put(&mut self, kind: ListKind, name: &str, key: &str, result: Option<MatchData>) {
        self.results.insert((kind, name.to_string(), key.to_string()), result);
    }

    /// Forget everything (Exim does this between messages for most lists).
    pub fn clear(&mut self) {
        self.results.clear();
    }

    /// Forget the results for some kinds of list (Exim keeps host list
    /// results for the connection, domain and local part results for one
    /// recipient).
    pub fn forget(&mut self, kinds: &[ListKind]) {
        self.results.retain(|(k, _, _), _| !kinds.contains(k));
    }
}
