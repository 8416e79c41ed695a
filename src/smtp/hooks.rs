//! What the SMTP session asks of other layers, as small traits so the
//! real ACL interpreter, host-list matcher and DSN parser plug in here.

use super::session::SessionVars;

/// Where an ACL is run (Exim's ACL_WHERE_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AclWhere {
    Connect,
    Helo,
    Mail,
    Rcpt,
    Predata,
    Data,
    /// acl_smtp_data_prdr, once for each recipient.
    Prdr,
    Quit,
    Notquit,
    Vrfy,
    Expn,
    Etrn,
    Starttls,
    Auth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclVerdict {
    Accept,
    Deny,
    Defer,
    Discard,
    /// Deny and drop the connection.
    Drop,
}

/// The result of running an ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclOutcome {
    pub verdict: AclVerdict,
    /// `message =`: the text for the client (may contain newlines for
    /// multi-line replies; may start with a reply code).
    pub user_message: Option<String>,
    /// `log_message =`
    pub log_message: Option<String>,
    /// `add_header =` lines (without the trailing newline).
    pub add_headers: Vec<String>,
    /// `control = fakereject` / `fakedefer` in force for the message: the
    /// code (550 / 450) and text that replace the 250 after the data.
    pub fake_response: Option<(u16, String)>,
    /// `log_reject_target =` from the ACL: the logs a refusal goes to
    /// (None: main and reject; empty: not logged).
    pub log_reject_target: Option<Vec<String>>,
    /// `control = no_pipelining` is in force (connect and HELO ACLs).
    pub no_pipelining: bool,
    /// `control = enforce_sync` / `no_enforce_sync`, the last one given.
    pub enforce_sync: Option<bool>,
    /// The client's names, when a host list of the ACL looked them up
    /// (Exim's host_name_lookup() sets $sender_host_name for the rest of
    /// the session); Some(None): the lookup failed.
    pub host_names: Option<Option<Vec<String>>>,
    /// `control = freeze`, `control = queue_only` (or `queue`) and
    /// `queue =` in force for the message (what the DATA ACL leaves).
    pub freeze: bool,
    pub queue_only: bool,
    pub queue_name: Option<String>,
    /// `control = submission` in force for the message, with its options
    /// (`sender_retain`, `domain=`, `name=`), and `suppress_local_fixups`.
    pub submission: Option<String>,
    pub suppress_local_fixups: bool,
}

impl AclOutcome {
    pub fn accept() -> AclOutcome {
        AclOutcome { verdict: AclVerdict::Accept, user_message: None, log_message: None, add_headers: Vec::new(), fake_response: None, log_reject_target: None, no_pipelining: false, host_names: None, freeze: false, queue_only: false, queue_name: None, enforce_sync: None, submission: None, suppress_local_fixups: false }
    }

    pub fn deny() -> AclOutcome {
        AclOutcome { verdict: AclVerdict::Deny, ..AclOutcome::accept() }
    }
}

