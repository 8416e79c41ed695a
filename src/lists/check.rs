//! The list engine (Exim's match_check_list()): iteration, negation, the
//! host list `+include_unknown` family, `+caseful`, named lists with
//! caching, and file items.

use super::address::{check_address, AddressSubject};
use super::host::check_host;
use super::string::{check_string, StringSubject};
use super::{Expanded, HostSubject, ListContext, ListKind, ListMatch, ListSep, MatchData};
use super::iter::ListIter;

/// The subject being checked, with its per-kind state.
pub enum Subject<'a> {
    Str(&'a mut StringSubject),
    Address(&'a mut AddressSubject),
    Host(&'a HostSubject),
}

impl Subject<'_> {
    /// The key under which named-list results are cached.
    fn cache_key(&self) -> String {
        match self {
            Subject::Str(s) => s.subject.clone(),
            Subject::Address(a) => a.address.clone(),
            Subject::Host(h) => h.address.map(|a| a.to_string()).unwrap_or_default(),
        }
    }
}

/// The result of testing one item (Exim's OK / FAIL / DEFER / ERROR).
pub enum ItemRc {
    Ok(MatchData),
    Fail,
    /// Temporary failure, with search_error_message if any.
    Defer(Option<String>),
    /// Host information could not be found (or a name item in match_ip).
    Error(String),
    Panic(String),
}

fn check_item(ctx: &mut dyn ListContext, subject: &mut Subject, item: &str) -> ItemRc {
    match subject {
        Subject::Str(s) => check_string(ctx, s, item),
        Subject::Address(a) => check_address(ctx, a, item),
        Subject::Host(h) => check_host(ctx, h, item),
    }
}

/// Internal list result; `cacheable` is false when the list or a sublist
/// depends on expansion (so enclosing named lists must not be cached).
pub struct ListOutcome {
    pub result: ListMatch,
    pub cacheable: bool,
}

/// Check a subject against an (already expanded) list.
pub fn check_list(ctx: &mut dyn ListContext, list: &str, sep: ListSep, kind: ListKind, subject: &mut Subject, _named: bool) -> ListMatch {
    check_list_inner(ctx, list, sep, kind, subject).result
}

fn negate(yield_ok: bool) -> bool {
    !yield_ok
}

pub fn check_list_inner(ctx: &mut dyn ListContext, list: &str, sep: ListSep, kind: ListKind, subject: &mut Subject) -> ListOutcome {
    check_list_labelled(ctx, list, None, sep, kind, subject)
}

/// How a list check was decided, for the trace (Exim's match_check_list
/// debug line).
pub enum How {
    /// `matched "item"` (the item as written, with its `!`), maybe
    /// `- cached`.
    Matched(String),
    /// `matched "LINE" in FILE`: Exim says yes or no by the file item's
    /// own `!`, whatever the line's `!` makes of the result.
    MatchedInFile(String, bool),
    EndOfList,
    /// An item that could not be checked: the reason in parentheses, and
    /// what `+include_unknown` logs after the trace line.
    Trouble(String, Option<String>),
    /// Accepted by `+include_defer`: logged, no trace line.
    Logged(String),
    /// `list match deferred for ITEM`.
    Deferred(String),
    Silent,
}

/// Check a list; the trace names it `label` (an option's name) or, without
/// one, quotes the list.
pub fn check_list_labelled(ctx: &mut dyn ListContext, list: &str, label: Option<&str>, sep: ListSep, kind: ListKind, subject: &mut Subject) -> ListOutcome {
    let mut how = How::Silent;
    let out = walk_list(ctx, list, sep, kind, subject, &mut how);
    if ctx.tracing() {
        let who = match subject {
            Subject::Str(s) => s.orig.clone(),
            Subject::Address(a) => a.orig.clone(),
            Subject::Host(_) => "host".to_string(),
        };
        let what = match label {
            Some(l) => l.to_string(),
            None => format!("\"{list}\""),
        };
        let yn = if out.result.is_match() { "yes" } else { "no" };
        let line = match &how {
            How::Matched(item) => format!("{who} in {what}? {yn} (matched \"{item})"),
            How::MatchedInFile(item, yes) => format!("{who} in {what}? {} (matched \"{item})", if *yes { "yes" } else { "no" }),
            How::EndOfList => format!("{who} in {what}? {yn} (end of list)"),
            How::Trouble(why, _) => format!("{who} in {what}? {yn} ({why})"),
            How::Deferred(item) => format!("{who} in {what}? list match deferred for {item}"),
            How::Silent | How::Logged(_) => String::new(),
        };
        if !line.is_empty() {
            ctx.trace(&line);
        }
    }
    if let How::Trouble(_, Some(log)) | How::Logged(log) = how {
        ctx.log(&log, false);
    }
    out
}

fn walk_list(ctx: &mut dyn ListContext, list: &str, sep: ListSep, kind: ListKind, subject: &mut Subject, how: &mut How) -> ListOutcome {
    let mut cacheable = true;
    let mut yield_ok = true;
    let mut trouble = Trouble { ignore_unknown: false, include_unknown: false, ignore_defer: false, include_defer: false };
    let done = |result: ListMatch, cacheable: bool| ListOutcome { result, cacheable };
    for item in ListIter::new(list, sep) {
        let mut ss = item.as_str();
        let written = item.as_str();
        if matches!(kind, ListKind::Address | ListKind::LocalPart) && ss == "+caseful" {
            match subject {
                Subject::Str(s) => s.make_caseful(),
                Subject::Address(a) => a.make_caseful(),
                Subject::Host(_) => {}
            }
            continue;
        }
        if kind == ListKind::Host && ss.starts_with('+') {
            match ss {
                "+include_unknown" => {
                    (trouble.include_unknown, trouble.ignore_unknown) = (true, false);
                    continue;
                }
                "+ignore_unknown" => {
                    (trouble.ignore_unknown, trouble.include_unknown) = (true, false);
                    continue;
                }
                "+include_defer" => {
                    (trouble.include_defer, trouble.ignore_defer) = (true, false);
                    continue;
                }
                "+ignore_defer" => {
                    (trouble.ignore_defer, trouble.include_defer) = (true, false);
                    continue;
                }
                _ => {}
            }
        }
        if let Some(rest) = ss.strip_prefix('!') {
            yield_ok = false;
            ss = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        } else {
            yield_ok = true;
        }
        let yielded = |ok: bool, data: MatchData| if ok { ListMatch::Match(data) } else { ListMatch::NoMatch };

        if let Some(name) = ss.strip_prefix('+') {
            let Some(held) = ctx.held_named_list(kind, name) else {
                ctx.log(&format!("unknown named {} list \"{}\"", kind.word(), ss), true);
                *how = How::Deferred(ss.to_string());
                return done(ListMatch::Defer(search_error(ctx, None)), false);
            };
            let nl = &held.list;
            let key = subject.cache_key();
            let use_cache = held.cacheable();
            let cached = if use_cache { ctx.named_cache().get(kind, name, &key).cloned() } else { None };
            let was_cached = cached.is_some();
            // A host list whose text needs no expansion is compiled once
            // (the trace is the walk's).
            let fast = match (&cached, &*subject) {
                (None, Subject::Host(h)) if !ctx.tracing() => held.compiled_host(kind).and_then(|c| c.try_host(ctx, h)),
                _ => None,
            };
            let result = match cached {
                Some(r) => r,
                None if fast.is_some() => {
                    let r = match fast {
                        Some(ListMatch::Match(d)) => Some(d),
                        _ => None,
                    };
                    if use_cache {
                        ctx.named_cache().put(kind, name, &key, r.clone());
                    }
                    r
                }
                None => {
                    // Named lists are always expanded (so "\\d" becomes
                    // "\d", as recorded from Exim); only '$' stops caching.
                    let text = match ctx.expand_list(&nl.value, kind, &key) {
                        Expanded::Ok(t) => t,
                        // Forced failure: taken as not in the list.
                        Expanded::ForcedFail => String::new(),
                        Expanded::Error(m) => {
                            ctx.log(&format!("failed to expand \"{}\" while checking a list: {}", nl.value, m), true);
                            *how = How::Deferred(ss.to_string());
                            return done(ListMatch::Defer(search_error(ctx, None)), false);
                        }
                    };
                    let sub = check_list_inner(ctx, &text, ListSep::Default, kind, subject);
                    let r = match sub.result {
                        ListMatch::Match(d) => Some(d),
                        ListMatch::NoMatch => None,
                        other => {
                            if matches!(other, ListMatch::Defer(_)) {
                                *how = How::Deferred(ss.to_string());
                            }
                            return done(other, false);
                        }
                    };
                    if use_cache && sub.cacheable {
                        ctx.named_cache().put(kind, name, &key, r.clone());
                    } else {
                        cacheable = false;
                    }
                    r
                }
            };
            if !use_cache {
                cacheable = false;
            }
            if let Some(d) = result {
                if ctx.tracing() {
                    *how = How::Matched(if was_cached { format!("{written}\" - cached") } else { format!("{written}\"") });
                }
                return done(yielded(yield_ok, d), cacheable);
            }
            continue;
        }

        if ss.starts_with('/') {
            // A file of items, read each time the list is checked.
            let text = match std::fs::read(ss) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    return done(
                        ListMatch::Panic(format!("failed to open {} when checking \"{}\": {}", ss, list, crate::lookups::error::strerror(&e))),
                        false,
                    )
                }
            };
            let mut file_yield = yield_ok;
            for raw in text.lines() {
                let line = strip_file_comment(raw, kind);
                let line = line.trim_matches(|c: char| c.is_ascii_whitespace());
                if line.is_empty() {
                    continue;
                }
                file_yield = yield_ok;
                let mut l = line;
                if let Some(rest) = l.strip_prefix('!') {
                    file_yield = negate(file_yield);
                    l = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
                }
                match check_item(ctx, subject, l) {
                    ItemRc::Ok(mut d) => {
                        d.value = Some(l.to_string());
                        *how = How::MatchedInFile(format!("{line}\" in {ss}"), yield_ok);
                        return done(yielded(file_yield, d), cacheable);
                    }
                    ItemRc::Fail => {}
                    ItemRc::Panic(m) => return done(ListMatch::Panic(m), false),
                    ItemRc::Defer(m) => {
                        let error = m.clone().unwrap_or_else(|| format!("DNS lookup of {l} deferred"));
                        if let Some(r) = trouble.deferred(ctx, m, error, l, how) {
                            return done(r, false);
                        }
                    }
                    ItemRc::Error(e) => {
                        if let Some(r) = trouble.unknown(ctx, &e, how) {
                            return done(r, false);
                        }
                    }
                }
            }
            yield_ok = file_yield;
            continue;
        }

        match check_item(ctx, subject, ss) {
            ItemRc::Ok(d) => {
                // Only the trace says which item matched.
                if ctx.tracing() {
                    *how = How::Matched(format!("{written}\""));
                }
                return done(yielded(yield_ok, d), cacheable);
            }
            ItemRc::Fail => {}
            ItemRc::Panic(m) => return done(ListMatch::Panic(m), false),
            ItemRc::Defer(m) => {
                let error = m.clone().unwrap_or_else(|| format!("DNS lookup of \"{ss}\" deferred"));
                if let Some(r) = trouble.deferred(ctx, m, error, ss, how) {
                    return done(r, false);
                }
            }
            ItemRc::Error(e) => {
                if let Some(r) = trouble.unknown(ctx, &e, how) {
                    // What cannot be found stays so for the session: Exim
                    // caches the named list's result.
                    return done(r, cacheable);
                }
            }
        }
    }
    // End of list: in the set if the last item was negative.
    *how = How::EndOfList;
    done(if yield_ok { ListMatch::NoMatch } else { ListMatch::Match(MatchData::default()) }, cacheable)
}

