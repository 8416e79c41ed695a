//! What the interpreter needs from its surroundings, as small traits the
//! session (or a test) implements. Defaults describe a bare environment:
//! no DNS, no routing, logging discarded.

use super::statement::Acl;
use crate::expand::{ExpandError, Found, ListKind};
use crate::hintsdb::HintsDb;
use crate::lists::MatchData;
use std::sync::Arc;

/// Named ACLs from the configuration.
pub trait AclSource {
    fn named_acl(&self, name: &str) -> Option<Arc<Acl>>;

    /// Where Exim's trace says statements of inline and file ACLs come
    /// from: the configuration file and its last line (where its reader
    /// stopped). None: the file name and the line in the text.
    fn text_acl_origin(&self) -> Option<(String, u32)> {
        None
    }
}

/// Session and message variables (`$sender_host_address`, `$local_part`,
/// `$authenticated_id`...) and the main options the interpreter consults.
pub trait SessionVars {
    fn variable(&self, name: &str) -> Option<String>;

    /// "H=(helo) [ip]" as Exim's `host_and_ident()` writes it in log lines.
    fn host_and_ident(&self) -> String {
        let ip = self.variable("sender_host_address").unwrap_or_default();
        match self.variable("sender_helo_name").filter(|h| !h.is_empty()) {
            Some(h) if !ip.is_empty() => format!("H=({h}) [{ip}]"),
            _ if !ip.is_empty() => format!("H=[{ip}]"),
            _ => String::new(),
        }
    }

    /// Whether a variable's value came from outside (Exim's taint): the
    /// client, the message, the command line.
    fn is_tainted(&self, _name: &str) -> bool {
        false
    }

    /// Named lists for `+name` references in expansions.
    fn named_list(&self, _kind: Option<char>, _name: &str) -> Option<(char, String)> {
        None
    }

    /// The message's header lines, for `verify = header_*` and `not_blind`.
    fn headers(&self) -> Vec<String> {
        Vec::new()
    }

    /// A main configuration option's value as `-bP` shows it.
    fn config_option(&self, _name: &str) -> Option<String> {
        None
    }

    /// Whether the client may send unqualified addresses: in sender
    /// headers (sender_unqualified_hosts) and in the others
    /// (recipient_unqualified_hosts); local input may send both.
    fn unqualified_allowed(&self) -> (bool, bool) {
        (false, false)
    }

    /// The message's envelope recipients (for `recipients` outside RCPT
    /// and `verify = not_blind`).
    fn recipients(&self) -> Vec<String> {
        Vec::new()
    }

    /// Current time in seconds since the epoch, with fractions.
    fn now(&self) -> f64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
    }
}

/// Host, domain, address and local-part list matching (the lists layer).
pub trait ListMatcher {
    /// What matched (for `$domain_data`... and `$0`...), None for no
    /// match; Err is a deferral (a lookup that could not complete), with
    /// its text.
    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<MatchData>, String>;

    /// The nesting depth of the ACL about to match a list: the list
    /// layer's trace lines are indented as the ACL's own.
    fn set_trace_indent(&mut self, _indent: usize) {}

    /// A list the interpreter holds compiled (a literal argument, or one
    /// found by its expanded text); used when nothing is being traced.
    fn match_compiled(&mut self, kind: ListKind, subject: &str, list: &crate::lists::compiled::CompiledList) -> Result<Option<MatchData>, String> {
        self.match_list(kind, subject, list.text())
    }

    fn lookup(&mut self, _key: Option<&str>, search_type: &str, _query: &str) -> Result<Option<Found>, ExpandError> {
        Err(ExpandError::Failed(format!("unknown lookup type \"{search_type}\"")))
    }
}

/// Log destinations (`logwrite = :main,reject: text`).
pub trait AclLog {
    /// A main log line (already without the time stamp).
    fn log(&mut self, _targets: &[&str], _line: &str) {}

    /// Exim's debug trace lines (`-bh` prints them after `>>> `); only
    /// produced when `debugging` is true.
    fn debug(&mut self, _line: &str) {}

    fn debugging(&self) -> bool {
        false
    }

    /// `delay =`: a session sleeps (or, under -bh, says it did not).
    fn delay(&mut self, _seconds: u64) {}
}

/// A DNS list lookup's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsAnswer {
    /// A records found (and TXT text when asked for).
    Found(Vec<std::net::Ipv4Addr>),
    NotFound,
    /// The lookup could not complete.
    Defer,
}

pub trait Resolver {
    fn lookup_a(&mut self, _name: &str) -> DnsAnswer {
        DnsAnswer::Defer
    }

    fn lookup_txt(&mut self, _name: &str) -> Option<String> {
        None
    }
}

/// The result of an address or host verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    Ok,
    /// Failed, with the SMTP message (user message) and log text.
    Fail { user: Option<String>, log: Option<String> },
    Defer(String),
    Error(String),
}

/// Verifications that need routing, DNS or the client's certificate.
/// The default says routing is not available (the text names it).
pub trait Verifier {
    fn verify(&mut self, what: &str, _options: &[String]) -> VerifyOutcome {
        VerifyOutcome::Error(super::texts::verify_needs_routing(what))
    }

    /// Whether HELO verification succeeded (helo_verify_hosts).
    fn helo_verified(&mut self) -> Option<bool> {
        None
    }
}

/// Everything together: a session implements the small traits (most
/// methods have defaults) and this one.
pub trait AclEnv: AclSource + SessionVars + ListMatcher + AclLog + Resolver + Verifier {
    /// The hints database for `ratelimit` and `seen`.
    fn hints(&mut self) -> Option<&mut dyn HintsDb> {
        None
    }
}