/// The ACLs (`acl_smtp_*`). Each hook sees the session's variables and,
/// for RCPT/VRFY/EXPN/ETRN/AUTH, the command's argument.
pub trait AclHooks {
    fn connect(&mut self, v: &SessionVars) -> AclOutcome {
        default_outcome(AclWhere::Connect, v)
    }
    fn helo(&mut self, v: &SessionVars) -> AclOutcome {
        default_outcome(AclWhere::Helo, v)
    }
    fn mail(&mut self, v: &SessionVars) -> AclOutcome {
        default_outcome(AclWhere::Mail, v)
    }
    fn rcpt(&mut self, v: &SessionVars, _recipient: &str) -> AclOutcome {
        default_outcome(AclWhere::Rcpt, v)
    }
    fn predata(&mut self, v: &SessionVars) -> AclOutcome {
        default_outcome(AclWhere::Predata, v)
    }
    /// Run after the message's data has been read; `headers` are the
    /// message's header lines as received.
    fn data(&mut self, v: &SessionVars, _headers: &[String]) -> AclOutcome {
        default_outcome(AclWhere::Data, v)
    }
    /// Write a log line now, through the channel the ACLs' own lines
    /// take, so that it keeps its place among them; false when the hooks
    /// have no log of their own (the session then sends it as an event).
    fn log_now(&mut self, _targets: crate::log::Targets, _text: &str) -> bool {
        false
    }
    /// Run `job` with what address rewriting needs (expansions, lists and
    /// the log in the session's context); false when these hooks have
    /// none to give.
    fn with_rewrite_env(&mut self, _v: &SessionVars, _headers: &[String], _job: &mut dyn FnMut(&mut dyn crate::rewrite::RewriteEnv)) -> bool {
        false
    }
    /// Run after the data of a message that asked for PRDR, once for
    /// each recipient.
    fn prdr(&mut self, v: &SessionVars, _headers: &[String], _recipient: &str) -> AclOutcome {
        default_outcome(AclWhere::Prdr, v)
    }
    fn quit(&mut self, v: &SessionVars) -> AclOutcome {
        default_outcome(AclWhere::Quit, v)
    }
    fn notquit(&mut self, v: &SessionVars, _reason: &str) -> AclOutcome {
        default_outcome(AclWhere::Notquit, v)
    }
    fn vrfy(&mut self, v: &SessionVars, _address: &str) -> AclOutcome {
        default_outcome(AclWhere::Vrfy, v)
    }
    fn expn(&mut self, v: &SessionVars, _list: &str) -> AclOutcome {
        default_outcome(AclWhere::Expn, v)
    }
    fn etrn(&mut self, v: &SessionVars, _arg: &str) -> AclOutcome {
        default_outcome(AclWhere::Etrn, v)
    }
    fn starttls(&mut self, v: &SessionVars) -> AclOutcome {
        default_outcome(AclWhere::Starttls, v)
    }
    fn auth(&mut self, v: &SessionVars, _mechanism: &str) -> AclOutcome {
        default_outcome(AclWhere::Auth, v)
    }
}

/// What Exim does when an ACL is not set: accept everywhere except RCPT,
/// VRFY, EXPN and ETRN, which are refused ("Administrative prohibition").
pub fn default_outcome(where_: AclWhere, _v: &SessionVars) -> AclOutcome {
    match where_ {
        AclWhere::Rcpt | AclWhere::Vrfy | AclWhere::Expn | AclWhere::Etrn => AclOutcome::deny(),
        _ => AclOutcome::accept(),
    }
}

/// Exim's behaviour with no ACLs configured.
#[derive(Debug, Default)]
pub struct DefaultAcls;

impl AclHooks for DefaultAcls {}

/// ACLs that accept everything (`acl_smtp_rcpt = accept` and so on).
#[derive(Debug, Default)]
pub struct AcceptAll;

impl AclHooks for AcceptAll {
    fn rcpt(&mut self, _v: &SessionVars, _r: &str) -> AclOutcome {
        AclOutcome::accept()
    }
    fn vrfy(&mut self, _v: &SessionVars, _a: &str) -> AclOutcome {
        AclOutcome::accept()
    }
    fn expn(&mut self, _v: &SessionVars, _a: &str) -> AclOutcome {
        AclOutcome::accept()
    }
    fn etrn(&mut self, _v: &SessionVars, _a: &str) -> AclOutcome {
        AclOutcome::accept()
    }
}

/// A sink for Exim's `-bh` debug lines (without the `>>> `).
pub type Trace<'a> = Option<&'a mut dyn FnMut(&str)>;

/// List matching for the session's options (`*_hosts`, `helo_lookup_domains`...).
pub trait HostMatcher: Send + Sync {
    /// Is the connected host (address and, when known, name; both `None`
    /// for local input) in the option's list? `list` is None when the
    /// option is unset; the trace names the option (an empty `option`
    /// quotes the list instead).
    fn host_in(&self, option: &str, list: Option<&str>, address: Option<&str>, name: Option<&str>, trace: Trace) -> bool;

