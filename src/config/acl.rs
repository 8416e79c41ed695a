//! The `begin acl` section, read as Exim's readconf_acl() and acl_read()
//! check it: named ACLs, statements introduced by a verb, conditions and
//! modifiers kept raw (name, value, file, line) for the ACL layer.

/// ACL verbs (sorted, as Exim's table).
pub const VERBS: &[&str] = &["accept", "defer", "deny", "discard", "drop", "require", "warn"];

/// ACL conditions and modifiers that Exim 4.96 (this build) knows (sorted).
pub const CONDITIONS: &[&str] = &[
    "acl",
    "add_header",
    "authenticated",
    "condition",
    "continue",
    "control",
    "decode",
    "delay",
    "dkim_signers",
    "dkim_status",
    "dnslists",
    "domains",
    "encrypted",
    "endpass",
    "hosts",
    "local_parts",
    "log_message",
    "log_reject_target",
    "logwrite",
    "malware",
    "message",
    "mime_regex",
    "queue",
    "ratelimit",
    "recipients",
    "regex",
    "remove_header",
    "seen",
    "sender_domains",
    "senders",
    "set",
    "spam",
    "spf",
    "spf_guess",
    "udpsend",
    "verify",
];

/// One condition or modifier, raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclCondition {
    pub name: String,
    pub negated: bool,
    /// The text after `=` (or after the name when there is no `=`).
    pub value: String,
    pub file: String,
    pub line: usize,
}

/// One statement: a verb and its conditions/modifiers in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclStatement {
    pub verb: String,
    pub file: String,
    pub line: usize,
    pub conditions: Vec<AclCondition>,
}

/// A named ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub statements: Vec<AclStatement>,
}

/// Split off a leading name (letters, digits, underscores) and the white
/// space after it (Exim's readconf_readname()).
pub fn read_name(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len())
    } else {
        0
    };
    (&s[..end], s[end..].trim_start())
}

/// Add one logical line to the ACL being read. Err is Exim's text after
/// "error in ACL: ".
pub fn add_line(acl: &mut Acl, line: &str, file: &str, lineno: usize) -> Result<(), String> {
    let mut s = line.trim_start();
    let mut negated = false;
    if let Some(r) = s.strip_prefix('!') {
        negated = true;
        s = r;
    }
    let (mut name, mut rest) = read_name(s);
    if VERBS.binary_search(&name).is_ok() {
        if negated {
            return Err(format!("malformed ACL line \"{line}\""));
        }
        acl.statements.push(AclStatement {
            verb: name.to_string(),
            file: file.to_string(),
            line: lineno,
            conditions: Vec::new(),
        });
        if rest.is_empty() {
            return Ok(());
        }
        if let Some(r) = rest.strip_prefix('!') {
            negated = true;
            rest = r;
        }
        (name, rest) = read_name(rest);
    } else if acl.statements.is_empty() {
        return Err(format!("unknown ACL verb \"{name}\" in \"{line}\""));
    }
    if CONDITIONS.binary_search(&name).is_err() {
        return Err(format!("unknown ACL condition/modifier in \"{line}\""));
    }
    let value = match rest.strip_prefix('=') {
        Some(v) => v.trim_start(),
        None => rest,
    };
    let stmt = acl.statements.last_mut().expect("a statement exists");
    stmt.conditions.push(AclCondition {
        name: name.to_string(),
        negated,
        value: value.to_string(),
        file: file.to_string(),
        line: lineno,
    });
    Ok(())
}