/// The reason the trace gives for an item that could not be checked:
/// Exim's text without the item (`malformed IPv4 address or address mask`).
fn trouble_reason(e: &str) -> String {
    match e.strip_prefix("malformed IPv4 address or address mask") {
        Some(_) => "malformed IPv4 address or address mask".to_string(),
        None => e.to_string(),
    }
}

/// What `+include_unknown`, `+ignore_unknown`, `+include_defer` and
/// `+ignore_defer` (the latest of each seen) make of an item that could
/// not be checked. `None`: go on with the next item.
struct Trouble {
    ignore_unknown: bool,
    include_unknown: bool,
    ignore_defer: bool,
    include_defer: bool,
}

impl Trouble {
    fn deferred(&self, ctx: &mut dyn ListContext, m: Option<String>, error: String, item: &str, how: &mut How) -> Option<ListMatch> {
        if self.ignore_defer {
            if ctx.tracing() {
                ctx.trace(&format!("{error}: item ignored by +ignore_defer"));
            }
            return None;
        }
        if self.include_defer {
            *how = How::Logged(format!("{error}: accepted by +include_defer"));
            return Some(ListMatch::Match(MatchData::default()));
        }
        *how = How::Deferred(item.to_string());
        Some(ListMatch::Defer(item_defer(ctx, m, error)))
    }

