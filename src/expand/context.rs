//! What an expansion asks of its surroundings.
//!
//! The SMTP session, the message and the ACL interpreter implement this
//! to supply variables, headers, lists, lookups and ACL calls. The
//! defaults describe a context with none of them (the `-be` case).

use super::ast::HeaderKind;
use super::error::ExpandError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Host,
    Domain,
    Address,
    LocalPart,
}

/// What a lookup found, or what a list match matched: the value for
/// `$value` and the `$0`, `$1`... it sets (partial lookups, regex items).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub value: Option<String>,
    pub numeric: Vec<String>,
}

impl Found {
    pub fn value(v: impl Into<String>) -> Found {
        Found { value: Some(v.into()), numeric: Vec::new() }
    }
}

pub trait Context {
    /// The value of a variable the context knows; `None` falls back to
    /// the variable table's default.
    fn variable(&self, name: &str) -> Option<String>;

    fn header(&self, _kind: HeaderKind, _name: &str) -> Option<String> {
        None
    }

    /// A named list: its kind letter (`d`, `h`, `a`, `l`) and text.
    /// `kind` restricts the search, as in `listnamed_d`.
    fn named_list(&self, _kind: Option<char>, _name: &str) -> Option<(char, String)> {
        None
    }

    /// A main configuration option's value, for operators that depend on
    /// one (`headers_charset` for `rfc2047`).
    fn config_option(&self, _name: &str) -> Option<String> {
        None
    }

    fn lookup(&mut self, _key: Option<&str>, search_type: &str, _query: &str) -> Result<Option<Found>, ExpandError> {
        Err(ExpandError::Failed(format!("unknown lookup type \"{search_type}\"")))
    }

    /// `${if match_ip}` and friends: `Some` when the subject is in the list.
    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<Found>, ExpandError>;

    fn acl(&mut self, name: &str, _args: &[String]) -> Result<String, ExpandError> {
        Err(ExpandError::Failed(format!("ERROR from acl \"{name}\"")))
    }

    /// The `acl` condition: whether the ACL accepted, and its message
    /// (which becomes `$value`).
    fn acl_condition(&mut self, name: &str, args: &[String]) -> Result<(bool, String), ExpandError> {
        self.acl(name, args).map(|m| (true, m))
    }

    /// `${run}`: the command's output and exit status.
    fn run(&mut self, options: &str, command: &str) -> Result<super::run::RunResult, ExpandError> {
        super::run::run_command(options, command)
    }

    /// Variables that expansions set and that outlive them (`$runrc`).
    fn set_variable(&mut self, _name: &str, _value: String) {}

    /// Whether a variable's value came from outside (Exim's taint).
    fn is_tainted(&self, _name: &str) -> bool {
        false
    }

    /// A line for the main log (in `-be`, standard error).
    fn log(&mut self, _line: &str) {}

    /// Exim keeps one readsocket handle per socket name for the life of
    /// the process; a failed connect to a Unix socket leaves its closed
    /// descriptor there. Contexts that live as long as Exim's process
    /// (`-be`) remember such names here; the default forgets them.
    fn leave_stale_socket(&mut self, _name: &str) {}

    /// Whether the handle for this socket name holds a closed descriptor,
    /// which the next request uses (and so clears).
    fn take_stale_socket(&mut self, _name: &str) -> bool {
        false
    }

}

/// A context with `$local_part` and `$domain` set for one expansion (an
/// address rewrite's replacement), everything else the inner context's.
pub struct WithAddressParts<'a> {
    pub inner: &'a mut dyn Context,
    pub local_part: &'a str,
    pub domain: &'a str,
}

impl Context for WithAddressParts<'_> {
    fn variable(&self, name: &str) -> Option<String> {
        match name {
            "local_part" => Some(self.local_part.to_string()),
            "domain" => Some(self.domain.to_string()),
            _ => self.inner.variable(name),
        }
    }
    fn header(&self, kind: HeaderKind, name: &str) -> Option<String> {
        self.inner.header(kind, name)
    }
    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)> {
        self.inner.named_list(kind, name)
    }
    fn config_option(&self, name: &str) -> Option<String> {
        self.inner.config_option(name)
    }
    fn lookup(&mut self, key: Option<&str>, search_type: &str, query: &str) -> Result<Option<Found>, ExpandError> {
        self.inner.lookup(key, search_type, query)
    }
    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<Found>, ExpandError> {
        self.inner.match_list(kind, subject, list)
    }
    fn acl(&mut self, name: &str, args: &[String]) -> Result<String, ExpandError> {
        self.inner.acl(name, args)
    }
    fn acl_condition(&mut self, name: &str, args: &[String]) -> Result<(bool, String), ExpandError> {
        self.inner.acl_condition(name, args)
    }
    fn run(&mut self, options: &str, command: &str) -> Result<super::run::RunResult, ExpandError> {
        self.inner.run(options, command)
    }
    fn set_variable(&mut self, name: &str, value: String) {
        self.inner.set_variable(name, value)
    }
    fn is_tainted(&self, name: &str) -> bool {
        // The address comes from the message.
        matches!(name, "local_part" | "domain") || self.inner.is_tainted(name)
    }
    fn log(&mut self, line: &str) {
        self.inner.log(line)
    }
    fn leave_stale_socket(&mut self, name: &str) {
        self.inner.leave_stale_socket(name)
    }
    fn take_stale_socket(&mut self, name: &str) -> bool {
        self.inner.take_stale_socket(name)
    }
}
