//! The interpreter: Exim's `acl_check`, `acl_check_internal` and
//! `acl_check_condition`, with their order of evaluation and their rules
//! for `message` and `log_message`.

use super::conditions::{self, CondId};
use super::env::AclEnv;
use super::expand_ctx::AclContext;
use super::hooks::Where;
use super::state::{AclState, HeaderPos};
use super::statement::{self, Acl, Item, Verb};
use super::{dnslists, texts, verify};
use crate::expand::{self, ExpandError, ListKind};
use crate::ratelimit;
use std::sync::Arc;

/// Exim's return codes from ACLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rc {
    /// accept
    Ok,
    Discard,
    /// deny
    Fail,
    /// drop: deny and close the connection
    FailDrop,
    Defer,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclOutcome {
    pub rc: Rc,
    /// Text for the SMTP reply (`message`, or from verification).
    pub user_message: Option<String>,
    /// Text for the log line (`log_message`, or the user message).
    pub log_message: Option<String>,
}

/// Debug trace lines are formatted only when tracing is on.
macro_rules! trace {
    ($it:expr, $($arg:tt)*) => {
        if $it.tracing {
            $it.debug(&format!($($arg)*));
        }
    };
}
pub(crate) use trace;

/// A session value shared by the conditions of one check.
type Shared = std::rc::Rc<str>;

/// Nesting limit (Exim's).
const MAX_DEPTH: usize = 20;

pub(crate) struct Interp<'a> {
    pub env: &'a mut dyn AclEnv,
    pub state: &'a mut AclState,
    pub place: Where,
    pub recipient: Option<String>,
    /// `$acl_arg1`... of the ACL being run.
    pub args: Vec<String>,
    pub depth: usize,
    /// Whether the environment wants the debug trace (asked once).
    pub tracing: bool,
    /// `$local_part` and `$domain`, looked up once per check (they do
    /// not change while an ACL runs).
    /// With whether the session gave them (else they are the recipient's).
    pub local_part: std::cell::OnceCell<(Shared, bool)>,
    pub domain: std::cell::OnceCell<(Shared, bool)>,
    /// `$sender_host_address` and `$sender_address`, the subjects of
    /// `hosts`, `senders` and `sender_domains`: the same for the whole
    /// check, so asked of the session once.
    pub host_address: std::cell::OnceCell<Shared>,
    pub sender: std::cell::OnceCell<Shared>,
    /// What the last matching list condition found: `$domain_data`,
    /// `$local_part_data`, `$sender_data`, `$recipient_data`,
    /// `$host_data`, by name.
    pub list_data: Vec<(&'static str, String)>,
    /// `$0`, `$1`... from the last list match (a regular expression, a
    /// `*` wildcard, or the subject itself).
    pub numeric: Vec<String>,
    /// Why the last lookup failed (Exim's search_error_message): the
    /// reason given for a list that could not be expanded.
    pub search_error: Option<String>,
}

/// Run the ACL for hook `place`. `option` is the hook option's value
/// (None when unset, which means the hook's default); `recipient` is the
/// RCPT address (for `$local_part`, `$domain`).
pub fn check(env: &mut dyn AclEnv, state: &mut AclState, place: Where, option: Option<&str>, recipient: Option<&str>) -> AclOutcome {
    let mut it = Interp { env, state, place, recipient: recipient.map(str::to_string), args: Vec::new(), depth: 0, tracing: false, local_part: Default::default(), domain: Default::default(), host_address: Default::default(), sender: Default::default(), list_data: Vec::new(), numeric: Vec::new(), search_error: None };
    it.tracing = it.env.debugging();
    let mut user = None;
    let mut log = None;
    it.state.log_reject_target = None;
    // $sender_rate and friends are set afresh by each ACL check.
    it.state.sender_rate = None;
    it.state.sender_rate_limit = None;
    it.state.sender_rate_period = None;
    let mut rc = match option {
        None => match place.unset_default() {
            super::UnsetDefault::Deny => {
                it.debug("ACL is NULL: implicit DENY");
                Rc::Fail
            }
            _ => Rc::Ok,
        },
        Some(text) => it.internal(text, &mut user, &mut log),
    };
    if rc == Rc::Discard && !place.allows_discard() {
        // Exim logs this on its own line; the rejection line has no reason.
        it.env.log(&["main", "panic"], &texts::discard_not_allowed(place.name()));
        log = None;
        rc = Rc::Error;
    }
    if rc == Rc::FailDrop {
        it.state.drop_connection = true;
    }
    AclOutcome { rc, user_message: user, log_message: log }
}

