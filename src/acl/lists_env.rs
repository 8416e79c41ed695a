//! The ACL list conditions through the lists layer (src/lists): what a
//! session's `ListMatcher` calls. The list text arrives expanded; named
//! lists are fetched and expanded through the `ListContext`.

use crate::expand::ListKind;
use crate::lists::compiled::{self, CompiledList};
use crate::lists::{self, HostSubject, ListContext, ListMatch, MatchData};

/// Match `subject` against `list` as the ACL conditions do: `hosts`
/// against the client's address (and name, through the context), the
/// others caselessly, as Exim's acl.c asks of match_isinlist and
/// match_address_list. A deferral (or a list error Exim would die on)
/// is an error with its text.
pub fn match_list(ctx: &mut dyn ListContext, kind: ListKind, subject: &str, list: &str) -> Result<Option<MatchData>, String> {
    let m = match kind {
        ListKind::Host => {
            let host = HostSubject { address: subject.parse().ok(), name: None, ip_only: false };
            lists::match_host(ctx, &host, list)
        }
        ListKind::Domain => lists::match_domain(ctx, subject, list),
        ListKind::LocalPart => lists::match_local_part(ctx, subject, list, true),
        ListKind::Address => lists::match_address(ctx, subject, list, true),
    };
    result(m)
}

fn lists_kind(kind: ListKind) -> lists::ListKind {
    match kind {
        ListKind::Host => lists::ListKind::Host,
        ListKind::Domain => lists::ListKind::Domain,
        ListKind::LocalPart => lists::ListKind::LocalPart,
        ListKind::Address => lists::ListKind::Address,
    }
}

/// The compiled form of an (expanded) list argument: `compiled::cached`.
pub fn compiled(kind: ListKind, list: &str) -> std::sync::Arc<CompiledList> {
    compiled::cached(lists_kind(kind), list)
}

/// Compile a list the caller keeps.
pub fn compile(kind: ListKind, list: &str) -> CompiledList {
    CompiledList::new(lists_kind(kind), list)
}

/// `match_list` for a compiled list: the same answers, without walking
/// the lists that compile to a fast form.
pub fn match_compiled(ctx: &mut dyn ListContext, subject: &str, list: &CompiledList) -> Result<Option<MatchData>, String> {
    let m = match list.kind() {
        lists::ListKind::Host => {
            let host = HostSubject { address: subject.parse().ok(), name: None, ip_only: false };
            list.match_host(ctx, &host)
        }
        _ => list.match_caseless(ctx, subject),
    };
    // The fast forms only say whether a list matched; what matched (for
    // $domain_data and $0...) comes from the walk, taken only then.
    if let (ListMatch::Match(d), false) = (&m, list.kind() == lists::ListKind::Host) {
        if d.value.is_none() && d.numeric.is_empty() {
            let kind = match list.kind() {
                lists::ListKind::Domain => ListKind::Domain,
                lists::ListKind::LocalPart => ListKind::LocalPart,
                _ => ListKind::Address,
            };
            return match_list(ctx, kind, subject, list.text());
        }
    }
    result(m)
}

/// What matched (the item or the data it looked up, and `$0`...), or None.
fn result(m: ListMatch) -> Result<Option<MatchData>, String> {
    match m {
        ListMatch::Match(d) => Ok(Some(d)),
        ListMatch::NoMatch => Ok(None),
        ListMatch::Defer(m) => Err(m.unwrap_or_else(|| "NULL".to_string())),
        ListMatch::Panic(m) => Err(m),
    }
}

/// Exim expands every list it checks; in one without `$` only the
/// backslash escapes change (`^ten-1\\.test` is matched as `^ten-1\.test`).
/// Lists with `$` are left as they are: this context has no variables.
pub fn expand_escapes(text: &str) -> Result<std::borrow::Cow<'_, str>, String> {
    if !text.contains('\\') || text.contains('$') {
        return Ok(std::borrow::Cow::Borrowed(text));
    }
    struct NoVariables;
    impl crate::expand::Context for NoVariables {
        fn variable(&self, _name: &str) -> Option<String> {
            None
        }
        fn match_list(&mut self, _k: ListKind, _s: &str, _l: &str) -> Result<Option<crate::expand::Found>, crate::expand::ExpandError> {
            Ok(None)
        }
    }
    crate::expand::expand_string(text, &mut NoVariables).map(std::borrow::Cow::Owned).map_err(|e| e.to_string())
}

