//! Lists compiled once and matched many times. A caller that keeps a list
//! text (a literal ACL argument, an option) holds the `CompiledList`;
//! `cached()` finds one by the text after expansion, in a bounded cache.
//!
//! Only lists whose result cannot depend on anything but the subject are
//! compiled to a fast form: pure IP/CIDR host lists (an index), and
//! domain, local part and address lists of plain literal items (a set).
//! Everything else (negation, `+` items, wildcards, regexes, lookups,
//! files, `@` specials, named lists) is walked by the list engine as
//! before, so lookups and named lists keep Exim's own caching rules.

use super::address::{check_address, AddressSubject};
use super::check::ItemRc;
use super::ipindex::{self, IpIndex};
use super::host::{check_host, in_net, match_host_names, unmap};
use super::hostitem::{classify, HostItem as ItemClass};
use super::string::{check_string, StringSubject};
use crate::lookups::lsearch::parse_ip_net;
use super::iter::{ListIter, ListSep};
use super::{HostSubject, ListContext, ListKind, ListMatch, MatchData};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

pub struct CompiledList {
    kind: ListKind,
    text: Arc<str>,
    fast: Fast,
}

enum Fast {
    Ip(IpIndex),
    /// Plain items, lower-cased: the subject matches when it is one of
    /// `exact`, or (address lists) `*@domain` has its domain in `domains`,
    /// or the list has the item `*` (domain and local part lists).
    Set { any: bool, exact: FastSet, domains: FastSet },
    /// Items that can only match or not (literals, `*suffix`, `^regex`,
    /// address patterns without lookups), split once and tried in order.
    Items(Vec<Item>),
    /// A host list without negation or `+` items: addresses and networks
    /// parsed once, other items checked in their place.
    Hosts(Vec<HostItem>),
    Walk,
}

/// FNV-1a over the bytes: the sets' keys are short names from the
/// configuration, and hashing them must cost less than the walk saved.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastSet = HashSet<Box<str>, std::hash::BuildHasherDefault<Fnv>>;

impl std::fmt::Debug for CompiledList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.fast {
            Fast::Ip(_) => "ip index",
            Fast::Set { .. } => "set",
            Fast::Items(_) => "items",
            Fast::Hosts(_) => "hosts",
            Fast::Walk => "walk",
        };
        write!(f, "CompiledList({:?}, {how}, {} bytes)", self.kind, self.text.len())
    }
}

/// Letters, digits and the punctuation of ordinary names and addresses:
/// nothing that makes an item a pattern, a lookup, a file or a special.
fn plain(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'+' | b'='))
        && !s.starts_with('+')
}

