//! Domain, host, address and local part lists (Exim's match.c and the list
//! parts of host.c / verify.c).
//!
//! Callers expand the list text themselves and pass the result; named lists
//! (`+name`) are fetched and expanded through `ListContext`, which is also
//! where everything else the layer needs from the rest of rexim comes from.
//! See docs/lists.md for the API.

pub mod address;
pub mod check;
pub mod compiled;
pub mod host;
pub mod hostitem;
pub mod ipindex;
pub mod iter;
pub mod named;
pub mod regex;
pub mod string;

pub use iter::{list_append, list_count, list_items, ListIter, ListSep};
pub use named::{HeldList, NamedListCache, NamedLists};

use crate::lookups::{Found, LookupEnv, LookupError, LookupSpec, Lookups};
use std::net::IpAddr;

/// The four kinds of list (Exim's MCL_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListKind {
    Domain,
    Host,
    Address,
    LocalPart,
}

impl ListKind {
    /// The word Exim uses in messages ("unknown named domain list").
    pub fn word(self) -> &'static str {
        match self {
            ListKind::Domain => "domain",
            ListKind::Host => "host",
            ListKind::Address => "address",
            ListKind::LocalPart => "local part",
        }
    }
}

/// How a named list was defined: `domainlist`, `domainlist_cache`,
/// `domainlist_no_cache` (and the same for the other kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedCaching {
    /// Cached only if the definition contains no `$`.
    Default,
    Cache,
    NoCache,
}

/// A named list's definition (unexpanded).
#[derive(Clone, Debug)]
pub struct NamedList {
    pub value: String,
    pub caching: NamedCaching,
}

/// Result of expanding a (named) list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expanded {
    Ok(String),
    /// Forced failure: the subject is taken as not in the list.
    ForcedFail,
    Error(String),
}

/// Everything the list layer needs from its caller.
pub trait ListContext {
    /// A named list's definition, if there is one of this kind.
    fn named_list(&self, kind: ListKind, name: &str) -> Option<NamedList>;
    /// A named list as the context holds it, so that a long list is not
    /// copied for each check and a host list is compiled once. The
    /// default wraps `named_list`, compiling nothing.
    fn held_named_list(&self, kind: ListKind, name: &str) -> Option<std::sync::Arc<HeldList>> {
        self.named_list(kind, name).map(|l| std::sync::Arc::new(HeldList::for_once(l)))
    }
    /// Expand a named list's text. For domain and local part lists Exim
    /// sets $domain / $local_part to `subject` if they are unset.
    fn expand_list(&mut self, text: &str, kind: ListKind, subject: &str) -> Expanded;
    /// The `primary_hostname` option.
    fn primary_hostname(&self) -> String;
    /// The local interface addresses (for `@[]` and `@mx_*`).
    fn local_interfaces(&self) -> Vec<IpAddr>;
    /// The `hosts_treat_as_local` option, unexpanded: a domain list of MX
    /// host names that count as the local host for `@mx_*`.
    fn hosts_treat_as_local(&self) -> Option<String> {
        None
    }
    /// The lookup state and an expander for wildlsearch keys.
    fn lookups(&mut self) -> (&mut Lookups, &mut dyn LookupEnv);
    /// A lookup from a list item: a query (`key` None) or a single-key
    /// lookup. Contexts whose expander needs the lookup state too
    /// override this.
    fn list_lookup(&mut self, spec: &LookupSpec, arg: &str, key: Option<&str>) -> Result<Found, LookupError> {
        let (lookups, env) = self.lookups();
        match key {
            None => Ok(lookups.query(spec, arg, env)),
            Some(k) => lookups.find(spec, arg, k, env),
        }
    }
    /// The sender host's name and aliases, looked up (reverse, then
    /// forward-verified) if not yet known; None if it cannot be found.
    /// Only called for host lists matched against the sender host.
    fn sender_host_names(&mut self) -> Option<Vec<String>>;
    /// `log_selector = +unknown_in_list`: an item that cannot be checked
    /// (without `+include_unknown`) is logged.
    fn log_unknown_in_list(&self) -> bool {
        false
    }
    /// Whether the sender host's name is known already (Exim traces
    /// `sender host name required` only when it is not).
    fn sender_host_name_known(&self) -> bool {
        false
    }
    /// Named-list result cache (cleared by the caller where Exim resets it).
    fn named_cache(&mut self) -> &mut NamedListCache;
    /// Write a line to the main log; `panic` also to the panic log.
    fn log(&mut self, line: &str, panic: bool);
    /// Exim's smtp_get_connection_info() while an SMTP command is checked
    /// (`SMTP connection from NAME (HELO) [IP]`), for the log line of a
    /// host name item without addresses; None outside SMTP or once a
    /// message has its id.
    fn connection_info(&self) -> Option<String> {
        None
    }
    /// Whether Exim's debug trace is wanted (`-bh`): each list check then
    /// says how it was decided through `trace` (`x in "list"? yes
    /// (matched "item")`).
    fn tracing(&self) -> bool {
        false
    }
    /// One trace line, without the `>>> ` that -bh puts before it.
    fn trace(&mut self, _line: &str) {}
}

