//! The session's list options (`*_hosts`, `helo_lookup_domains`...)
//! through the lists layer (src/lists), with Exim's -bh trace.

use std::sync::{Arc, Mutex};

use super::hooks::{HostMatcher, Trace};
use crate::acl::lists_env::StaticListContext;
use crate::lists::{self, HostSubject, ListMatch};

/// Named lists and `primary_hostname` from the configuration; host names
/// in lists are looked up through the resolver.
pub struct ListsHostMatcher {
    ctx: Mutex<StaticListContext>,
}

impl ListsHostMatcher {
    /// Named lists as (kind letter d/h/a/l, name, text).
    pub fn new(named: &[(char, String, String)], primary_hostname: &str, resolver: Arc<dyn crate::dns::Resolver>) -> Self {
        let mut ctx = StaticListContext::with_resolver(named.iter().map(|(k, n, v)| (*k, n.as_str(), v.as_str())), resolver);
        ctx.primary_hostname = primary_hostname.to_string();
        ListsHostMatcher { ctx: Mutex::new(ctx) }
    }

    /// `host_lookup_order` for the names a host list looks up.
    pub fn with_host_lookup_order(self, order: &str) -> Self {
        self.ctx.lock().unwrap_or_else(|e| e.into_inner()).host_lookup_order = order.to_string();
        self
    }

    /// No named lists and no DNS: for tests and tools.
    pub fn plain() -> Self {
        Self::new(&[], "localhost", Arc::new(crate::dns::fake::FakeResolver::default()))
    }

    fn run(&self, trace: Trace, f: impl FnOnce(&mut StaticListContext) -> ListMatch) -> bool {
        let mut ctx = self.ctx.lock().unwrap_or_else(|e| e.into_inner());
        ctx.tracing = trace.is_some();
        let m = f(&mut ctx);
        let lines = std::mem::take(&mut ctx.traced);
        ctx.tracing = false;
        drop(ctx);
        if let Some(t) = trace {
            for l in &lines {
                t(l);
            }
        }
        m.is_match()
    }
}

impl HostMatcher for ListsHostMatcher {
    fn host_in(&self, option: &str, list: Option<&str>, address: Option<&str>, name: Option<&str>, trace: Trace) -> bool {
        let host = HostSubject {
            address: address.and_then(|a| lists::host::parse_subject_ip(a)),
            name: name.map(str::to_string),
            ip_only: false,
        };
        self.run(trace, |ctx| match option {
            "" => lists::match_host(ctx, &host, list.unwrap_or_default()),
            _ => lists::match_host_option(ctx, &host, option, list),
        })
    }

    fn host_in_looking_up(&self, option: &str, list: Option<&str>, address: Option<&str>, lookup_failed: bool, trace: Trace) -> (bool, Option<Option<Vec<String>>>) {
        let host = HostSubject { address: address.and_then(lists::host::parse_subject_ip), name: None, ip_only: false };
        let mut found = None;
        let yes = self.run(trace, |ctx| {
            ctx.sender_host = host.address;
            ctx.host_names = if lookup_failed { Some(None) } else { None };
            let m = match option {
                "" => lists::match_host(ctx, &host, list.unwrap_or_default()),
                _ => lists::match_host_option(ctx, &host, option, list),
            };
            if !lookup_failed {
                found = ctx.host_names.take();
            }
            ctx.sender_host = None;
            ctx.host_names = None;
            m
        });
        (yes, found)
    }

    fn domain_in(&self, option: &str, list: Option<&str>, domain: &str, trace: Trace) -> bool {
        self.run(trace, |ctx| lists::match_domain_option(ctx, domain, option, list))
    }

    fn address_in(&self, list: &str, address: &str) -> bool {
        self.run(None, |ctx| lists::match_address(ctx, address, list, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        let m = ListsHostMatcher::plain();
        assert!(m.matches("*", Some("10.0.0.1"), None));
        assert!(m.matches("*", None, None));
        assert!(m.matches("10.0.0.0/8", Some("10.1.2.3"), None));
        assert!(!m.matches("!10.0.0.0/8 : *", Some("10.1.2.3"), None));
        assert!(m.matches("!10.0.0.0/8 : *", Some("127.0.0.1"), None));
        assert!(m.matches("<; ::1 ; 127.0.0.1", Some("127.0.0.1"), None));
        assert!(m.matches(": 1.2.3.4", None, None));
        assert!(!m.matches("1.2.3.4", None, None));
        assert!(m.matches("*.example", Some("1.1.1.1"), Some("a.example")));
        assert!(m.matches("!10.0.0.1", Some("10.0.0.2"), None));
        assert!(m.matches("!10.0.0.1", None, None));
        assert!(!m.matches("!10.0.0.1", Some("10.0.0.1"), None));
    }

    #[test]
    fn trace_names_the_option() {
        let m = ListsHostMatcher::plain();
        let mut lines = Vec::new();
        let mut sink = |l: &str| lines.push(l.to_string());
        assert!(!m.host_in("host_lookup", None, Some("10.0.0.1"), None, Some(&mut sink)));
        assert!(m.host_in("pipelining_advertise_hosts", Some("*"), Some("10.0.0.1"), None, Some(&mut sink)));
        assert!(!m.host_in("chunking_advertise_hosts", Some(""), Some("10.0.0.1"), None, Some(&mut sink)));
        assert!(!m.host_in("", Some("! 10.9.0.0/24 : 10.0.0.0/8"), Some("10.9.0.1"), None, Some(&mut sink)));
        assert!(!m.domain_in("helo_lookup_domains", Some("@ : @[]"), "client", Some(&mut sink)));
        assert_eq!(
            lines,
            [
                "host in host_lookup? no (option unset)",
                "host in pipelining_advertise_hosts? yes (matched \"*\")",
                "host in chunking_advertise_hosts? no (end of list)",
                "host in \"! 10.9.0.0/24 : 10.0.0.0/8\"? no (matched \"! 10.9.0.0/24\")",
                "client in helo_lookup_domains? no (end of list)",
            ]
        );
    }
}
