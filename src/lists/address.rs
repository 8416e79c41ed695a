//! Matching one address list item (Exim's check_address()).

use super::check::{check_list_inner, ItemRc, Subject};
use super::string::{match_check_string, StringSubject};
use super::{ListContext, ListKind, ListMatch, ListSep, MatchData};

/// An address being checked.
pub struct AddressSubject {
    pub orig: String,
    /// Lower-cased (all of it when caseless, else just the domain).
    pub address: String,
    pub caseless: bool,
}

impl AddressSubject {
    pub fn new(address: &str, caseless: bool) -> Self {
        let lowered = match (caseless, address.rfind('@')) {
            (true, _) | (false, None) if caseless => address.to_ascii_lowercase(),
            (_, Some(at)) => format!("{}{}", &address[..at], address[at..].to_ascii_lowercase()),
            _ => address.to_string(),
        };
        AddressSubject { orig: address.to_string(), address: lowered, caseless }
    }

    /// `+caseful`: the original local part, compared casefully.
    pub fn make_caseful(&mut self) {
        if let (Some(at_o), Some(at)) = (self.orig.rfind('@'), self.address.rfind('@')) {
            self.address = format!("{}{}", &self.orig[..at_o], &self.address[at..]);
        }
        self.caseless = false;
    }
}

fn local_part_matches(subject_lp: &str, pattern_lp: &str, caseless: bool) -> bool {
    let eq = |a: &str, b: &str| if caseless { a.eq_ignore_ascii_case(b) } else { a == b };
    if let Some(tail) = pattern_lp.strip_prefix('*') {
        subject_lp.len() >= tail.len() && subject_lp.is_char_boundary(subject_lp.len() - tail.len()) && eq(&subject_lp[subject_lp.len() - tail.len()..], tail)
    } else {
        eq(subject_lp, pattern_lp)
    }
}