/// What a successful match yields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchData {
    /// The value for $domain_data, $host_data, $local_part_data,
    /// $sender_data or $recipient_data (and $value in `${if match_*}`).
    pub value: Option<String>,
    /// $0, $1, ... set by a regex or `*` match (empty if none).
    pub numeric: Vec<String>,
}

/// The result of checking a subject against a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListMatch {
    Match(MatchData),
    NoMatch,
    /// Temporary failure; the text is Exim's search_error_message, or
    /// None where Exim has none (its expansion then says "NULL").
    Defer(Option<String>),
    /// Exim writes this to the main and panic logs and exits
    /// (LOG_PANIC_DIE): unknown lookup type, unopenable lookup or list file,
    /// bad regular expression.
    Panic(String),
}

impl ListMatch {
    pub fn is_match(&self) -> bool {
        matches!(self, ListMatch::Match(_))
    }
}

/// A host to check against a host list.
#[derive(Clone, Debug)]
pub struct HostSubject {
    /// The IP address; None for "no remote host" (local SMTP).
    pub address: Option<IpAddr>,
    /// The name, when known in advance (outgoing hosts); None means use
    /// `ListContext::sender_host_names()`.
    pub name: Option<String>,
    /// `match_ip` mode: never look up or match names; lookups are keyed by
    /// the address even without `net-`.
    pub ip_only: bool,
}

/// Check a domain against a domain list (match_isinlist(MCL_DOMAIN)).
pub fn match_domain(ctx: &mut dyn ListContext, domain: &str, list: &str) -> ListMatch {
    let mut s = string::StringSubject::new(domain, true, ListKind::Domain);
    check::check_list(ctx, list, ListSep::Default, ListKind::Domain, &mut check::Subject::Str(&mut s), false)
}

/// Check a local part against a local part list; `caseless` as for a
/// router without caseful_local_part (and `${if match_local_part}`).
pub fn match_local_part(ctx: &mut dyn ListContext, local_part: &str, list: &str, caseless: bool) -> ListMatch {
    let mut s = string::StringSubject::new(local_part, caseless, ListKind::LocalPart);
    check::check_list(ctx, list, ListSep::Default, ListKind::LocalPart, &mut check::Subject::Str(&mut s), false)
}

/// Check an address against an address list (match_address_list()).
pub fn match_address(ctx: &mut dyn ListContext, address: &str, list: &str, caseless: bool) -> ListMatch {
    let mut a = address::AddressSubject::new(address, caseless);
    check::check_list(ctx, list, ListSep::Default, ListKind::Address, &mut check::Subject::Address(&mut a), false)
}

/// Check an address against a list of one item, never split (Exim's
/// match_address_list() with an impossible separator: a rewrite rule's
/// pattern).
pub fn match_address_item(ctx: &mut dyn ListContext, address: &str, item: &str, caseless: bool) -> ListMatch {
    let mut a = address::AddressSubject::new(address, caseless);
    check::check_list(ctx, item, ListSep::Fixed(0), ListKind::Address, &mut check::Subject::Address(&mut a), false)
}