    fn unknown(&self, ctx: &mut dyn ListContext, e: &str, how: &mut How) -> Option<ListMatch> {
        if self.ignore_unknown {
            if ctx.tracing() {
                ctx.trace(&format!("{e}: item ignored by +ignore_unknown"));
            }
            return None;
        }
        if !self.include_unknown {
            let log = ctx.log_unknown_in_list().then(|| format!("list matching forced to fail: {e}"));
            *how = How::Trouble(trouble_reason(e), log);
            return Some(ListMatch::NoMatch);
        }
        *how = How::Trouble(trouble_reason(e), Some(format!("{e}: accepted by +include_unknown")));
        Some(ListMatch::Match(MatchData::default()))
    }
}

/// Exim's search_error_message after a deferred item: a lookup's message
/// stays; otherwise the item's own text is used only if no lookup has run.
fn search_error(ctx: &mut dyn ListContext, fallback: Option<String>) -> Option<String> {
    let sem = &mut ctx.lookups().0.search_error_message;
    if sem.is_none() {
        *sem = fallback;
    }
    sem.clone()
}

/// A deferred item: its own message (a lookup's, or @mx_*'s) replaces
/// search_error_message; a DNS defer without one only fills it if empty.
fn item_defer(ctx: &mut dyn ListContext, m: Option<String>, error: String) -> Option<String> {
    match m {
        Some(m) => {
            ctx.lookups().0.search_error_message = Some(m.clone());
            Some(m)
        }
        None => search_error(ctx, Some(error)),
    }
}

/// File comments: `#` anywhere for domain and host lists; only at the
/// start or after white space for address and local part lists.
fn strip_file_comment(line: &str, kind: ListKind) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (!matches!(kind, ListKind::Address | ListKind::LocalPart) || i == 0 || b[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}