/// A `ListContext` with fixed named lists, no DNS and no expansion of
/// named lists: for tests, benchmarks and tools.
pub struct StaticListContext {
    /// Shared by the contexts of a process's sessions (`with_named`), so
    /// that each named list is compiled once.
    pub named: std::sync::Arc<lists::NamedLists>,
    pub primary_hostname: String,
    /// For `@[]` and `@mx_*` (127.0.0.1 unless set).
    pub local_interfaces: Vec<std::net::IpAddr>,
    pub hosts_treat_as_local: Option<String>,
    lookups: crate::lookups::Lookups,
    env: crate::lookups::NoExpand,
    cache: lists::NamedListCache,
    /// -bh: the list layer's trace lines are collected in `traced`, with
    /// the lines it logs among them as `LOG: ...`.
    pub tracing: bool,
    pub traced: Vec<String>,
    /// The client, whose name host name patterns need (looked up once).
    pub sender_host: Option<std::net::IpAddr>,
    /// The client's names: None until known; Some(None) when it has none.
    /// Set from the session's host_lookup, else looked up when a host
    /// list first needs them.
    pub host_names: Option<Option<Vec<String>>>,
    /// `host_lookup_order`.
    pub host_lookup_order: String,
    /// `log_selector = +unknown_in_list`.
    pub unknown_in_list: bool,
}

impl StaticListContext {
    /// Named lists as (kind letter d/h/a/l, name, text).
    pub fn new<'a>(named: impl IntoIterator<Item = (char, &'a str, &'a str)>) -> StaticListContext {
        Self::with_resolver(named, std::sync::Arc::new(crate::dns::fake::FakeResolver::default()))
    }

    /// The same, with a resolver for host names in host lists.
    pub fn with_resolver<'a>(named: impl IntoIterator<Item = (char, &'a str, &'a str)>, resolver: std::sync::Arc<dyn crate::dns::Resolver>) -> StaticListContext {
        StaticListContext {
            named: std::sync::Arc::new(named_lists(named)),
            primary_hostname: "localhost".into(),
            local_interfaces: vec!["127.0.0.1".parse().expect("literal")],
            hosts_treat_as_local: None,
            lookups: crate::lookups::Lookups::new(resolver),
            env: crate::lookups::NoExpand,
            cache: Default::default(),
            tracing: false,
            traced: Vec::new(),
            sender_host: None,
            host_names: None,
            host_lookup_order: crate::dns::host_lookup::DEFAULT_ORDER.into(),
            unknown_in_list: false,
        }
    }
}

/// Named lists as (kind letter d/h/a/l, name, text), held for
/// `StaticListContext::named`.
pub fn named_lists<'a>(named: impl IntoIterator<Item = (char, &'a str, &'a str)>) -> lists::NamedLists {
    let mut lists = lists::NamedLists::default();
    for (k, name, text) in named {
        let kind = match k {
            'd' => lists::ListKind::Domain,
            'h' => lists::ListKind::Host,
            'a' => lists::ListKind::Address,
            _ => lists::ListKind::LocalPart,
        };
        lists.insert(kind, name, lists::NamedList { value: text.to_string(), caching: lists::NamedCaching::Default });
    }
    lists
}

impl StaticListContext {
    /// Use this resolver for host names, `@mx_*` and dnsdb.
    pub fn set_resolver(&mut self, resolver: std::sync::Arc<dyn crate::dns::Resolver>) {
        self.lookups = crate::lookups::Lookups::new(resolver);
    }
}