/// Check a host against a host list (verify_check_this_host()).
pub fn match_host(ctx: &mut dyn ListContext, host: &HostSubject, list: &str) -> ListMatch {
    if let Some(m) = match_compiled_host(ctx, host, list) {
        return m;
    }
    check::check_list(ctx, list, ListSep::Default, ListKind::Host, &mut check::Subject::Host(host), false)
}

/// Long host lists are compiled once per text and found by it (a short
/// one is walked in less time than its text is found). The compiled form
/// cannot say which item matched, which the trace shows.
fn match_compiled_host(ctx: &mut dyn ListContext, host: &HostSubject, list: &str) -> Option<ListMatch> {
    if host.address.is_none() || list.len() < 64 || ctx.tracing() {
        return None;
    }
    compiled::cached(ListKind::Host, list).try_host(ctx, host)
}

/// A main option's host list (`host_lookup`, `helo_verify_hosts`...), as
/// Exim's verify_check_host(&option): the trace names the option, and an
/// unset option (`None`) matches nothing.
pub fn match_host_option(ctx: &mut dyn ListContext, host: &HostSubject, option: &str, list: Option<&str>) -> ListMatch {
    let Some(list) = list else {
        if ctx.tracing() {
            ctx.trace(&format!("host in {option}? no (option unset)"));
        }
        return ListMatch::NoMatch;
    };
    if let Some(m) = match_compiled_host(ctx, host, list) {
        return m;
    }
    check::check_list_labelled(ctx, list, Some(option), ListSep::Default, ListKind::Host, &mut check::Subject::Host(host)).result
}

/// A main option's domain list (`helo_lookup_domains`,
/// `dns_again_means_nonexist`...), named in the trace as the option.
pub fn match_domain_option(ctx: &mut dyn ListContext, domain: &str, option: &str, list: Option<&str>) -> ListMatch {
    let Some(list) = list else {
        if ctx.tracing() {
            ctx.trace(&format!("{domain} in {option}? no (option unset)"));
        }
        return ListMatch::NoMatch;
    };
    let mut s = string::StringSubject::new(domain, true, ListKind::Domain);
    check::check_list_labelled(ctx, list, Some(option), ListSep::Default, ListKind::Domain, &mut check::Subject::Str(&mut s)).result
}

/// `${if match_ip{addr}{list}}`: `addr` must be an IP address or empty.
/// Err is Exim's expansion error text.
pub fn match_ip(ctx: &mut dyn ListContext, addr: &str, list: &str) -> Result<ListMatch, String> {
    let address = if addr.is_empty() {
        None
    } else {
        Some(host::parse_subject_ip(addr).ok_or_else(|| format!("\"{addr}\" is not an IP address"))?)
    };
    let h = HostSubject { address, name: Some(String::new()), ip_only: true };
    Ok(match_host(ctx, &h, list))
}

/// `${if inlist{s}{list}}`: a plain, case-sensitive string list.
pub fn inlist(s: &str, list: &str) -> Option<String> {
    ListIter::new(list, ListSep::Default).find(|i| i == s)
}

#[cfg(test)]
mod tests;

/// Why a `${if match_*}` condition could not be decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpansionMatchError {
    /// An expansion failure with Exim's text.
    Failed(String),
    /// Exim logs this (main and panic log) and exits (LOG_PANIC_DIE).
    PanicDie(String),
}

/// Map a list result to what `${if match_domain/match_ip/...}` does:
/// Ok(Some(data)) true (data.value becomes $value), Ok(None) false.
pub fn expansion_result(list: &str, m: ListMatch) -> Result<Option<MatchData>, ExpansionMatchError> {
    match m {
        ListMatch::Match(d) => Ok(Some(d)),
        ListMatch::NoMatch => Ok(None),
        ListMatch::Defer(msg) => Err(ExpansionMatchError::Failed(format!(
            "unable to complete match against \"{list}\": {}",
            msg.as_deref().unwrap_or("NULL")
        ))),
        ListMatch::Panic(m) => Err(ExpansionMatchError::PanicDie(m)),
    }
}
