//! Matching one string item: domain and local part list items, host name
//! patterns, and the domain part of address list items (Exim's
//! check_string() / match_check_string()).

use super::check::ItemRc;
use super::{regex, ListContext, ListKind, MatchData};
use crate::dns::{DnsResult, DnsType, RecordData};
use crate::lookups::{LookupError, LookupOutcome, LookupSpec};

/// A domain or local part being checked.
pub struct StringSubject {
    /// As given (restored by `+caseful`).
    pub orig: String,
    /// Lower-cased when matching caselessly.
    pub subject: String,
    pub caseless: bool,
    /// `@`, `@[]`, `@mx_*` are special (domain lists).
    pub at_special: bool,
    /// Partial lookups allowed.
    pub partial: bool,
}

impl StringSubject {
    pub fn new(s: &str, caseless: bool, kind: ListKind) -> Self {
        StringSubject {
            orig: s.to_string(),
            subject: if caseless { s.to_ascii_lowercase() } else { s.to_string() },
            caseless,
            at_special: kind == ListKind::Domain,
            partial: true,
        }
    }

    /// `+caseful`: restore the original case and compare casefully.
    pub fn make_caseful(&mut self) {
        self.subject = self.orig.clone();
        self.caseless = false;
    }
}

pub fn check_string(ctx: &mut dyn ListContext, s: &StringSubject, pattern: &str) -> ItemRc {
    match_check_string(ctx, &s.subject, pattern, s.caseless, s.at_special, s.partial)
}