    /// Is `domain` in the option's domain list?
    fn domain_in(&self, option: &str, list: Option<&str>, domain: &str, trace: Trace) -> bool;

    /// Is `address` in the (expanded) address list? Caseless, as Exim
    /// matches `untrusted_set_sender`.
    fn address_in(&self, list: &str, address: &str) -> bool;

    /// `host_in` for a client whose name is not known yet: a name
    /// pattern in the list looks it up (unless `lookup_failed`), and the
    /// names found come back (Some(None): the lookup failed).
    fn host_in_looking_up(&self, option: &str, list: Option<&str>, address: Option<&str>, _lookup_failed: bool, trace: Trace) -> (bool, Option<Option<Vec<String>>>) {
        (self.host_in(option, list, address, None, trace), None)
    }

    fn matches(&self, list: &str, address: Option<&str>, name: Option<&str>) -> bool {
        self.host_in("", Some(list), address, name, None)
    }
}

/// Until the ACL interpreter is plugged in: `acl_smtp_* = accept` and
/// `= deny` are honoured; an unset or named ACL behaves as unset.
#[derive(Debug, Default, Clone)]
pub struct LiteralAcls {
    pub settings: std::collections::HashMap<AclWhereKey, String>,
}

/// `AclWhere` as a map key.
pub type AclWhereKey = &'static str;

impl LiteralAcls {
    /// Read `acl_smtp_*` options through a lookup.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> LiteralAcls {
        let mut settings = std::collections::HashMap::new();
        for name in ["connect", "helo", "mail", "rcpt", "predata", "data", "quit", "notquit", "vrfy", "expn", "etrn", "starttls", "auth"] {
            if let Some(v) = get(&format!("acl_smtp_{name}")) {
                settings.insert(name, v.trim().to_string());
            }
        }
        LiteralAcls { settings }
    }

    fn outcome(&self, key: &str, where_: AclWhere, v: &SessionVars) -> AclOutcome {
        match self.settings.get(key).map(String::as_str) {
            Some("accept") => AclOutcome::accept(),
            Some("deny") => AclOutcome::deny(),
            _ => default_outcome(where_, v),
        }
    }
}

impl AclHooks for LiteralAcls {
    fn connect(&mut self, v: &SessionVars) -> AclOutcome {
        self.outcome("connect", AclWhere::Connect, v)
    }
    fn helo(&mut self, v: &SessionVars) -> AclOutcome {
        self.outcome("helo", AclWhere::Helo, v)
    }
    fn mail(&mut self, v: &SessionVars) -> AclOutcome {
        self.outcome("mail", AclWhere::Mail, v)
    }
    fn rcpt(&mut self, v: &SessionVars, _r: &str) -> AclOutcome {
        self.outcome("rcpt", AclWhere::Rcpt, v)
    }
    fn predata(&mut self, v: &SessionVars) -> AclOutcome {
        self.outcome("predata", AclWhere::Predata, v)
    }
    fn data(&mut self, v: &SessionVars, _h: &[String]) -> AclOutcome {
        self.outcome("data", AclWhere::Data, v)
    }
    fn vrfy(&mut self, v: &SessionVars, _a: &str) -> AclOutcome {
        self.outcome("vrfy", AclWhere::Vrfy, v)
    }
    fn expn(&mut self, v: &SessionVars, _a: &str) -> AclOutcome {
        self.outcome("expn", AclWhere::Expn, v)
    }
    fn etrn(&mut self, v: &SessionVars, _a: &str) -> AclOutcome {
        self.outcome("etrn", AclWhere::Etrn, v)
    }
    fn starttls(&mut self, v: &SessionVars) -> AclOutcome {
        self.outcome("starttls", AclWhere::Starttls, v)
    }
    fn auth(&mut self, v: &SessionVars, _m: &str) -> AclOutcome {
        self.outcome("auth", AclWhere::Auth, v)
    }
}