/// Run a named ACL with arguments (the `acl` condition and `${acl}`).
pub fn check_named(env: &mut dyn AclEnv, state: &mut AclState, place: Where, name: &str, args: &[String]) -> AclOutcome {
    let mut it = Interp { env, state, place, recipient: None, args: args.to_vec(), depth: 0, tracing: false, local_part: Default::default(), domain: Default::default(), host_address: Default::default(), sender: Default::default(), list_data: Vec::new(), numeric: Vec::new(), search_error: None };
    it.tracing = it.env.debugging();
    let mut user = None;
    let mut log = None;
    let rc = it.internal(name, &mut user, &mut log);
    AclOutcome { rc, user_message: user, log_message: log }
}

/// `${acl{name}{args}}`: the ACL's message on accept or deny, an error
/// otherwise ("DEFER from acl", "ERROR from acl"); the bool is the value
/// of the `acl` expansion condition.
pub fn acl_expansion(env: &mut dyn AclEnv, state: &mut AclState, place: Where, name: &str, args: &[String]) -> Result<(bool, String), ExpandError> {
    let out = check_named(env, state, place, name, args);
    let msg = out.user_message.unwrap_or_default();
    match out.rc {
        Rc::Ok => Ok((true, msg)),
        Rc::Discard => Err(ExpandError::Failed(format!("DISCARD from acl \"{name}\""))),
        Rc::Fail | Rc::FailDrop => Ok((false, msg)),
        Rc::Defer => Err(ExpandError::Failed(format!("DEFER from acl \"{name}\""))),
        Rc::Error => Err(ExpandError::Failed(format!("ERROR from acl \"{name}\""))),
    }
}

/// Expand a string in the ACLs' context but outside any ACL (an address
/// rewrite's replacement during a session): `$local_part` and `$domain`
/// when `parts` are given, `$0`... from `numeric`.
pub fn expand_outside(env: &mut dyn AclEnv, state: &mut AclState, text: &str, parts: Option<(&str, &str)>, numeric: Vec<String>) -> Result<String, ExpandError> {
    let mut it = Interp { env, state, place: Where::Expansion, recipient: None, args: Vec::new(), depth: 0, tracing: false, local_part: Default::default(), domain: Default::default(), host_address: Default::default(), sender: Default::default(), list_data: Vec::new(), numeric: Vec::new(), search_error: None };
    let mut ctx = AclContext { it: &mut it };
    match parts {
        Some((local_part, domain)) => {
            let mut with = expand::WithAddressParts { inner: &mut ctx, local_part, domain };
            expand::expand_string_from_zero(text, &mut with, numeric)
        }
        None => expand::expand_string_from_zero(text, &mut ctx, numeric),
    }
}

