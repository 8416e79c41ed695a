//! The texts the ACL layer shows to users (SMTP replies, log lines,
//! configuration errors), in Exim 4.96's words.

pub fn unknown_verb(word: &str) -> String {
    format!("unknown ACL verb \"{word}\" in \"{word}\"")
}

pub fn unknown_condition(item: &str) -> String {
    format!("unknown ACL condition/modifier in \"{item}\"")
}

pub fn negated_modifier(name: &str) -> String {
    format!("ACL modifier \"{name}\" is negated")
}

pub fn endpass_verb(verb: &str) -> String {
    format!("\"endpass\" is not allowed with \"{verb}\"")
}

pub fn bad_set(value: &str) -> String {
    format!("invalid variable name after \"set\" in \"set {value}\" (must be acl_cx or acl_mx)")
}

pub fn forbidden(modifier: bool, name: &str, place: &str) -> String {
    format!("cannot {} {name} condition in {place} ACL", if modifier { "use" } else { "test" })
}

pub fn expand_failed(arg: &str, err: &str) -> String {
    // An expansion that lost its message (a tainted file name) shows as
    // "(null)" where Exim prints it with printf (-be), "NULL" here, where
    // its own string formatting does.
    let err = if err == "(null)" { "NULL" } else { err };
    format!("failed to expand ACL string \"{arg}\": {err}")
}

pub fn list_expand_failed(list: &str, err: &str) -> String {
    format!("failed to expand \"{list}\" while checking a list: {err}")
}

pub fn not_found(name: &str) -> String {
    format!("ACL \"{name}\" not found")
}

pub fn nested_too_deep() -> String {
    "ACL nested too deep: possible loop".to_string()
}

pub fn discard_not_allowed(place: &str) -> String {
    format!("\"discard\" verb not allowed in {place} ACL")
}

pub fn warn_deferred(host: &str, log: Option<&str>) -> String {
    match log {
        Some(l) => format!("{host} Warning: ACL \"warn\" statement skipped: condition test deferred: {l}"),
        None => format!("{host} Warning: ACL \"warn\" statement skipped: condition test deferred"),
    }
}

pub fn warn_logged(host: &str, text: &str) -> String {
    format!("{host} Warning: {text}")
}

pub fn warn_message_not_message_acl(place: &str) -> String {
    format!("ACL \"warn\" with \"message\" setting found in a non-message ({place}) ACL: cannot specify header lines here: message ignored")
}

pub fn message_expand_failed(kind: &str, msg: &str, err: &str) -> String {
    format!("failed to expand ACL {kind}message \"{msg}\": {err}")
}

pub fn unknown_control(s: &str) -> String {
    format!("syntax error in \"control={s}\"")
}

pub fn control_forbidden(name: &str, place: &str) -> String {
    format!("cannot use \"control={name}\" in {place} ACL")
}

pub fn unknown_verify(s: &str) -> String {
    format!("expected \"sender[=address]\", \"recipient\", \"helo\", \"header_syntax\", \"header_sender\", \"header_names_ascii\" or \"reverse_host_lookup\" at start of ACL condition \"verify {s}\"")
}

pub fn verify_needs_routing(what: &str) -> String {
    format!("verify = {what} needs address routing, which rexim does not provide yet")
}

pub fn rejected_after_data(detail: &str) -> String {
    format!("Rejected after DATA: {detail}")
}

pub fn verify_forbidden(what: &str, place: &str) -> String {
    format!("cannot verify {what} in ACL for {place}")
}

pub fn not_supported(name: &str) -> String {
    format!("the {name} condition needs a subsystem rexim does not provide yet")
}

pub fn bad_delay(s: &str) -> String {
    format!("syntax error in argument for \"delay\" modifier: \"{s}\" is not a time value")
}

pub fn bad_log_target(s: &str) -> String {
    format!("unknown log name \"{s}\" in \"log_reject_target\" in ACL")
}

pub fn tainted_acl_text(text: &str) -> String {
    format!("attempt to use tainted ACL text \"{text}\"")
}

pub fn internal_config_error() -> String {
    "internal configuration error".to_string()
}