impl ListContext for StaticListContext {
    fn named_list(&self, kind: lists::ListKind, name: &str) -> Option<lists::NamedList> {
        self.named.get(kind, name).map(|h| h.list.clone())
    }
    fn held_named_list(&self, kind: lists::ListKind, name: &str) -> Option<std::sync::Arc<lists::HeldList>> {
        self.named.get(kind, name).cloned()
    }
    fn expand_list(&mut self, text: &str, _kind: lists::ListKind, _subject: &str) -> lists::Expanded {
        match expand_escapes(text) {
            Ok(t) => lists::Expanded::Ok(t.into_owned()),
            Err(e) => lists::Expanded::Error(e),
        }
    }
    fn primary_hostname(&self) -> String {
        self.primary_hostname.clone()
    }
    fn local_interfaces(&self) -> Vec<std::net::IpAddr> {
        self.local_interfaces.clone()
    }
    fn hosts_treat_as_local(&self) -> Option<String> {
        self.hosts_treat_as_local.clone()
    }
    fn lookups(&mut self) -> (&mut crate::lookups::Lookups, &mut dyn crate::lookups::LookupEnv) {
        (&mut self.lookups, &mut self.env)
    }
    /// The client's names (Exim's host_name_lookup(), with its forward
    /// check), looked up once.
    fn sender_host_names(&mut self) -> Option<Vec<String>> {
        if let Some(known) = &self.host_names {
            return known.clone();
        }
        let ip = self.sender_host?;
        use crate::dns::host_lookup::{host_name_lookup_traced, HostLookup};
        let resolver = self.lookups.resolver();
        let found = if self.tracing {
            self.traced.push(format!("looking up host name for {ip}"));
            let traced = &mut self.traced;
            host_name_lookup_traced(resolver.as_ref(), ip, &self.host_lookup_order, Some(&mut |l: &str| traced.push(l.to_string())))
        } else {
            host_name_lookup_traced(resolver.as_ref(), ip, &self.host_lookup_order, None)
        };
        let names = match found {
            HostLookup::Found(n) => Some(n),
            HostLookup::Failed { no_ptr } => {
                if self.tracing && no_ptr {
                    self.traced.push(format!("LOG: no host name found for IP address {ip}"));
                }
                None
            }
            HostLookup::Deferred => None,
        };
        self.host_names = Some(names.clone());
        names
    }
    fn sender_host_name_known(&self) -> bool {
        matches!(&self.host_names, Some(Some(n)) if !n.is_empty())
    }
    fn named_cache(&mut self) -> &mut lists::NamedListCache {
        &mut self.cache
    }
    /// Log lines wait in `traced` as `LOG: ...` for the caller, which
    /// writes them to the log (or, with -bh, in the trace's order).
    fn log(&mut self, line: &str, _panic: bool) {
        self.traced.push(format!("LOG: {line}"));
    }
    fn log_unknown_in_list(&self) -> bool {
        self.unknown_in_list
    }
    fn tracing(&self) -> bool {
        self.tracing
    }
    fn trace(&mut self, line: &str) {
        self.traced.push(line.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fake::FakeResolver;

    /// `@mx_*` as the session's ACLs see them, with the shapes of Exim's
    /// test 0281 (its zone data, HOSTIPV4 = 127.0.0.2 a local interface,
    /// `hosts_treat_as_local = other1.test.ex`); the expected results are
    /// Exim's, recorded in its stdout/0281.
    #[test]
    fn mx_items_with_hosts_treat_as_local() {
        let mut f = FakeResolver::default();
        f.add_zone(
            "test.ex",
            "eximtesthost A 127.0.0.2\nten-1 A 10.0.0.1\nten-2 A 10.0.0.2\nten-3 A 10.0.0.3\nother1 A 10.12.4.5\n\
             mxt1 MX 5 eximtesthost.test.ex.\n\
             mxt3 MX 5 not-exist.test.ex.\n     MX 6 eximtesthost.test.ex.\n\
             mxt5 MX 5 eximtesthost.test.ex.\n     MX 5 ten-1.test.ex.\n\
             mxt6 MX 5 ten-1.test.ex.\n     MX 6 eximtesthost.test.ex.\n     MX 6 ten-2.test.ex.\n\
             mxt9 MX 5 ten-1.test.ex.\n     MX 6 ten-2.test.ex.\n     MX 7 ten-3.test.ex.\n     MX 8 ten-1.test.ex.\n\
             mxt13 MX 4 other1.test.ex.\n",
        );
        let mut ctx = StaticListContext::new([]);
        ctx.set_resolver(std::sync::Arc::new(f));
        ctx.local_interfaces = vec!["127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap()];
        ctx.hosts_treat_as_local = Some("other1.test.ex".into());
        let cases = [
            ("mxt13", "@mx_any", true),
            ("mxt1", "@mx_any", true),
            ("mxt6", "@mx_any", true),
            ("mxt9", "@mx_any", false),
            ("mxnone", "@mx_any", false),
            ("mxt5", "@mx_primary", true),
            ("mxt6", "@mx_primary", false),
            ("mxt9", "@mx_primary", false),
            ("mxt5", "@mx_secondary", false),
            ("mxt6", "@mx_secondary", true),
            ("mxt9", "@mx_secondary", false),
            ("mxt3", "@mx_any", true),
            ("mxt3", "@mx_primary", false),
            ("mxt3", "@mx_secondary", true),
        ];
        for (name, list, want) in cases {
            let domain = format!("{name}.test.ex");
            assert_eq!(match_list(&mut ctx, ListKind::Domain, &domain, list).map(|d| d.is_some()), Ok(want), "{domain} in {list}");
        }
        // Without the option, other1 is not the local host.
        ctx.hosts_treat_as_local = None;
        assert_eq!(match_list(&mut ctx, ListKind::Domain, "mxt13.test.ex", "@mx_any"), Ok(None));
    }
}