impl Interp<'_> {
    pub(crate) fn debug(&mut self, line: &str) {
        if self.tracing {
            let indent = " ".repeat(self.depth.saturating_sub(1));
            self.env.debug(&format!("{indent}{line}"));
        }
    }

    fn expand(&mut self, s: &str) -> Result<String, ExpandError> {
        let compiled = expand::compile(s)?;
        if let Some(lit) = compiled.literal() {
            return Ok(lit.to_string());
        }
        self.evaluate(&compiled)
    }

    /// Expand an item's value with the form compiled when the ACL was read.
    fn expand_item(&mut self, item: &Item) -> Result<String, ExpandError> {
        match &item.compiled {
            None if item.literal => Ok(item.value.clone()),
            None => self.expand(&item.value),
            Some(c) => match c.literal() {
                Some(lit) => Ok(lit.to_string()),
                None => {
                    let c = c.clone();
                    self.evaluate(&c)
                }
            },
        }
    }

    /// Evaluate a compiled string, with `$0`... of the last list match.
    fn evaluate(&mut self, c: &expand::Compiled) -> Result<String, ExpandError> {
        let numeric = self.numeric.clone();
        let mut ctx = AclContext { it: self };
        expand::Evaluator::new(&mut ctx).with_numeric_from_zero(numeric).seq(&c.nodes)
    }

    /// Expand, saying whether data from outside went into the result.
    fn expand_tainted(&mut self, s: &str) -> Result<(String, bool), ExpandError> {
        let compiled = expand::compile(s)?;
        let numeric = self.numeric.clone();
        let mut ctx = AclContext { it: self };
        expand::Evaluator::new(&mut ctx).with_numeric_from_zero(numeric).seq_t(&compiled.nodes)
    }

    /// Find the ACL a string names: a file, a named ACL or inline text.
    fn with_origin(&self, mut acl: Acl) -> Acl {
        if let Some((file, line)) = self.env.text_acl_origin() {
            for st in &mut acl.statements {
                st.file.clone_from(&file);
                st.line = line;
            }
        }
        acl
    }

    /// The ACL, and true when the trace does not name it: inline text, or
    /// a file read just now (Exim names a file ACL once it has it).
    fn find(&mut self, s: &str) -> Result<(Arc<Acl>, bool), String> {
        if s.starts_with('/') {
            if let Some(a) = self.state.text_acls.get(s) {
                return Ok((a.clone(), false));
            }
            let text = std::fs::read_to_string(s).map_err(|e| format!("failed to open ACL file \"{s}\": {}", io_text(&e)))?;
            self.debug(&format!("read ACL from file {s}"));
            let acl = Arc::new(self.with_origin(statement::read_text(&text, s).and_then(|r| statement::compile(&r)).map_err(|e| e.message)?));
            self.state.text_acls.insert(s.to_string(), acl.clone());
            return Ok((acl, true));
        }
        if !s.contains(' ') {
            if let Some(a) = self.env.named_acl(s) {
                return Ok((a, false));
            }
        }
        if let Some(a) = self.state.text_acls.get(s) {
            return Ok((a.clone(), true));
        }
        let raw = statement::read_text(s, "inline ACL").map_err(|e| e.message)?;
        if raw.is_empty() {
            return Err(texts::not_found(s));
        }
        let acl = Arc::new(self.with_origin(statement::compile(&raw).map_err(|e| e.message)?));
        self.state.text_acls.insert(s.to_string(), acl.clone());
        Ok((acl, true))
    }

    /// `acl_check_internal`: expand the ACL string, find the ACL, run its
    /// statements.
    pub(crate) fn internal(&mut self, s: &str, user: &mut Option<String>, log: &mut Option<String>) -> Rc {
        if self.depth >= MAX_DEPTH {
            *log = Some(texts::nested_too_deep());
            return Rc::Error;
        }
        self.depth += 1;
        let rc = self.internal_at_depth(s, user, log);
        self.depth -= 1;
        rc
    }

    fn internal_at_depth(&mut self, s: &str, user: &mut Option<String>, log: &mut Option<String>) -> Rc {
        let expanded = if s.contains(['$', '\\']) { self.expand_tainted(s) } else { Ok((s.to_string(), false)) };
        let (ss, tainted) = match expanded {
            Ok(v) => v,
            Err(e) => {
                *log = Some(texts::expand_failed(s, e.message()));
                return Rc::Error;
            }
        };
        if ss.trim().is_empty() {
            self.debug("ACL is empty: implicit DENY");
            return Rc::Fail;
        }
        // Exim refuses ACL text (inline or a file name) built from data
        // from outside; a tainted name of a configured ACL is fine.
        if tainted && (ss.contains(' ') || ss.starts_with('/') || self.env.named_acl(&ss).is_none()) {
            self.env.log(&["main", "panic"], &texts::tainted_acl_text(&ss));
            *log = Some(texts::internal_config_error());
            return Rc::Error;
        }
        let (acl, inline) = match self.find(&ss) {
            Ok(x) => x,
            Err(m) => {
                *log = Some(m);
                return Rc::Error;
            }
        };
        let label = match (self.tracing, inline) {
            (false, _) => String::new(),
            (true, true) if !ss.starts_with('/') => "inline ACL".to_string(),
            (true, _) => format!("ACL \"{ss}\""),
        };
        // Exim names only ACLs from the configuration (not files or
        // inline text) in the trace.
        if !inline {
            trace!(self, "using {label}");
        }
        for st in &acl.statements {
            trace!(self, "processing \"{}\" ({} {})", st.verb.name(), st.file, st.line);
            let mut endpass = false;
            let cond = self.condition(st.verb, &st.items, &mut endpass, user, log);
            let verb = st.verb.name();
            match cond {
                Rc::Ok => trace!(self, "{verb}: condition test succeeded in {label}"),
                Rc::Fail | Rc::FailDrop => trace!(self, "{verb}: condition test failed in {label}"),
                Rc::Defer => trace!(self, "{verb}: condition test deferred in {label}"),
                Rc::Error => trace!(self, "{verb}: condition test error in {label}"),
                Rc::Discard => trace!(self, "{verb}: condition test yielded \"discard\" in {label}"),
            }
            if cond == Rc::Error {
                return Rc::Error;
            }
            if cond == Rc::Defer && st.verb != Verb::Warn {
                return Rc::Defer;
            }
            match st.verb {
                Verb::Accept | Verb::Discard => {
                    if cond == Rc::Ok || cond == Rc::Discard {
                        let rc = if st.verb == Verb::Discard { Rc::Discard } else { cond };
                        trace!(self, "end of {label}: {}", if rc == Rc::Discard { "DISCARD" } else { "ACCEPT" });
                        return rc;
                    }
                    if endpass {
                        trace!(self, "{verb}: endpass encountered - denying access");
                        return cond;
                    }
                }
                Verb::Defer => {
                    if cond == Rc::Ok {
                        trace!(self, "end of {label}: DEFER");
                        return Rc::Defer;
                    }
                }
                Verb::Deny => {
                    if cond == Rc::Ok {
                        trace!(self, "end of {label}: DENY");
                        return Rc::Fail;
                    }
                }
                Verb::Drop => {
                    if cond == Rc::Ok {
                        trace!(self, "end of {label}: DROP");
                        return Rc::FailDrop;
                    }
                }
                Verb::Require => {
                    if cond != Rc::Ok {
                        trace!(self, "end of {label}: not OK");
                        return cond;
                    }
                }
                Verb::Warn => {
                    if cond == Rc::Ok {
                        self.warn(user.clone(), log.clone());
                    } else if cond == Rc::Defer {
                        let host = self.env.host_and_ident();
                        self.env.log(&["main"], &texts::warn_deferred(&host, log.as_deref()));
                    }
                    *user = None;
                    *log = None;
                }
            }
        }
        trace!(self, "end of {label}: implicit DENY");
        Rc::Fail
    }

    /// Exim's `acl_warn`: log the log message once per message, and add
    /// the user message as a header line in message ACLs.
    fn warn(&mut self, user: Option<String>, log: Option<String>) {
        if let Some(l) = log.filter(|l| Some(l) != user.as_ref()) {
            let text = texts::warn_logged(&self.env.host_and_ident(), &l);
            if !self.state.warn_logged.contains(&text) {
                self.env.log(&["main"], &text);
                self.state.warn_logged.insert(text);
            }
        }
        let Some(u) = user else { return };
        if !self.place.is_message_acl() {
            self.env.log(&["main", "panic"], &texts::warn_message_not_message_acl(self.place.name()));
            return;
        }
        self.add_header(&u);
    }

    /// `acl_check_condition`: run the conditions and modifiers of one
    /// statement in order, stopping at the first that is not OK.
    fn condition(&mut self, verb: Verb, items: &[Item], endpass: &mut bool, user: &mut Option<String>, log: &mut Option<String>) -> Rc {
        let mut user_message: Option<&Item> = None;
        let mut log_message: Option<&Item> = None;
        let mut rc = Rc::Ok;
        for item in items {
            let def = conditions::def(item.id);
            match item.id {
                CondId::Endpass => {
                    *endpass = true;
                    continue;
                }
                CondId::Message => {
                    trace!(self, "  message: {}", item.value);
                    user_message = Some(item);
                    continue;
                }
                CondId::LogMessage => {
                    trace!(self, "l_message: {}", item.value);
                    log_message = Some(item);
                    continue;
                }
                _ => {}
            }
            let lhs = if self.tracing {
                match &item.varname {
                    Some(v) => format!("check {}{} {} ", if item.negated { "!" } else { "" }, def.name, v),
                    None => format!("check {}{} ", if item.negated { "!" } else { "" }, def.name),
                }
            } else {
                String::new()
            };
            // Exim expands a value before showing the check (so nested
            // ACLs run by the expansion come first); list conditions show
            // the check and leave the expansion to the list matcher.
            if !def.expand_at_top {
                trace!(self, "{lhs}= {}", item.value);
            }
            // Whether the acl condition's text came from outside (the
            // only condition that needs to know).
            let mut arg_tainted = false;
            let expanded = match &item.compiled {
                _ if item.id == CondId::Acl && !item.literal => self.expand_tainted(&item.value).map(|(text, tainted)| {
                    arg_tainted = tainted;
                    std::borrow::Cow::Owned(text)
                }),
                None if item.literal => Ok(std::borrow::Cow::Borrowed(item.value.as_str())),
                None => self.expand(&item.value).map(std::borrow::Cow::Owned),
                // Escapes only (`\\.` in a regex): the same text every time.
                Some(c) if c.literal().is_some() => Ok(std::borrow::Cow::Borrowed(c.literal().unwrap_or_default())),
                Some(c) => {
                    let c = c.clone();
                    self.evaluate(&c).map(std::borrow::Cow::Owned)
                }
            };
            let arg = match expanded {
                Ok(a) => a,
                Err(e) if e.is_forced() && !def.expand_at_top => {
                    trace!(self, "expansion of \"{}\" forced failure: assume not in this list", item.value);
                    rc = if item.negated { Rc::Ok } else { Rc::Fail };
                    if rc == Rc::Ok {
                        continue;
                    }
                    break;
                }
                // A forced failure makes the condition be ignored.
                Err(e) if e.is_forced() => continue,
                // As Exim's match_check_list(): the failure is logged, and
                // the deferral's reason is the failed lookup's, if any.
                Err(e) if !def.expand_at_top => {
                    self.env.log(&["main", "panic"], &texts::list_expand_failed(&item.value, e.message()));
                    *log = self.search_error.take();
                    rc = Rc::Defer;
                    break;
                }
                Err(e) => {
                    *log = Some(texts::expand_failed(&item.value, e.message()));
                    return Rc::Error;
                }
            };
            if def.expand_at_top {
                trace!(self, "{lhs}= {}", item.value);
                // The acl condition expands its name and arguments itself.
                if self.tracing && item.id != CondId::Acl && *arg != *item.value {
                    // Exim does not indent this line for nested ACLs.
                    let pad = " ".repeat(lhs.len());
                    self.env.debug(&format!("{pad}= {arg}"));
                }
            }
            if let Some(m) = conditions::forbidden(item.id, self.place) {
                *log = Some(m);
                return Rc::Error;
            }
            let mut r = match item.id {
                CondId::Acl => self.nested(&arg, arg_tainted, user, log),
                _ => self.one(item, &arg, verb, user, log),
            };
            if item.negated {
                r = match r {
                    Rc::Ok => Rc::Fail,
                    Rc::Fail | Rc::FailDrop => Rc::Ok,
                    other => other,
                };
            }
            if r != Rc::Ok {
                rc = r;
                break;
            }
        }
        self.messages(verb, rc, *endpass, user_message, log_message, user, log);
        rc
    }

    /// The `message`/`log_message` rules at the end of a statement.
    #[allow(clippy::too_many_arguments)]
    fn messages(&mut self, verb: Verb, rc: Rc, endpass: bool, mut user_message: Option<&Item>, log_message: Option<&Item>, user: &mut Option<String>, log: &mut Option<String>) {
        if endpass && rc == Rc::Ok {
            user_message = None;
        }
        let relevant = match verb {
            Verb::Accept | Verb::Discard => matches!(rc, Rc::Ok | Rc::Fail | Rc::FailDrop),
            Verb::Defer | Verb::Deny | Verb::Drop | Verb::Warn => rc == Rc::Ok,
            Verb::Require => matches!(rc, Rc::Fail | Rc::FailDrop),
        };
        if relevant {
            let old_user = user.clone();
            let old_log = log.clone().or_else(|| old_user.clone());
            if verb == Verb::Warn || (rc == Rc::Ok && matches!(verb, Verb::Accept | Verb::Discard)) {
                *user = None;
                *log = None;
            }
            // A log message that is only the user message (a nested ACL's
            // `message =`) follows a new user message, as Exim, which
            // falls back on the user message only when it logs.
            if user_message.is_some() && log_message.is_none() && log.is_some() && *log == *user {
                *log = None;
            }
            if let Some(um) = user_message {
                self.state.verify_message = old_user.clone();
                match self.expand_item(um) {
                    Ok(m) if !m.is_empty() => *user = Some(m),
                    Ok(_) => {}
                    Err(e) if e.is_forced() => {}
                    Err(e) => self.env.log(&["main", "panic"], &texts::message_expand_failed("", &um.value, e.message())),
                }
            }
            if let Some(lm) = log_message {
                self.state.verify_message = old_log.clone();
                match self.expand_item(lm) {
                    Ok(m) if !m.is_empty() => {
                        *log = Some(match log.take() {
                            Some(prev) => format!("{m}: {prev}"),
                            None => m,
                        })
                    }
                    Ok(_) => {}
                    Err(e) if e.is_forced() => {}
                    Err(e) => self.env.log(&["main", "panic"], &texts::message_expand_failed("log ", &lm.value, e.message())),
                }
            }
            if log.is_none() {
                *log = user.clone();
            }
        } else if verb == Verb::Warn {
            // Messages from conditions are kept in $acl_verify_message.
            if user.is_some() {
                self.state.verify_message = user.clone();
            }
        }
        if verb != Verb::Warn || relevant {
            self.state.verify_message = None;
        }
    }

    /// One condition or modifier, with its expanded argument.
    fn one(&mut self, item: &Item, arg: &str, verb: Verb, user: &mut Option<String>, log: &mut Option<String>) -> Rc {
        match item.id {
            CondId::Acl => self.nested(arg, false, user, log),
            CondId::AddHeader => {
                self.add_header(arg);
                Rc::Ok
            }
            // The authenticator's name is matched (a plain string list).
            CondId::Authenticated => match self.env.variable("sender_host_authenticated").filter(|s| !s.is_empty()) {
                None => Rc::Fail,
                Some(name) => self.list(ListKind::LocalPart, &name, arg, item, log),
            },
            CondId::Condition => match condition_value(arg) {
                Some(b) => bool_rc(b),
                None => {
                    *log = Some(format!("invalid \"condition\" value \"{arg}\""));
                    Rc::Defer
                }
            },
            CondId::Continue => Rc::Ok,
            CondId::Control => match self.state.controls.apply(arg.trim(), self.place) {
                Ok(()) => Rc::Ok,
                Err(m) => {
                    *log = Some(m);
                    Rc::Error
                }
            },
            CondId::Delay => match expand::readconf_readtime(arg.trim()) {
                Some(t) if t >= 0 => {
                    self.debug(&format!("delay modifier requests {t}-second delay"));
                    self.env.delay(t as u64);
                    Rc::Ok
                }
                _ => {
                    *log = Some(texts::bad_delay(arg));
                    Rc::Error
                }
            },
            CondId::Dnslists => dnslists::check(self, arg, log),
            CondId::Domains => {
                let d = self.recipient_part(false);
                self.list(ListKind::Domain, &d, arg, item, log)
            }
            CondId::Encrypted => match self.env.variable("tls_in_cipher").filter(|s| !s.is_empty()) {
                None => Rc::Fail,
                Some(c) => self.list(ListKind::LocalPart, &c, arg, item, log),
            },
            CondId::Hosts => {
                let h = self.session_constant(&self.host_address, "sender_host_address");
                self.list(ListKind::Host, &h, arg, item, log)
            }
            CondId::LocalParts => {
                let l = self.recipient_part(true);
                self.list(ListKind::LocalPart, &l, arg, item, log)
            }
            CondId::LogRejectTarget => {
                let mut targets = Vec::new();
                for t in crate::expand::lists::list_items(arg) {
                    if !matches!(t.as_str(), "main" | "panic" | "reject") {
                        *log = Some(texts::bad_log_target(&t));
                        return Rc::Error;
                    }
                    targets.push(t);
                }
                self.state.log_reject_target = Some(targets);
                Rc::Ok
            }
            CondId::Logwrite => {
                self.logwrite(arg);
                Rc::Ok
            }
            CondId::Queue => {
                self.state.queue_name = Some(arg.to_string());
                Rc::Ok
            }
            CondId::Ratelimit => ratelimit::acl_condition(self, arg, log),
            CondId::Recipients => match self.recipient.clone() {
                Some(r) => self.list(ListKind::Address, &r, arg, item, log),
                None => Rc::Fail,
            },
            CondId::RemoveHeader => {
                for h in crate::expand::lists::list_items(arg) {
                    self.state.headers_remove.push(h);
                }
                Rc::Ok
            }
            CondId::Seen => ratelimit::seen_condition(self, arg, log),
            CondId::SenderDomains => {
                let s = self.session_constant(&self.sender, "sender_address");
                let d = s.rsplit_once('@').map_or("", |(_, d)| d);
                self.list(ListKind::Domain, d, arg, item, log)
            }
            CondId::Senders => {
                let s = self.session_constant(&self.sender, "sender_address");
                self.list(ListKind::Address, &s, arg, item, log)
            }
            CondId::Set => {
                let name = item.varname.clone().unwrap_or_default();
                self.state.set_var(&name, arg.to_string());
                Rc::Ok
            }
            CondId::Verify => verify::check(self, arg, verb, user, log),
            CondId::Udpsend => {
                *log = Some(texts::not_supported("udpsend"));
                Rc::Error
            }
            CondId::Decode | CondId::DkimSigners | CondId::DkimStatus | CondId::Malware | CondId::MimeRegex | CondId::Regex | CondId::Spam | CondId::Spf | CondId::SpfGuess => {
                *log = Some(texts::not_supported(conditions::def(item.id).name));
                Rc::Error
            }
            CondId::Endpass | CondId::Message | CondId::LogMessage => Rc::Ok,
        }
    }

    /// `acl = name arg1 arg2...`: a nested ACL; accept is true, deny is
    /// false, others pass up. Text from outside (`tainted`) may only name
    /// an ACL of the configuration: the whole text is refused as Exim
    /// refuses it, before it is split into a name and arguments.
    fn nested(&mut self, arg: &str, tainted: bool, user: &mut Option<String>, log: &mut Option<String>) -> Rc {
        let words = split_acl_args(arg);
        let Some((name, rest)) = words.split_first() else {
            return Rc::Fail;
        };
        if tainted && (name.starts_with('/') || self.env.named_acl(name).is_none()) {
            self.env.log(&["main", "panic"], &texts::tainted_acl_text(arg));
            *log = Some(texts::internal_config_error());
            return Rc::Error;
        }
        let saved = std::mem::replace(&mut self.args, rest.to_vec());
        let rc = self.internal(name, user, log);
        self.args = saved;
        match rc {
            Rc::Ok => Rc::Ok,
            Rc::Fail | Rc::FailDrop => Rc::Fail,
            other => other,
        }
    }

    fn list(&mut self, kind: ListKind, subject: &str, list: &str, item: &Item, log: &mut Option<String>) -> Rc {
        if self.tracing {
            self.env.set_trace_indent(self.depth.saturating_sub(1));
        }
        // A list that expands to the same text each time is compiled once
        // and kept with the statement; the trace needs the engine's walk.
        let constant = item.literal || item.compiled.as_ref().is_some_and(|c| c.literal().is_some());
        let r = if constant && !self.tracing {
            let c = item.list.get_or_init(|| std::sync::Arc::new(super::lists_env::compile(kind, list))).clone();
            self.env.match_compiled(kind, subject, &c)
        } else {
            self.env.match_list(kind, subject, list)
        };
        match r {
            Ok(Some(found)) => {
                self.keep_match(item.id, kind, found);
                Rc::Ok
            }
            Ok(None) => Rc::Fail,
            Err(m) => {
                *log = Some(m);
                Rc::Defer
            }
        }
    }

    /// After a list matched: the condition's `$..._data` variable (the
    /// data a lookup found, else the item that matched) and, for domain
    /// and local part lists, `$0`... (Exim leaves them empty after an
    /// address list).
    fn keep_match(&mut self, id: CondId, kind: ListKind, found: crate::lists::MatchData) {
        let name = match id {
            CondId::Domains => Some("domain_data"),
            CondId::LocalParts => Some("local_part_data"),
            CondId::Senders => Some("sender_data"),
            CondId::Recipients => Some("recipient_data"),
            CondId::Hosts => Some("host_data"),
            _ => None,
        };
        if let (Some(name), Some(value)) = (name, found.value) {
            self.list_data.retain(|(n, _)| *n != name);
            self.list_data.push((name, value));
        }
        if !found.numeric.is_empty() && matches!(kind, ListKind::Domain | ListKind::LocalPart) {
            self.numeric = found.numeric;
        }
    }

    /// The local part or domain of the recipient being checked.
    pub(crate) fn recipient_part(&self, local: bool) -> Shared {
        self.recipient_part_from(local).0
    }

    /// The same, and whether it is the session's `$local_part` / `$domain`.
    pub(crate) fn recipient_part_from(&self, local: bool) -> (Shared, bool) {
        let cached = if local { &self.local_part } else { &self.domain };
        cached.get_or_init(|| self.recipient_part_uncached(local)).clone()
    }

    /// A session variable that stays the same while the ACL runs.
    fn session_constant(&self, which: &std::cell::OnceCell<Shared>, name: &str) -> Shared {
        which.get_or_init(|| self.env.variable(name).unwrap_or_default().into()).clone()
    }

    /// The session's `$local_part` / `$domain` (true), else the
    /// recipient's parts (false).
    fn recipient_part_uncached(&self, local: bool) -> (Shared, bool) {
        let name = if local { "local_part" } else { "domain" };
        if let Some(v) = self.env.variable(name) {
            return (v.into(), true);
        }
        let (l, d) = split_address(self.recipient.as_deref().unwrap_or_default());
        (if local { l } else { d }.into(), false)
    }

    /// `logwrite = [:targets:] text`.
    fn logwrite(&mut self, arg: &str) {
        let (targets, text) = match arg.strip_prefix(':').and_then(|r| r.split_once(':').map(|(t, rest)| (t, rest.trim_start()))) {
            Some((t, rest)) => (t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>(), rest),
            None => (vec!["main".to_string()], arg),
        };
        let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
        // Exim writes the text as string_printing() shows it.
        self.env.log(&refs, &crate::expand::printing(text));
    }

    /// `add_header = [:position:] lines`.
    fn add_header(&mut self, arg: &str) {
        let (pos, text) = header_position(arg);
        for line in split_header_lines(text) {
            self.state.headers_add.push((pos, line));
        }
    }
}

