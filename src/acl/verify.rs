//! `verify = ...`: the checks that need only the message are done here;
//! address, reverse-lookup, CSA and certificate checks go to the
//! `Verifier` (which says so when routing is not available).

use super::env::VerifyOutcome;
use super::eval::{Interp, Rc};
use super::hooks::Where;
use super::statement::Verb;
use super::texts;

/// Sorted: the verify types and the ACLs that have what they check.
const TYPES: &[&str] = &["certificate", "csa", "header_names_ascii", "header_sender", "header_syntax", "helo", "not_blind", "recipient", "reverse_host_lookup", "sender"];

fn has_headers(place: Where) -> bool {
    matches!(place, Where::Data | Where::Mime | Where::NotSmtp | Where::NotSmtpMime | Where::Dkim | Where::Prdr | Where::Expansion)
}

pub(crate) fn check(it: &mut Interp, arg: &str, _verb: Verb, user: &mut Option<String>, log: &mut Option<String>) -> Rc {
    let mut parts = arg.split('/').map(|s| s.trim().to_string());
    let what_full = parts.next().unwrap_or_default();
    let opts: Vec<String> = parts.collect();
    let what = what_full.split('=').next().unwrap_or("").trim().to_string();
    if TYPES.binary_search(&what.as_str()).is_err() {
        *log = Some(texts::unknown_verify(&what_full));
        return Rc::Error;
    }
    let place = it.place;
    match what.as_str() {
        "header_names_ascii" | "header_syntax" | "not_blind" | "header_sender" if !has_headers(place) => {
            *log = Some(texts::verify_forbidden(&what, place.name()));
            return Rc::Error;
        }
        "recipient" if !matches!(place, Where::Rcpt | Where::Vrfy | Where::Expansion) => {
            *log = Some(texts::verify_forbidden("recipient", place.name()));
            return Rc::Error;
        }
        _ => {}
    }
    let outcome = match what.as_str() {
        "helo" => match it.env.helo_verified() {
            Some(true) => VerifyOutcome::Ok,
            Some(false) => VerifyOutcome::Fail { user: None, log: None },
            None => it.env.verify("helo", &opts),
        },
        "header_names_ascii" => header_names_ascii(&it.env.headers()),
        "header_syntax" => header_syntax(it),
        "not_blind" => {
            let caseless = opts.iter().any(|o| o.trim() == "case_insensitive");
            match not_blind(&it.env.headers(), &it.env.recipients(), caseless, option_set(it, "allow_domain_literals")) {
                // The client sees the reason only with smtp_return_error_details.
                VerifyOutcome::Fail { log: Some(m), .. } => {
                    let details = option_set(it, "smtp_return_error_details");
                    VerifyOutcome::Fail { user: details.then(|| texts::rejected_after_data(&m)), log: Some(m) }
                }
                other => other,
            }
        }
        _ => it.env.verify(&what_full, &opts),
    };
    match outcome {
        VerifyOutcome::Ok => Rc::Ok,
        VerifyOutcome::Fail { user: u, log: l } => {
            if u.is_some() {
                // Exim's ACLC_VERIFY: the user message is $acl_verify_message
                // at once, for the statement's own modifiers too.
                it.state.verify_message = u.clone();
                *user = u;
            }
            if l.is_some() {
                *log = l;
            }
            Rc::Fail
        }
        VerifyOutcome::Defer(m) => {
            *log = Some(m);
            Rc::Defer
        }
        VerifyOutcome::Error(m) => {
            *log = Some(m);
            Rc::Error
        }
    }
}

/// Exim's VERIFY_HDR_SYNTAX: the error is $acl_verify_message, and the
/// client's message only with smtp_return_error_details.
fn header_syntax(it: &mut Interp) -> VerifyOutcome {
    let (sender_ok, recipient_ok) = it.env.unqualified_allowed();
    let literals = option_set(it, "allow_domain_literals");
    let Err(m) = crate::parse::check_headers(&it.env.headers(), sender_ok, recipient_ok, literals) else {
        return VerifyOutcome::Ok;
    };
    let details = option_set(it, "smtp_return_error_details");
    if details {
        return VerifyOutcome::Fail { user: Some(texts::rejected_after_data(&m)), log: Some(m) };
    }
    it.state.verify_message = Some(m.clone());
    VerifyOutcome::Fail { user: None, log: Some(m) }
}

/// A boolean main option that is on.
fn option_set(it: &Interp, name: &str) -> bool {
    it.env.config_option(name).is_some_and(|v| matches!(v.as_str(), "true" | "yes"))
}

/// Header names must be printable ASCII.
fn header_names_ascii(headers: &[String]) -> VerifyOutcome {
    for h in headers {
        let name = h.split(':').next().unwrap_or("");
        if name.bytes().any(|b| !(33..=126).contains(&b)) {
            let m = format!("Invalid character in header \"{name}\" found");
            // Exim sets only the log message; the client gets the default.
            return VerifyOutcome::Fail { user: None, log: Some(m) };
        }
    }
    VerifyOutcome::Ok
}

/// Exim's verify_check_notblind(): every envelope recipient must be an
/// address (with a domain) of a To: or Cc: line, Resent- forms included;
/// the local part compared with case unless `case_insensitive`, the
/// domain without.
fn not_blind(headers: &[String], recipients: &[String], caseless: bool, literals: bool) -> VerifyOutcome {
    let to_or_cc = |h: &&String| {
        let name = h.split(':').next().unwrap_or_default().trim_end().to_ascii_lowercase();
        matches!(name.strip_prefix("resent-").unwrap_or(&name), "to" | "cc")
    };
    let listed: Vec<crate::parse::Extracted> =
        headers.iter().filter(to_or_cc).flat_map(|h| crate::parse::header_addresses(h, literals)).filter(|a| a.domain != 0).collect();
    for r in recipients {
        let r = crate::bytes::to_bytes(r);
        let Some(at) = r.iter().rposition(|&c| c == b'@') else {
            return bcc_detected();
        };
        let found = listed.iter().any(|a| {
            // The local part with its "@", as Exim compares the first
            // `domain` bytes.
            let (local, dom) = a.address.split_at(a.domain);
            let same_local = if caseless { local.eq_ignore_ascii_case(&r[..=at]) } else { local == &r[..=at] };
            same_local && dom.eq_ignore_ascii_case(&r[at + 1..])
        });
        if !found {
            return bcc_detected();
        }
    }
    VerifyOutcome::Ok
}

/// The client's message is set by the caller (`smtp_return_error_details`).
fn bcc_detected() -> VerifyOutcome {
    VerifyOutcome::Fail { user: None, log: Some("bcc recipient detected".into()) }
}