pub fn check_address(ctx: &mut dyn ListContext, a: &AddressSubject, pattern: &str) -> ItemRc {
    let subject = a.address.as_str();
    let sdomain = subject.rfind('@');
    if sdomain.is_none() && !subject.is_empty() {
        ctx.log(&format!("no @ found in the subject of an address list match: subject=\"{subject}\" pattern=\"{pattern}\""), true);
        return ItemRc::Fail;
    }
    if pattern.starts_with('^') {
        // Exim gives no value for a regex on the whole address.
        return match match_check_string(ctx, subject, pattern, a.caseless, false, false) {
            ItemRc::Ok(d) => ItemRc::Ok(MatchData { value: None, numeric: d.numeric }),
            other => other,
        };
    }
    // A lookup of the whole address: type chars, optional * or *@, then ";".
    let b = pattern.as_bytes();
    let mut i = b.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'-').count();
    if b.get(i) == Some(&b'*') {
        i += 1;
    }
    if b.get(i) == Some(&b'@') {
        i += 1;
    }
    if b.get(i) == Some(&b';') {
        if pattern.starts_with("partial-") {
            ctx.log(&format!("partial matching is not applicable to whole-address lookups: ignored \"partial-\" in \"{pattern}\""), true);
        }
        return match_check_string(ctx, subject, pattern, a.caseless, false, false);
    }
    if subject.is_empty() {
        return if pattern.is_empty() { ItemRc::Ok(MatchData::default()) } else { ItemRc::Fail };
    }
    let at = sdomain.unwrap_or(0);
    let (slp, sdom) = (&subject[..at], &subject[at + 1..]);
    if let Some(lookup) = pattern.strip_prefix("@@") {
        if slp == "*" {
            return ItemRc::Fail;
        }
        let mut key = Some(sdom.to_string());
        let mut watchdog = 50;
        while let Some(k) = key.take() {
            if watchdog == 0 {
                ctx.log(&format!("Loop detected in lookup of local part of {subject} in {pattern}"), true);
                return ItemRc::Fail;
            }
            watchdog -= 1;
            let list = match match_check_string(ctx, &k, lookup, true, false, true) {
                ItemRc::Ok(d) => d.value.unwrap_or_default(),
                other => return other,
            };
            // A last item ">key" chains to another lookup.
            let last_start = list.rfind(':').map(|i| i + 1).unwrap_or(0);
            let last = list[last_start..].trim_start();
            let list = if let Some(next) = last.strip_prefix('>') {
                key = Some(next.trim_start().to_string());
                list[..list.len() - last.len() - 0].trim_end_matches('>').to_string()
            } else {
                list
            };
            let list = if key.is_some() { list[..last_start.min(list.len())].to_string() } else { list };
            for item in super::ListIter::new(&list, ListSep::Default) {
                let (ok, lp) = match item.strip_prefix('!') {
                    Some(r) => (false, r.trim_start().to_string()),
                    None => (true, item.clone()),
                };
                match match_check_string(ctx, slp, &lp, a.caseless, false, true) {
                    ItemRc::Ok(d) => return if ok { ItemRc::Ok(d) } else { ItemRc::Fail },
                    ItemRc::Defer(m) => return ItemRc::Defer(m),
                    ItemRc::Panic(m) => return ItemRc::Panic(m),
                    _ => {}
                }
            }
        }
        return ItemRc::Fail;
    }
    // The value is "<local part pattern>@<value of the domain match>"
    // (recorded from Exim: "*@b.c", "a@<lookup data>", "@*.c" for a bare
    // domain pattern).
    let mut numeric = vec![a.orig.clone()];
    let has_at = pattern.contains('@');
    let (plp, dom_pattern) = match pattern.rfind('@') {
        Some(mut pd) => {
            let after = &pattern[pd + 1..];
            if pd > 0 && pattern.as_bytes()[pd - 1] == b'@' && matches!(after, "" | "[]" | "mx_any" | "mx_primary" | "mx_secondary") {
                pd -= 1;
            }
            let plp = &pattern[..pd];
            if !local_part_matches(slp, plp, a.caseless) {
                return ItemRc::Fail;
            }
            // $1 is the part of the local part a leading * matched; the
            // domain's own variables follow (recorded from Exim's rewrites).
            if let Some(tail) = plp.strip_prefix('*') {
                numeric.push(slp[..slp.len() - tail.len()].to_string());
            }
            (plp, &pattern[pd + 1..])
        }
        None => ("", pattern),
    };
    // The domain part is a one-item domain list (so +name works), caseful
    // after +caseful as in Exim (the subject's domain is lower-cased).
    let mut ds = StringSubject::new(sdom, a.caseless, ListKind::Domain);
    let sub = check_list_inner(ctx, dom_pattern, ListSep::Fixed(0), ListKind::Domain, &mut Subject::Str(&mut ds));
    match sub.result {
        ListMatch::Match(d) => {
            numeric.extend(d.numeric.into_iter().skip(1));
            // Exim copies as many characters of the pattern as the
            // subject's local part has (right for literal local parts; for
            // "*..." patterns it may run into the "@" and beyond, e.g.
            // "*@l@ab" for zzz@a.b against "*@lsearch;..." -- recorded).
            let lp_text = if plp.starts_with('*') {
                let mut n = slp.len().min(pattern.len());
                while !pattern.is_char_boundary(n) {
                    n -= 1;
                }
                &pattern[..n]
            } else {
                plp
            };
            let value = if has_at { format!("{lp_text}@{}", d.value.unwrap_or_default()) } else { format!("@{}", d.value.unwrap_or_default()) };
            ItemRc::Ok(MatchData { value: Some(value), numeric })
        }
        ListMatch::NoMatch => ItemRc::Fail,
        ListMatch::Defer(m) => ItemRc::Defer(m),
        ListMatch::Panic(m) => ItemRc::Panic(m),
    }
}