fn bool_rc(b: bool) -> Rc {
    if b {
        Rc::Ok
    } else {
        Rc::Fail
    }
}

/// Exim's truth values for `condition =` (kept in step with `bool{}`):
/// integers are true when non-zero; yes/true and no/false in any case.
fn condition_value(arg: &str) -> Option<bool> {
    let digits = arg.strip_prefix('-').unwrap_or(arg);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(digits.bytes().any(|b| b != b'0'));
    }
    if arg.eq_ignore_ascii_case("yes") || arg.eq_ignore_ascii_case("true") {
        Some(true)
    } else if arg.is_empty() || arg.eq_ignore_ascii_case("no") || arg.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// `:at_start:`, `:at_start_rfc:`, `:after_received:`, `:at_end:`.
fn header_position(arg: &str) -> (HeaderPos, &str) {
    for (p, pos) in [(":at_start:", HeaderPos::AtStart), (":at_start_rfc:", HeaderPos::AtStartRfc), (":after_received:", HeaderPos::AfterReceived), (":at_end:", HeaderPos::AtEnd)] {
        if let Some(rest) = arg.strip_prefix(p) {
            return (pos, rest);
        }
    }
    (HeaderPos::AtEnd, arg)
}

/// Exim's `setup_header`: the text may hold several lines; a line that
/// does not start with white space starts a new header; a header without
/// a colon gets "X-ACL-Warn: " in front; each ends with a newline.
fn split_header_lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push_str(line);
                last.push('\n');
                continue;
            }
        }
        let name_end = line.find(|c: char| !(c.is_ascii_graphic() && c != ':')).unwrap_or(line.len());
        let has_colon = line[name_end..].trim_start().starts_with(':') && name_end > 0;
        if has_colon {
            out.push(format!("{line}\n"));
        } else {
            out.push(format!("X-ACL-Warn: {line}\n"));
        }
    }
    out
}

