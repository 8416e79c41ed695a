//! The ACL list conditions through the lists layer (src/lists): what a
//! session's `ListMatcher` calls. The list text arrives expanded; named
//! lists are fetched and expanded through the `ListContext`.

use crate::expand::ListKind;
use crate::lists::{self, HostSubject, ListContext, ListMatch};
use std::collections::HashMap;

/// Match `subject` against `list` as the ACL conditions do: `hosts`
/// against the client's address (and name, through the context), the
/// others caselessly, as Exim's acl.c asks of match_isinlist and
/// match_address_list. A deferral (or a list error Exim would die on)
/// is an error with its text.
pub fn match_list(ctx: &mut dyn ListContext, kind: ListKind, subject: &str, list: &str) -> Result<bool, String> {
    let m = match kind {
        ListKind::Host => {
            let host = HostSubject { address: subject.parse().ok(), name: None, ip_only: false };
            lists::match_host(ctx, &host, list)
        }
        ListKind::Domain => lists::match_domain(ctx, subject, list),
        ListKind::LocalPart => lists::match_local_part(ctx, subject, list, true),
        ListKind::Address => lists::match_address(ctx, subject, list, true),
    };
    match m {
        ListMatch::Match(_) => Ok(true),
        ListMatch::NoMatch => Ok(false),
        ListMatch::Defer(m) => Err(m.unwrap_or_else(|| "NULL".to_string())),
        ListMatch::Panic(m) => Err(m),
    }
}

/// A `ListContext` with fixed named lists, no DNS and no expansion of
/// named lists: for tests, benchmarks and tools.
pub struct StaticListContext {
    pub named: HashMap<(lists::ListKind, String), lists::NamedList>,
    pub primary_hostname: String,
    /// The client's verified names (host_lookup), for name items in host lists.
    pub host_names: Option<Vec<String>>,
    lookups: crate::lookups::Lookups,
    env: crate::lookups::NoExpand,
    cache: lists::NamedListCache,
}

impl StaticListContext {
    /// Named lists as (kind letter d/h/a/l, name, text).
    pub fn new<'a>(named: impl IntoIterator<Item = (char, &'a str, &'a str)>) -> StaticListContext {
        let named = named
            .into_iter()
            .map(|(k, name, text)| {
                let kind = match k {
                    'd' => lists::ListKind::Domain,
                    'h' => lists::ListKind::Host,
                    'a' => lists::ListKind::Address,
                    _ => lists::ListKind::LocalPart,
                };
                ((kind, name.to_string()), lists::NamedList { value: text.to_string(), caching: lists::NamedCaching::Default })
            })
            .collect();
        let resolver = std::sync::Arc::new(crate::dns::fake::FakeResolver::default());
        StaticListContext { named, primary_hostname: "localhost".into(), host_names: None, lookups: crate::lookups::Lookups::new(resolver), env: crate::lookups::NoExpand, cache: Default::default() }
    }
}

impl ListContext for StaticListContext {
    fn named_list(&self, kind: lists::ListKind, name: &str) -> Option<lists::NamedList> {
        self.named.get(&(kind, name.to_string())).cloned()
    }
    fn expand_list(&mut self, text: &str, _kind: lists::ListKind, _subject: &str) -> lists::Expanded {
        lists::Expanded::Ok(text.to_string())
    }
    fn primary_hostname(&self) -> String {
        self.primary_hostname.clone()
    }
    fn local_interfaces(&self) -> Vec<std::net::IpAddr> {
        vec!["127.0.0.1".parse().expect("literal")]
    }
    fn lookups(&mut self) -> (&mut crate::lookups::Lookups, &mut dyn crate::lookups::LookupEnv) {
        (&mut self.lookups, &mut self.env)
    }
    fn sender_host_names(&mut self) -> Option<Vec<String>> {
        self.host_names.clone()
    }
    fn named_cache(&mut self) -> &mut lists::NamedListCache {
        &mut self.cache
    }
    fn log(&mut self, _line: &str, _panic: bool) {}
}
