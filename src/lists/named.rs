//! Named lists as a context keeps them (with the compiled form of a host
//! list whose text needs no expansion), and the cache of named-list
//! results (Exim's cache_bits and namedlist_cacheblock): per (kind, name,
//! subject), whether it matched and the data value of the match.

use super::compiled::CompiledList;
use super::{ListKind, MatchData, NamedCaching, NamedList};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// A named list's definition held for the context's lifetime.
#[derive(Debug)]
pub struct HeldList {
    pub list: NamedList,
    /// Whether the text has a `$` (looked for once: a list may be long).
    dollar: bool,
    compiled: OnceLock<Option<CompiledList>>,
}

impl HeldList {
    pub fn new(list: NamedList) -> HeldList {
        HeldList { dollar: list.value.contains('$'), list, compiled: OnceLock::new() }
    }

    /// A definition fetched for one check: not worth compiling.
    pub fn for_once(list: NamedList) -> HeldList {
        HeldList { dollar: list.value.contains('$'), list, compiled: OnceLock::from(None) }
    }

    /// Whether its results may be cached: `_cache` and `_no_cache` say
    /// so; otherwise only a list without `$` is.
    pub fn cacheable(&self) -> bool {
        match self.list.caching {
            NamedCaching::Cache => true,
            NamedCaching::NoCache => false,
            NamedCaching::Default => !self.dollar,
        }
    }

    /// The compiled form of a host list whose text is the same after
    /// expansion (no `$`, no `\`), made on first use; None when the list
    /// must be expanded or walked. Host lists only: their compiled
    /// matches carry the walk's data, which domain lists' would not.
    pub fn compiled_host(&self, kind: ListKind) -> Option<&CompiledList> {
        if kind != ListKind::Host {
            return None;
        }
        self.compiled
            .get_or_init(|| {
                let text = &self.list.value;
                (!self.dollar && !text.contains('\\')).then(|| CompiledList::new(kind, text)).filter(CompiledList::is_fast)
            })
            .as_ref()
    }
}

/// Named lists by kind and name, shared by whoever holds them (a
/// process's sessions): each list is compiled once.
#[derive(Debug, Default)]
pub struct NamedLists {
    by_kind: [HashMap<String, Arc<HeldList>>; 4],
}

impl NamedLists {
    pub fn insert(&mut self, kind: ListKind, name: &str, list: NamedList) {
        self.by_kind[kind as usize].insert(name.to_string(), Arc::new(HeldList::new(list)));
    }

    pub fn get(&self, kind: ListKind, name: &str) -> Option<&Arc<HeldList>> {
        self.by_kind[kind as usize].get(name)
    }
}

/// Results by kind, then list name, then subject (looked up without
/// copying either).
#[derive(Default, Debug)]
pub struct NamedListCache {
    results: [HashMap<String, HashMap<String, Option<MatchData>>>; 4],
}

impl NamedListCache {
    pub fn get(&self, kind: ListKind, name: &str, key: &str) -> Option<&Option<MatchData>> {
        self.results[kind as usize].get(name)?.get(key)
    }

    pub fn put(&mut self, kind: ListKind, name: &str, key: &str, result: Option<MatchData>) {
        let by_name = &mut self.results[kind as usize];
        let by_key = match by_name.get_mut(name) {
            Some(m) => m,
            None => by_name.entry(name.to_string()).or_default(),
        };
        by_key.insert(key.to_string(), result);
    }

    /// Forget everything (Exim does this between messages for most lists).
    pub fn clear(&mut self) {
        self.results.iter_mut().for_each(HashMap::clear);
    }

    /// Forget the results for some kinds of list (Exim keeps host list
    /// results for the connection, domain and local part results for one
    /// recipient).
    pub fn forget(&mut self, kinds: &[ListKind]) {
        for k in kinds {
            self.results[*k as usize].clear();
        }
    }
}
