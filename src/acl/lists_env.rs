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
    lookups: crate::lookups::Lookups,
    env: crate::lookups::NoExpand,
    cache: lists::NamedListCache,
    /// -bh: the list layer's trace lines are collected in `traced`, with
    /// the lines it logs among them as `LOG: ...`.
    pub tracing: bool,
    pub traced: Vec<String>,
    /// The client, whose name host name patterns need (looked up once).
    pub sender_host: Option<std::net::IpAddr>,
    host_names: Option<Option<Vec<String>>>,
}

impl StaticListContext {
    /// Named lists as (kind letter d/h/a/l, name, text).
    pub fn new<'a>(named: impl IntoIterator<Item = (char, &'a str, &'a str)>) -> StaticListContext {
        Self::with_resolver(named, std::sync::Arc::new(crate::dns::fake::FakeResolver::default()))
    }

    /// The same, with a resolver for host names in host lists.
    pub fn with_resolver<'a>(named: impl IntoIterator<Item = (char, &'a str, &'a str)>, resolver: std::sync::Arc<dyn crate::dns::Resolver>) -> StaticListContext {
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
        StaticListContext {
            named,
            primary_hostname: "localhost".into(),
            lookups: crate::lookups::Lookups::new(resolver),
            env: crate::lookups::NoExpand,
            cache: Default::default(),
            tracing: false,
            traced: Vec::new(),
            sender_host: None,
            host_names: None,
        }
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
    /// The PTR names of the client (Exim's host_name_lookup(), without
    /// its forward check), looked up once.
    fn sender_host_names(&mut self) -> Option<Vec<String>> {
        if let Some(known) = &self.host_names {
            return known.clone();
        }
        let ip = self.sender_host?;
        if self.tracing {
            self.traced.push(format!("looking up host name for {ip}"));
        }
        let names = match self.lookups.resolver().host_names(ip) {
            Ok(n) if !n.is_empty() => Some(n),
            Ok(_) => {
                if self.tracing {
                    self.traced.push(format!("LOG: no host name found for IP address {ip}"));
                }
                None
            }
            Err(_) => None,
        };
        self.host_names = Some(names.clone());
        names
    }
    fn named_cache(&mut self) -> &mut lists::NamedListCache {
        &mut self.cache
    }
    fn log(&mut self, _line: &str, _panic: bool) {}
    fn tracing(&self) -> bool {
        self.tracing
    }
    fn trace(&mut self, line: &str) {
        self.traced.push(line.to_string());
    }
}