fn compile_set(kind: ListKind, text: &str) -> Option<Fast> {
    let mut any = false;
    let mut exact = FastSet::default();
    let mut domains = FastSet::default();
    for item in ListIter::new(text, ListSep::Default) {
        match kind {
            ListKind::Domain | ListKind::LocalPart if item == "*" => any = true,
            ListKind::Domain | ListKind::LocalPart if plain(&item) => {
                exact.insert(item.to_ascii_lowercase().into_boxed_str());
            }
            ListKind::Address => {
                let (local, domain) = item.rsplit_once('@')?;
                if !plain(domain) {
                    return None;
                }
                if local == "*" {
                    domains.insert(domain.to_ascii_lowercase().into_boxed_str());
                } else if plain(local) {
                    exact.insert(item.to_ascii_lowercase().into_boxed_str());
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(Fast::Set { any, exact, domains })
}

/// An item of a domain, local part or address list.
enum Item {
    /// `^regex` in a domain or local part list, compiled (caseless).
    Regex(Arc<pcre2::bytes::Regex>),
    Text(Box<str>),
}

enum HostItem {
    Net(ipnet::IpNet),
    /// A pattern matched against the client's names (`*.example`,
    /// `^regex`, or a name with other characters, such as the `:1` that
    /// `::1` is in a colon list): classified once, not on each check.
    NamePattern(Box<str>),
    Other(Box<str>),
}

fn compile_hosts(text: &str) -> Option<Fast> {
    let mut items = Vec::new();
    for item in ListIter::new(text, ListSep::Default) {
        if item.starts_with(['!', '+', '/']) {
            return None;
        }
        items.push(match parse_ip_net(&item) {
            Some(net) => HostItem::Net(net),
            // `@` items stand for other names, `*` and "" are decided
            // before any classification: check_host deals with them.
            None if item.is_empty() || item == "*" || item.starts_with('@') => HostItem::Other(item.into_boxed_str()),
            None => match classify(&item) {
                ItemClass::Regex | ItemClass::Wildcard | ItemClass::Other => HostItem::NamePattern(item.into_boxed_str()),
                _ => HostItem::Other(item.into_boxed_str()),
            },
        });
    }
    Some(Fast::Hosts(items))
}

/// Lists whose items cannot defer or change how the rest is read: no
/// negation, `+` items, files, lookups or `@` specials.
fn compile_items(kind: ListKind, text: &str) -> Option<Fast> {
    let mut items = Vec::new();
    for item in ListIter::new(text, ListSep::Default) {
        let special = item.starts_with(['!', '+', '/']) || item.contains(';');
        if special || (kind != ListKind::Address && item.starts_with('@')) {
            return None;
        }
        // A regex that does not compile stays text: the walk reports it.
        let re = (kind != ListKind::Address && item.starts_with('^')).then(|| super::regex::compile(&item, true).ok()).flatten();
        items.push(match re {
            Some(re) => Item::Regex(re),
            None => Item::Text(item.into_boxed_str()),
        });
    }
    Some(Fast::Items(items))
}

impl CompiledList {
    /// Compile `text` (already expanded) as a list of `kind`.
    pub fn new(kind: ListKind, text: &str) -> CompiledList {
        let fast = match kind {
            ListKind::Host => {
                let pure_ip = text.bytes().all(|c| c.is_ascii_hexdigit() || b".:/! \t\n;<".contains(&c));
                let index = pure_ip.then(|| ipindex::compile_any(text)).flatten().map(Fast::Ip);
                index.or_else(|| compile_hosts(text)).unwrap_or(Fast::Walk)
            }
            _ => compile_set(kind, text).or_else(|| compile_items(kind, text)).unwrap_or(Fast::Walk),
        };
        CompiledList { kind, text: Arc::from(text), fast }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> ListKind {
        self.kind
    }

    /// Whether it is a pure address list held as an index.
    pub fn is_ip_index(&self) -> bool {
        matches!(self.fast, Fast::Ip(_))
    }

    /// Whether matching skips the item-by-item walk.
    pub fn is_fast(&self) -> bool {
        !matches!(self.fast, Fast::Walk)
    }

    /// A host list: as `lists::match_host`.
    pub fn match_host(&self, ctx: &mut dyn ListContext, host: &HostSubject) -> ListMatch {
        match self.try_host(ctx, host) {
            Some(m) => m,
            None => super::match_host(ctx, host, &self.text),
        }
    }

    /// A host list's answer from the fast form, with the walk's match
    /// data; None when the list must be walked.
    pub(crate) fn try_host(&self, ctx: &mut dyn ListContext, host: &HostSubject) -> Option<ListMatch> {
        match (&self.fast, host.address) {
            (Fast::Ip(idx), Some(ip)) => Some(found(idx.check(unmap(ip)))),
            (Fast::Hosts(items), Some(ip)) => try_hosts(ctx, host, unmap(ip), items),
            _ => None,
        }
    }

    /// A domain, local part or address list, caseless (as ACL conditions
    /// and `match_domain` use them).
    pub fn match_caseless(&self, ctx: &mut dyn ListContext, subject: &str) -> ListMatch {
        if let Fast::Set { any, exact, domains } = &self.fast {
            // An address without '@' has its own rules (a log line, the
            // domain patterns): the engine deals with it.
            let at = if self.kind == ListKind::Address { subject.bytes().rposition(|c| c == b'@') } else { None };
            if self.kind != ListKind::Address || at.is_some() {
                let lower = lower_case(subject);
                let hit = *any
                    || exact.contains(&*lower)
                    || at.is_some_and(|i| domains.contains(&lower[i + 1..]));
                return found(hit);
            }
        }
        if let Fast::Items(items) = &self.fast {
            if let Some(m) = self.try_items(ctx, subject, items) {
                return m;
            }
        }
        match self.kind {
            ListKind::Domain => super::match_domain(ctx, subject, &self.text),
            ListKind::LocalPart => super::match_local_part(ctx, subject, &self.text, true),
            ListKind::Address => super::match_address(ctx, subject, &self.text, true),
            ListKind::Host => {
                let host = HostSubject { address: subject.parse().ok(), name: None, ip_only: false };
                self.match_host(ctx, &host)
            }
        }
    }
}

impl CompiledList {
    /// The items in order; None (walk the list instead) for an answer
    /// other than a match or not, so errors come out as the walk has them.
    fn try_items(&self, ctx: &mut dyn ListContext, subject: &str, items: &[Item]) -> Option<ListMatch> {
        let rc = |r: ItemRc| match r {
            ItemRc::Ok(d) => Some(Some(ListMatch::Match(d))),
            ItemRc::Fail => None,
            _ => Some(None),
        };
        let decided = match self.kind {
            ListKind::Address => {
                let a = AddressSubject::new(subject, true);
                items.iter().find_map(|i| match i {
                    Item::Text(t) => rc(check_address(ctx, &a, t)),
                    Item::Regex(_) => Some(None),
                })
            }
            _ => {
                // The subject for text items is made when one is met:
                // lists of regexes only need it lower-cased.
                let lower = lower_case(subject);
                let mut s: Option<StringSubject> = None;
                items.iter().find_map(|i| match i {
                    Item::Text(t) => rc(check_string(ctx, s.get_or_insert_with(|| StringSubject::new(subject, true, self.kind)), t)),
                    Item::Regex(re) => match re.is_match(lower.as_bytes()) {
                        Ok(true) => Some(Some(ListMatch::Match(MatchData::default()))),
                        Ok(false) => None,
                        Err(_) => Some(None),
                    },
                })
            }
        };
        decided.unwrap_or(Some(ListMatch::NoMatch))
    }
}

/// The host items in order. An item that cannot be checked (a name that
/// does not resolve) ends the list with no match, as the walk has it
/// without `+include_unknown`; a deferral is left to the walk (None).
fn try_hosts(ctx: &mut dyn ListContext, host: &HostSubject, ip: std::net::IpAddr, items: &[HostItem]) -> Option<ListMatch> {
    for item in items {
        match item {
            HostItem::Net(net) => {
                if in_net(ip, net) {
                    return Some(found(true));
                }
            }
            // No names (or match_ip): an item that cannot be checked.
            HostItem::NamePattern(pattern) => match match_host_names(ctx, host, pattern) {
                Some(ItemRc::Ok(d)) => return Some(ListMatch::Match(d)),
                Some(ItemRc::Fail) => {}
                None | Some(ItemRc::Error(_)) => return Some(ListMatch::NoMatch),
                Some(ItemRc::Defer(_) | ItemRc::Panic(_)) => return None,
            },
            HostItem::Other(text) => match check_host(ctx, host, text) {
                ItemRc::Ok(d) => return Some(ListMatch::Match(d)),
                ItemRc::Fail => {}
                ItemRc::Error(_) => return Some(ListMatch::NoMatch),
                ItemRc::Defer(_) | ItemRc::Panic(_) => return None,
            },
        }
    }
    Some(ListMatch::NoMatch)
}

/// The subject lower-cased, copied only when it has capitals.
fn lower_case(subject: &str) -> std::borrow::Cow<'_, str> {
    if subject.bytes().any(|c| c.is_ascii_uppercase()) {
        subject.to_ascii_lowercase().into()
    } else {
        subject.into()
    }
}

fn found(hit: bool) -> ListMatch {
    if hit {
        ListMatch::Match(MatchData::default())
    } else {
        ListMatch::NoMatch
    }
}

/// The cache's size: past it, it starts again (lists that keep changing
/// are expanded with per-message data and would only fill it).
const CACHE_MAX: usize = 512;

/// Compiled lists by kind, then by a fingerprint of the text (its length
/// and a sample of its bytes, so a long list is not hashed in full); the
/// text itself confirms a hit.
type Cache = Mutex<[std::collections::HashMap<u64, Vec<Arc<CompiledList>>>; 4]>;

fn fingerprint(text: &str) -> u64 {
    let b = text.as_bytes();
    let step = (b.len() / 64).max(1);
    let mut h = std::hash::Hasher::finish(&Fnv(0xcbf2_9ce4_8422_2325 ^ b.len() as u64));
    for &c in b.iter().step_by(step).chain(&b[b.len().saturating_sub(16)..]) {
        h = (h ^ c as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The compiled form of a list text, compiled on first use.
pub fn cached(kind: ListKind, text: &str) -> Arc<CompiledList> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let (k, fp) = (kind as usize, fingerprint(text));
    let hit = cache.lock().ok().and_then(|c| c[k].get(&fp).and_then(|v| v.iter().find(|l| *l.text == *text).cloned()));
    if let Some(c) = hit {
        return c;
    }
    let c = Arc::new(CompiledList::new(kind, text));
    if let Ok(mut m) = cache.lock() {
        if m[k].len() >= CACHE_MAX {
            m[k].clear();
        }
        m[k].entry(fp).or_default().push(c.clone());
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::lists_env::StaticListContext;

    fn both(kind: ListKind, subject: &str, text: &str) -> (bool, bool) {
        let mut ctx = StaticListContext::new([]);
        let c = CompiledList::new(kind, text);
        let walked = match kind {
            ListKind::Domain => super::super::match_domain(&mut ctx, subject, text),
            ListKind::LocalPart => super::super::match_local_part(&mut ctx, subject, text, true),
            ListKind::Address => super::super::match_address(&mut ctx, subject, text, true),
            ListKind::Host => {
                let h = HostSubject { address: subject.parse().ok(), name: None, ip_only: false };
                super::super::match_host(&mut ctx, &h, text)
            }
        };
        let fast = if kind == ListKind::Host {
            c.match_host(&mut ctx, &HostSubject { address: subject.parse().ok(), name: None, ip_only: false })
        } else {
            c.match_caseless(&mut ctx, subject)
        };
        (fast.is_match(), walked.is_match())
    }

    /// The fast forms give the walk's answers.
    #[test]
    fn same_as_the_walk() {
        let cases: &[(ListKind, &str, &str, bool)] = &[
            (ListKind::Domain, "Test.EX", "a.b : test.ex", true),
            (ListKind::Domain, "x.test.ex", "a.b : test.ex", false),
            (ListKind::Domain, "anything", "a.b : *", true),
            (ListKind::LocalPart, "Root", "root : daemon", true),
            (ListKind::LocalPart, "rootx", "root : daemon", false),
            (ListKind::Address, "X@Spam1.Example", "*@spam1.example : a@b.c", true),
            (ListKind::Address, "A@B.C", "*@spam1.example : a@b.c", true),
            (ListKind::Address, "a@x.b.c", "*@spam1.example : a@b.c", false),
            (ListKind::Address, "", "*@spam1.example : a@b.c", false),
            (ListKind::Host, "10.0.0.1", "10.0.0.0/8 : 192.168.1.1", true),
            (ListKind::Host, "::ffff:192.168.1.1", "10.0.0.0/8 : 192.168.1.1", true),
            (ListKind::Host, "11.0.0.1", "10.0.0.0/8 : 192.168.1.1", false),
        ];
        for (kind, subject, text, want) in cases {
            assert!(CompiledList::new(*kind, text).is_fast(), "{text}");
            assert_eq!(both(*kind, subject, text), (*want, *want), "{subject} in {text}");
        }
        // Items tried in order, as the walk would.
        let items: &[(ListKind, &str, &str, bool)] = &[
            (ListKind::Domain, "X.Test.Ex", "a.b : *.test.ex", true),
            (ListKind::Domain, "test.ex", "a.b : *.test.ex", false),
            (ListKind::LocalPart, "Root", "^r.*t$ : x", true),
            (ListKind::LocalPart, "a/b", "^.*[@%!/|] : ^\\.", true),
            (ListKind::LocalPart, ".dot", "^.*[@%!/|] : ^\\.", true),
            (ListKind::LocalPart, "dot", "^.*[@%!/|] : ^\\.", false),
            (ListKind::Address, "u@Spam.Example", "spam.example", true),
            (ListKind::Address, "u@x.spam.example", "*@*.spam.example", true),
            (ListKind::Address, "nodomain", "spam.example : a@b", false),
        ];
        for (kind, subject, text, want) in items {
            assert!(matches!(CompiledList::new(*kind, text).fast, Fast::Items(_)), "{text}");
            assert_eq!(both(*kind, subject, text), (*want, *want), "{subject} in {text}");
        }
        // Host items in order: addresses parsed once, the rest checked.
        let hosts: &[(&str, &str, bool)] = &[
            ("10.0.0.1", "127.0.0.1 : ::1", false),
            ("127.0.0.1", "127.0.0.1 : ::1", true),
            ("10.0.0.1", "@[] : 10.0.0.0/8", true),
            ("127.0.0.1", "@[] : 10.0.0.0/8", true),
            ("10.0.0.1", "*", true),
            ("10.0.0.1", "unresolvable.example : 10.0.0.1", false),
        ];
        for (subject, text, want) in hosts {
            assert!(matches!(CompiledList::new(ListKind::Host, text).fast, Fast::Hosts(_)), "{text}");
            assert_eq!(both(ListKind::Host, subject, text), (*want, *want), "{subject} in {text}");
        }
        // Walked: negation, `+` items, specials, lookups, named lists.
        for (kind, text) in [
            (ListKind::Domain, "!a.b : *"),
            (ListKind::Domain, "@"),
            (ListKind::Domain, "@mx_any"),
            (ListKind::Address, "+caseful : A@b"),
            (ListKind::Domain, "lsearch;/etc/x"),
            (ListKind::Domain, "+local_domains"),
            (ListKind::Host, "10.0.0.0/8 : !10.1.0.0/16 : *"),
            (ListKind::Host, "+ignore_unknown : host.example"),
        ] {
            assert!(matches!(CompiledList::new(kind, text).fast, Fast::Walk), "{text}");
        }
    }

    /// Name patterns (classified once) against the client's names.
    #[test]
    fn host_name_patterns() {
        for (names, text, want) in [
            (vec!["mail.example"], "10.0.0.1 : *.example", true),
            (vec!["mail.example"], "10.0.0.1 : ^mail\\.", true),
            (vec!["mail.example"], "127.0.0.1 : ::1", false),
            (vec![":1"], "127.0.0.1 : ::1", true),
            (vec![], "*.example : 192.0.2.1", false),
        ] {
            let c = CompiledList::new(ListKind::Host, text);
            assert!(matches!(c.fast, Fast::Hosts(_)), "{text}");
            let host = HostSubject { address: "192.0.2.1".parse().ok(), name: None, ip_only: false };
            let ctx = || {
                let mut ctx = StaticListContext::new([]);
                ctx.host_names = Some((!names.is_empty()).then(|| names.iter().map(|n| n.to_string()).collect()));
                ctx
            };
            let walked = super::super::check::check_list(&mut ctx(), text, ListSep::Default, ListKind::Host, &mut super::super::check::Subject::Host(&host), false);
            assert_eq!(c.match_host(&mut ctx(), &host).is_match(), want, "{text}");
            assert_eq!(walked.is_match(), want, "{text}");
        }
    }

    /// A named host list is compiled once with its definition and gives
    /// the walk's answers, with the trace on (the walk) or off.
    #[test]
    fn named_host_list_compiled_once() {
        let mut ctx = StaticListContext::new([('h', "relay", "10.0.0.0/8 : 192.168.1.1"), ('h', "names", "*.example : 10.0.0.0/8"), ('h', "late", "10.0.0.0/8 : *.example")]);
        for (subject, list, want) in [
            ("10.1.2.3", "+relay", true),
            ("11.1.2.3", "+relay", false),
            ("11.1.2.3", "!+relay : *", true),
            ("192.168.1.1", "!+relay : *", false),
            // The client has no name: the list ends there, with no match.
            ("10.1.2.3", "+names", false),
            ("10.1.2.3", "+late", true),
            ("11.1.2.3", "+late", false),
        ] {
            for tracing in [false, true, false] {
                ctx.tracing = tracing;
                let host = HostSubject { address: subject.parse().ok(), name: None, ip_only: false };
                assert_eq!(super::super::match_host(&mut ctx, &host, list).is_match(), want, "{subject} in {list} (trace {tracing})");
            }
            ctx.named_cache().clear();
        }
        let held = ctx.held_named_list(ListKind::Host, "relay").unwrap();
        assert!(held.compiled_host(ListKind::Host).is_some_and(CompiledList::is_ip_index));
        assert!(std::ptr::eq(held.compiled_host(ListKind::Host).unwrap(), ctx.held_named_list(ListKind::Host, "relay").unwrap().compiled_host(ListKind::Host).unwrap()));
        // The second check with the trace on finds the result the fast
        // path cached, as Exim's trace says.
        ctx.tracing = false;
        let host = HostSubject { address: "10.9.9.9".parse().ok(), name: None, ip_only: false };
        assert!(super::super::match_host(&mut ctx, &host, "+relay").is_match());
        ctx.tracing = true;
        ctx.traced.clear();
        assert!(super::super::match_host(&mut ctx, &host, "+relay").is_match());
        assert_eq!(ctx.traced, vec!["host in \"+relay\"? yes (matched \"+relay\" - cached)".to_string()]);
        // A list that expands differently each time is not held compiled.
        let held = crate::lists::HeldList::new(crate::lists::NamedList { value: "$x : 10.0.0.0/8".into(), caching: crate::lists::NamedCaching::Default });
        assert!(held.compiled_host(ListKind::Host).is_none());
    }

    #[test]
    fn cache_returns_the_same_compiled_list() {
        let a = cached(ListKind::Domain, "cache.test : other.test");
        let b = cached(ListKind::Domain, "cache.test : other.test");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &cached(ListKind::LocalPart, "cache.test : other.test")));
    }
}