fn eq(a: &str, b: &str, caseless: bool) -> bool {
    if caseless {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Match `subject` against one pattern.
pub fn match_check_string(ctx: &mut dyn ListContext, subject: &str, pattern: &str, caseless: bool, at_special: bool, partial: bool) -> ItemRc {
    let value = Some(pattern.to_string());
    if pattern.starts_with('^') {
        let re = match regex::compile(pattern, caseless) {
            Ok(r) => r,
            Err(m) => return ItemRc::Panic(m),
        };
        return match regex::captures(&re, subject) {
            // As Exim has it, $0 is the whole subject, not the part matched.
            Ok(Some(mut caps)) => {
                if let Some(all) = caps.first_mut() {
                    *all = subject.to_string();
                }
                ItemRc::Ok(MatchData { value, numeric: caps })
            }
            Ok(None) => ItemRc::Fail,
            Err(m) => ItemRc::Defer(Some(m)),
        };
    }
    if let Some(tail) = pattern.strip_prefix('*') {
        if tail.len() > subject.len() || !subject.is_char_boundary(subject.len() - tail.len()) {
            return ItemRc::Fail;
        }
        let cut = subject.len() - tail.len();
        if !eq(&subject[cut..], tail, caseless) {
            return ItemRc::Fail;
        }
        return ItemRc::Ok(MatchData { value, numeric: vec![subject.to_string(), subject[..cut].to_string()] });
    }
    let mut pattern = pattern;
    let primary;
    if at_special && pattern.starts_with('@') {
        if pattern == "@" {
            primary = ctx.primary_hostname();
            pattern = &primary;
            if !eq(subject, pattern, caseless) {
                return ItemRc::Fail;
            }
            return ItemRc::Ok(MatchData { value: Some(primary.clone()), numeric: vec![subject.to_string()] });
        }
        if pattern == "@[]" {
            // Exim's test needs only one of the brackets.
            if !subject.starts_with('[') && !subject.ends_with(']') || subject.len() < 2 {
                return ItemRc::Fail;
            }
            let inner = &subject[1..subject.len() - 1];
            return if ctx.local_interfaces().iter().any(|ip| ip.to_string() == inner) {
                ItemRc::Ok(MatchData { value, numeric: vec![subject.to_string()] })
            } else {
                ItemRc::Fail
            };
        }
        if pattern.len() >= 4 && pattern[..4].eq_ignore_ascii_case("@mx_") {
            if let Some(rc) = mx_special(ctx, subject, &pattern[4..], pattern) {
                return rc;
            }
        }
    }
    let Some(semi) = pattern.find(';') else {
        if !eq(subject, pattern, caseless) {
            return ItemRc::Fail;
        }
        return ItemRc::Ok(MatchData { value, numeric: vec![subject.to_string()] });
    };
    let mut spec = match LookupSpec::parse(&pattern[..semi]) {
        Ok(s) => s,
        Err(e) => return ItemRc::Panic(e.to_string()),
    };
    if !partial {
        spec.partial = None;
    }
    let arg = &pattern[semi + 1..];
    let key = (!spec.is_query_style()).then_some(subject);
    let found = match ctx.list_lookup(&spec, arg, key) {
        Ok(f) => f,
        Err(LookupError::Open(m)) | Err(LookupError::Syntax(m)) => return ItemRc::Panic(m),
    };
    match found.outcome {
        LookupOutcome::Found(v) => {
            let mut numeric = vec![subject.to_string()];
            if let Some((a, b)) = found.numeric {
                numeric.push(a);
                numeric.push(b);
            }
            ItemRc::Ok(MatchData { value: Some(v), numeric })
        }
        LookupOutcome::NotFound => ItemRc::Fail,
        LookupOutcome::Defer(m) => ItemRc::Defer(Some(m)),
    }
}

/// Whether an MX host name is in `hosts_treat_as_local`.
fn match_named_local(ctx: &mut dyn ListContext, name: &str, list: &str) -> bool {
    match ctx.expand_list(list, ListKind::Domain, name) {
        super::Expanded::Ok(text) => super::match_domain(ctx, name, &text).is_match(),
        _ => false,
    }
}

/// `@mx_any`, `@mx_primary`, `@mx_secondary`, with optional
/// `/ignore=<host list>`. None: not one of these (matched literally).
fn mx_special(ctx: &mut dyn ListContext, domain: &str, rest: &str, _pattern: &str) -> Option<ItemRc> {
    let lc = rest.to_ascii_lowercase();
    let (which, after) = if lc.starts_with("any") {
        (0, &rest[3..])
    } else if lc.starts_with("primary") {
        (1, &rest[7..])
    } else if lc.starts_with("secondary") {
        (2, &rest[9..])
    } else {
        return None;
    };
    let ignore = if after.len() >= 8 && after[..8].eq_ignore_ascii_case("/ignore=") {
        Some(&after[8..])
    } else if after.is_empty() {
        None
    } else {
        return None;
    };
    let resolver = ctx.lookups().0.resolver();
    let mxs = match resolver.lookup(domain, DnsType::Mx) {
        DnsResult::Found { records, .. } => records,
        DnsResult::Again => return Some(ItemRc::Defer(Some(format!("DNS lookup of \"{domain}\" deferred")))),
        _ => return Some(ItemRc::Fail),
    };
    let locals = ctx.local_interfaces();
    let as_local = ctx.hosts_treat_as_local();
    let mut hosts: Vec<(u16, bool)> = Vec::new();
    for r in mxs {
        let RecordData::Mx { preference, exchange } = r.data else { continue };
        let addrs = match resolver.host_addresses(&exchange) {
            Ok(a) => a,
            Err(_) => return Some(ItemRc::Defer(Some(format!("DNS lookup of \"{domain}\" deferred")))),
        };
        // Exim's host_scan_for_local_hosts(): a host is the local host if
        // its name is in hosts_treat_as_local (expanded with $domain set
        // to it) or an address is a local interface (or 0.0.0.0). A host
        // without addresses keeps its place in the preference order.
        let name = exchange.to_ascii_lowercase();
        let named_local = match &as_local {
            Some(list) => match_named_local(ctx, &name, list),
            None => false,
        };
        if addrs.is_empty() {
            hosts.push((preference, named_local));
            continue;
        }
        let mut kept = Vec::new();
        for a in addrs {
            if let Some(list) = ignore {
                let h = super::HostSubject { address: Some(a), name: Some(String::new()), ip_only: true };
                if super::match_host(ctx, &h, list).is_match() {
                    continue;
                }
            }
            kept.push(a);
        }
        if kept.is_empty() {
            continue;
        }
        let local = named_local || kept.iter().any(|a| locals.contains(a) || a.is_unspecified());
        hosts.push((preference, local));
    }
    let Some(min) = hosts.iter().map(|h| h.0).min() else { return Some(ItemRc::Fail) };
    let primary_local = hosts.iter().any(|h| h.1 && h.0 == min);
    let any_local = hosts.iter().any(|h| h.1);
    let hit = match which {
        0 => any_local,
        1 => primary_local,
        _ => any_local && !primary_local,
    };
    Some(if hit { ItemRc::Ok(MatchData { value: Some(format!("@mx_{rest}")), numeric: vec![] }) } else { ItemRc::Fail })
}