/// The arguments of `acl = name a "b c"`: white space separated, double
/// quotes group and are removed, backslash escapes in quotes.
fn split_acl_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut w = String::new();
        if c == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(n) = chars.next() {
                            w.push(n);
                        }
                    }
                    _ => w.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                w.push(c);
                chars.next();
            }
        }
        out.push(w);
    }
    out
}

/// Exim's deliver_split_address(): the local part without its quoting
/// (unquoted doublequotes dropped, backslash pairs reduced) and the
/// domain in lower case. The last `@` separates them.
pub fn split_address(address: &str) -> (String, String) {
    let (local, domain) = match address.rsplit_once('@') {
        Some((l, d)) => (l, d.to_ascii_lowercase()),
        None => (address, String::new()),
    };
    let mut out = String::with_capacity(local.len());
    let mut chars = local.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {}
            '\\' => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    (out, domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_args_quotes() {
        assert_eq!(split_acl_args("a_deny \"new arg1\" x"), vec!["a_deny", "new arg1", "x"]);
    }

    #[test]
    fn header_lines() {
        assert_eq!(split_header_lines("X-A: 1\n  cont\nno colon"), vec!["X-A: 1\n  cont\n", "X-ACL-Warn: no colon\n"]);
        assert_eq!(header_position(":at_start:X: y"), (HeaderPos::AtStart, "X: y"));
    }

    /// `$local_part` and `$domain` as Exim's RCPT ACL sees them.
    #[test]
    fn split_dequotes() {
        assert_eq!(split_address("\"a b\"@test.ex"), ("a b".into(), "test.ex".into()));
        assert_eq!(split_address("\"a\\\"b\".c@D.E"), ("a\"b.c".into(), "d.e".into()));
        assert_eq!(split_address("ab\\@c@d"), ("ab@c".into(), "d".into()));
        assert_eq!(split_address("a\\\\b@d"), ("a\\b".into(), "d".into()));
        assert_eq!(split_address("\"\"@d"), ("".into(), "d".into()));
    }
}
