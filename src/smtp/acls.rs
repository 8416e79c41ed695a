//! The configuration's ACLs run by the interpreter (`crate::acl`) at each
//! hook of the SMTP session: the bridge between `smtp::AclHooks` and
//! `acl::check`.

use std::collections::HashMap;
use std::sync::Arc;

use super::context::SessionContext;
use super::hooks::{AclHooks, AclOutcome, AclVerdict, AclWhere, HostMatcher};
use super::session::SessionVars;
use super::SmtpConfig;
use crate::acl::{self, AclState, AclStore, Rc, Where};
use crate::expand::{Context, ExpandError, Found, ListKind};
use crate::hintsdb::{FileDb, HintsDb};
use crate::lists;
use crate::log::{Logger, Targets};

/// The `acl_smtp_*` option of each hook.
const HOOK_OPTIONS: &[(AclWhere, &str)] = &[
    (AclWhere::Connect, "acl_smtp_connect"),
    (AclWhere::Helo, "acl_smtp_helo"),
    (AclWhere::Mail, "acl_smtp_mail"),
    (AclWhere::Rcpt, "acl_smtp_rcpt"),
    (AclWhere::Predata, "acl_smtp_predata"),
    (AclWhere::Data, "acl_smtp_data"),
    (AclWhere::Prdr, "acl_smtp_data_prdr"),
    (AclWhere::Quit, "acl_smtp_quit"),
    (AclWhere::Notquit, "acl_smtp_notquit"),
    (AclWhere::Vrfy, "acl_smtp_vrfy"),
    (AclWhere::Expn, "acl_smtp_expn"),
    (AclWhere::Etrn, "acl_smtp_etrn"),
    (AclWhere::Starttls, "acl_smtp_starttls"),
    (AclWhere::Auth, "acl_smtp_auth"),
];

fn place(w: AclWhere) -> Where {
    match w {
        AclWhere::Connect => Where::Connect,
        AclWhere::Helo => Where::Helo,
        AclWhere::Mail => Where::Mail,
        AclWhere::Rcpt => Where::Rcpt,
        AclWhere::Predata => Where::Predata,
        AclWhere::Data => Where::Data,
        AclWhere::Prdr => Where::Prdr,
        AclWhere::Quit => Where::Quit,
        AclWhere::Notquit => Where::NotQuit,
        AclWhere::Vrfy => Where::Vrfy,
        AclWhere::Expn => Where::Expn,
        AclWhere::Etrn => Where::Etrn,
        AclWhere::Starttls => Where::Starttls,
        AclWhere::Auth => Where::Auth,
    }
}

/// What every session of a process shares: the compiled ACLs, the hook
/// options and the named lists.
pub struct AclSetup {
    pub store: Arc<AclStore>,
    pub options: HashMap<AclWhere, String>,
    pub named_lists: Vec<(char, String, String)>,
    /// The same, held once for every session (lists compiled once).
    pub held_lists: Arc<crate::lists::NamedLists>,
    pub primary_hostname: String,
    pub hints_dir: String,
    /// Where Exim's trace says inline and file ACL statements come from:
    /// the configuration file and its last line.
    pub text_origin: Option<(String, u32)>,
    pub hosts_treat_as_local: Option<String>,
    /// The host's interface addresses: what `@[]` and `@mx_*` take as the
    /// local host.
    pub local_interfaces: Vec<std::net::IpAddr>,
    /// One resolver for the process (the fake one under the testsuite).
    pub resolver: Arc<dyn crate::dns::Resolver>,
}

impl AclSetup {
    pub fn from_config(config: &crate::config::Config) -> Result<AclSetup, String> {
        use crate::be::ConfigView;
        let store = AclStore::from_config(config).map_err(|e| e.to_string())?;
        let options = HOOK_OPTIONS
            .iter()
            .filter_map(|(w, name)| ConfigView::option(config, name).map(|v| (*w, v)))
            .collect();
        let named_lists: Vec<(char, String, String)> = config
            .named_lists
            .iter()
            .map(|l| {
                let k = match l.kind {
                    crate::config::ListKind::Domain => 'd',
                    crate::config::ListKind::Host => 'h',
                    crate::config::ListKind::Address => 'a',
                    crate::config::ListKind::LocalPart => 'l',
                };
                (k, l.name.clone(), l.value.clone())
            })
            .collect();
        let spool = ConfigView::option(config, "spool_directory").unwrap_or_default();
        let file = config.config_file();
        let text_origin = std::fs::read_to_string(&file)
            .ok()
            .map(|t| (file.clone(), (t.matches('\n').count() + usize::from(!t.is_empty() && !t.ends_with('\n'))) as u32));
        let held_lists = Arc::new(acl::lists_env::named_lists(named_lists.iter().map(|(k, n, v)| (*k, n.as_str(), v.as_str()))));
        Ok(AclSetup {
            store: Arc::new(store),
            options,
            named_lists,
            held_lists,
            primary_hostname: ConfigView::option(config, "primary_hostname").unwrap_or_default(),
            hints_dir: format!("{spool}/db"),
            text_origin,
            hosts_treat_as_local: ConfigView::option(config, "hosts_treat_as_local").filter(|v| !v.is_empty()),
            local_interfaces: crate::be::local_interface_addresses(),
            resolver: crate::dns::default_resolver(),
        })
    }
}

/// The ACLs of one session.
pub struct ConfiguredAcls {
    setup: Arc<AclSetup>,
    cfg: Arc<SmtpConfig>,
    hosts: Arc<dyn HostMatcher>,
    log: Arc<Logger>,
    state: AclState,
    lists: acl::lists_env::StaticListContext,
    hints: FileDb,
    /// `-bh`: the `>>>` trace of ACL processing and the log lines go to
    /// this buffer, shared with the session so that its lines keep their
    /// order (`smtp::stdio::run_host_check` writes it out).
    pub trace: Option<super::TraceBuf>,
    /// `$smtp_notquit_reason` while the not-QUIT ACL runs.
    notquit_reason: Option<String>,
}

impl ConfiguredAcls {
    pub fn new(setup: Arc<AclSetup>, cfg: Arc<SmtpConfig>, hosts: Arc<dyn HostMatcher>, log: Arc<Logger>) -> Self {
        let mut lists = acl::lists_env::StaticListContext::new([]);
        lists.named = setup.held_lists.clone();
        lists.primary_hostname = setup.primary_hostname.clone();
        lists.hosts_treat_as_local = setup.hosts_treat_as_local.clone();
        lists.local_interfaces = setup.local_interfaces.clone();
        lists.set_resolver(setup.resolver.clone());
        lists.unknown_in_list = cfg.log_selector.unknown_in_list;
        lists.host_lookup_order = cfg.host_lookup_order.clone();
        let hints = FileDb::new(&setup.hints_dir);
        ConfiguredAcls { setup, cfg, hosts, log, state: AclState::new(), lists, hints, trace: None, notquit_reason: None }
    }

    fn forget_named(&mut self, kinds: &[lists::ListKind]) {
        lists::ListContext::named_cache(&mut self.lists).forget(kinds);
    }

    /// What the interpreter sees of the session, and the ACL state.
    fn env<'a>(&'a mut self, vars: &'a SessionVars, headers: &'a [String]) -> (Env<'a>, &'a mut AclState) {
        let env = Env {
            store: &self.setup.store,
            vars,
            cfg: &self.cfg,
            hosts: &*self.hosts,
            headers,
            log: &self.log,
            lists: &mut self.lists,
            hints: &mut self.hints,
            trace: self.trace.as_ref(),
            indent: 0,
            text_origin: self.setup.text_origin.clone(),
            notquit_reason: self.notquit_reason.as_deref(),
        };
        (env, &mut self.state)
    }

    fn run(&mut self, w: AclWhere, vars: &SessionVars, arg: Option<&str>, headers: &[String]) -> AclOutcome {
        self.state.new_command();
        // What the session's host_lookup found; otherwise a host list
        // looks the name up when it needs it.
        if let Some(n) = &vars.sender_host_name {
            let known = matches!(&self.lists.host_names, Some(Some(v)) if v.first() == Some(n));
            if !known {
                self.lists.host_names = Some(Some(std::iter::once(n.clone()).chain(vars.sender_host_aliases.iter().cloned()).collect()));
            }
        } else if vars.host_lookup_failed {
            self.lists.host_names = Some(None);
        } else {
            self.lists.host_names = None;
        }
        let option = self.setup.options.get(&w).cloned();
        let (mut env, state) = self.env(vars, headers);
        let out = acl::check(&mut env, state, place(w), option.as_deref(), arg);
        let verdict = match out.rc {
            Rc::Ok => AclVerdict::Accept,
            Rc::Discard => AclVerdict::Discard,
            Rc::Fail if self.state.drop_connection => AclVerdict::Drop,
            Rc::Fail => AclVerdict::Deny,
            Rc::FailDrop => AclVerdict::Drop,
            Rc::Defer | Rc::Error => AclVerdict::Defer,
        };
        let add_headers = std::mem::take(&mut self.state.headers_add).into_iter().map(|(_, h)| h).collect();
        let fake_response = self.state.controls.fake_response.as_ref().map(|(id, text)| {
            (if *id == acl::controls::ControlId::Fakedefer { 450 } else { 550 }, text.clone())
        });
        let log_reject_target = self.state.log_reject_target.clone();
        let no_pipelining = self.state.controls.options(acl::controls::ControlId::NoPipelining).is_some();
        // Names a host list looked up: the session keeps them.
        let host_names = match (&vars.sender_host_name, vars.host_lookup_failed, &self.lists.host_names) {
            (None, false, Some(found)) => Some(found.clone()),
            _ => None,
        };
        let controls = &self.state.controls;
        let enforce_sync = controls.enforce_sync();
        let freeze = controls.has(acl::controls::ControlId::Freeze);
        let queue_only = controls.has(acl::controls::ControlId::QueueOnly) || controls.has(acl::controls::ControlId::Queue);
        let queue_name = self.state.queue_name.clone();
        let submission = controls.has(acl::controls::ControlId::Submission).then(|| {
            controls.options(acl::controls::ControlId::Submission).unwrap_or_default().to_string()
        });
        let suppress_local_fixups = controls.has(acl::controls::ControlId::SuppressLocalFixups);
        AclOutcome {
            verdict,
            user_message: out.user_message,
            log_message: out.log_message,
            add_headers,
            fake_response,
            log_reject_target,
            no_pipelining,
            host_names,
            freeze,
            queue_only,
            queue_name,
            enforce_sync,
            submission,
            suppress_local_fixups,
        }
    }
}

impl AclHooks for ConfiguredAcls {
    fn connect(&mut self, v: &SessionVars) -> AclOutcome {
        self.run(AclWhere::Connect, v, None, &[])
    }
    fn helo(&mut self, v: &SessionVars) -> AclOutcome {
        let out = self.run(AclWhere::Helo, v, None, &[]);
        // A refused HELO keeps the transaction (Exim's smtp_reset() is
        // only for an accepted one).
        if out.verdict == AclVerdict::Accept {
            self.state.new_message();
        }
        out
    }
    fn mail(&mut self, v: &SessionVars) -> AclOutcome {
        self.state.new_message();
        self.forget_named(&[lists::ListKind::Address, lists::ListKind::Domain, lists::ListKind::LocalPart]);
        self.run(AclWhere::Mail, v, None, &[])
    }
    fn rcpt(&mut self, v: &SessionVars, recipient: &str) -> AclOutcome {
        // Exim caches domain and local part list results in the
        // recipient's address item: each RCPT starts afresh.
        self.forget_named(&[lists::ListKind::Domain, lists::ListKind::LocalPart]);
        self.run(AclWhere::Rcpt, v, Some(recipient), &[])
    }
    fn predata(&mut self, v: &SessionVars) -> AclOutcome {
        self.run(AclWhere::Predata, v, None, &[])
    }
    fn data(&mut self, v: &SessionVars, headers: &[String]) -> AclOutcome {
        self.run(AclWhere::Data, v, None, headers)
    }
    fn with_rewrite_env(&mut self, v: &SessionVars, headers: &[String], job: &mut dyn FnMut(&mut dyn crate::rewrite::RewriteEnv)) -> bool {
        job(&mut SessionRewrite { acls: self, vars: v, headers });
        true
    }
    fn log_now(&mut self, targets: crate::log::Targets, text: &str) -> bool {
        self.log.write(targets, text);
        true
    }
    fn prdr(&mut self, v: &SessionVars, headers: &[String], recipient: &str) -> AclOutcome {
        self.forget_named(&[lists::ListKind::Domain, lists::ListKind::LocalPart]);
        self.run(AclWhere::Prdr, v, Some(recipient), headers)
    }
    fn quit(&mut self, v: &SessionVars) -> AclOutcome {
        self.run(AclWhere::Quit, v, None, &[])
    }
    fn notquit(&mut self, v: &SessionVars, reason: &str) -> AclOutcome {
        self.notquit_reason = Some(reason.to_string());
        let out = self.run(AclWhere::Notquit, v, None, &[]);
        self.notquit_reason = None;
        out
    }
    fn vrfy(&mut self, v: &SessionVars, address: &str) -> AclOutcome {
        self.run(AclWhere::Vrfy, v, Some(address), &[])
    }
    fn expn(&mut self, v: &SessionVars, list: &str) -> AclOutcome {
        self.run(AclWhere::Expn, v, Some(list), &[])
    }
    fn etrn(&mut self, v: &SessionVars, arg: &str) -> AclOutcome {
        self.run(AclWhere::Etrn, v, Some(arg), &[])
    }
    fn starttls(&mut self, v: &SessionVars) -> AclOutcome {
        let out = self.run(AclWhere::Starttls, v, None, &[]);
        self.state.new_message();
        out
    }
    fn auth(&mut self, v: &SessionVars, mechanism: &str) -> AclOutcome {
        self.run(AclWhere::Auth, v, Some(mechanism), &[])
    }
}

/// Address rewriting during a session: replacements are expanded as ACL
/// strings are, rule patterns matched by the session's list engine.
struct SessionRewrite<'a> {
    acls: &'a mut ConfiguredAcls,
    vars: &'a SessionVars,
    headers: &'a [String],
}

impl SessionRewrite<'_> {
    fn env(&mut self) -> (Env<'_>, &mut AclState) {
        self.acls.env(self.vars, self.headers)
    }
}

impl crate::rewrite::RewriteEnv for SessionRewrite<'_> {
    fn expand(&mut self, text: &str, parts: Option<(&str, &str)>, numeric: Vec<String>) -> Result<String, crate::expand::ExpandError> {
        let (mut env, state) = self.env();
        acl::expand_outside(&mut env, state, text, parts, numeric)
    }
    fn match_address(&mut self, subject: &str, item: &str) -> Option<Vec<String>> {
        // -bh shows the match as it shows an ACL's.
        let (mut env, _) = self.env();
        env.lists.tracing = env.trace.is_some();
        let r = crate::be::rewrite_key_match(env.lists, subject, item);
        env.flush_lists();
        r
    }
    fn match_regex(&mut self, subject: &str, pattern: &str) -> Option<Vec<String>> {
        let re = lists::regex::compile(pattern, false).ok()?;
        lists::regex::captures(&re, subject).ok().flatten()
    }
    fn log_panic(&mut self, line: &str) {
        let (mut env, _) = self.env();
        acl::AclLog::log(&mut env, &["main", "panic"], line);
    }
    fn log_main(&mut self, line: &str) {
        let (mut env, _) = self.env();
        acl::AclLog::log(&mut env, &["main"], line);
    }
    fn log_rewrites(&self) -> bool {
        self.acls.cfg.log_selector.address_rewrite
    }
    fn qualify_recipient(&self) -> String {
        self.acls.cfg.qualify_recipient.clone()
    }
    fn headers_charset(&self) -> String {
        self.acls.cfg.options.get("headers_charset").cloned().unwrap_or_else(|| "UTF-8".into())
    }
}

/// What the interpreter sees of the session during one ACL run.
struct Env<'a> {
    store: &'a AclStore,
    vars: &'a SessionVars,
    cfg: &'a SmtpConfig,
    hosts: &'a dyn HostMatcher,
    headers: &'a [String],
    log: &'a Logger,
    lists: &'a mut acl::lists_env::StaticListContext,
    hints: &'a mut FileDb,
    trace: Option<&'a super::TraceBuf>,
    /// Indentation of the list layer's trace lines (nested ACLs).
    indent: usize,
    text_origin: Option<(String, u32)>,
    notquit_reason: Option<&'a str>,
}

impl Env<'_> {
    fn emit(&self, line: String) {
        if let Some(t) = self.trace {
            t.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    }

    /// The list layer's trace lines and the lines it logs, in order.
    fn flush_lists(&mut self) {
        if self.lists.traced.is_empty() {
            return;
        }
        for mut line in std::mem::take(&mut self.lists.traced) {
            // Exim names the connection (smtp_get_connection_info()) while
            // no message id is set; built here, when it is needed.
            if line.contains(lists::host::NO_ADDRESS) && self.vars.message_id.is_empty() {
                line.push_str(&format!(" (during SMTP connection from {})", self.vars.fullhost(true)));
            }
            match line.strip_prefix("LOG: ") {
                Some(l) => acl::AclLog::log(self, &[], l),
                None => self.emit(format!(">>> {}{line}", " ".repeat(self.indent))),
            }
        }
    }

    fn context(&self) -> SessionContext<'_> {
        SessionContext { vars: self.vars, cfg: self.cfg, hosts: self.hosts, headers: self.headers, extra: HashMap::new() }
    }
}

impl acl::AclSource for Env<'_> {
    fn named_acl(&self, name: &str) -> Option<Arc<acl::Acl>> {
        self.store.named_acl(name)
    }
    fn text_acl_origin(&self) -> Option<(String, u32)> {
        self.text_origin.clone()
    }
}

impl acl::SessionVars for Env<'_> {
    fn variable(&self, name: &str) -> Option<String> {
        if name == "smtp_notquit_reason" {
            return self.notquit_reason.map(str::to_string);
        }
        self.context().variable(name)
    }
    fn host_and_ident(&self) -> String {
        self.vars.host_and_ident(true)
    }
    fn headers(&self) -> Vec<String> {
        self.headers.to_vec()
    }
    fn config_option(&self, name: &str) -> Option<String> {
        Context::config_option(&self.context(), name)
    }
    fn unqualified_allowed(&self) -> (bool, bool) {
        (self.vars.allow_unqualified_sender, self.vars.allow_unqualified_recipient)
    }
    fn recipients(&self) -> Vec<String> {
        self.vars.recipients.clone()
    }
    fn is_tainted(&self, name: &str) -> bool {
        super::context::is_tainted(name)
    }
}

impl acl::ListMatcher for Env<'_> {
    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<crate::lists::MatchData>, String> {
        self.lists.tracing = self.trace.is_some();
        self.lists.sender_host = self.vars.sender_host_address.as_deref().and_then(|a| a.parse().ok());
        // The -bh trace shows the list engine's walk; otherwise the list
        // is compiled once per expanded text.
        let r = if self.trace.is_none() {
            acl::lists_env::match_compiled(self.lists, subject, &acl::lists_env::compiled(kind, list))
        } else {
            acl::lists_env::match_list(self.lists, kind, subject, list)
        };
        self.flush_lists();
        r
    }
    fn set_trace_indent(&mut self, indent: usize) {
        self.indent = indent;
    }
    fn match_compiled(&mut self, _kind: ListKind, subject: &str, list: &crate::lists::compiled::CompiledList) -> Result<Option<crate::lists::MatchData>, String> {
        let r = acl::lists_env::match_compiled(self.lists, subject, list);
        self.flush_lists();
        r
    }
    fn lookup(&mut self, key: Option<&str>, search_type: &str, query: &str) -> Result<Option<Found>, ExpandError> {
        let (lookups, env) = crate::lists::ListContext::lookups(self.lists);
        let found = crate::lookups::expansion::expansion_lookup(lookups, env, key, search_type, query)
            .map_err(ExpandError::Failed)?;
        Ok(found.value.map(|v| Found {
            value: Some(v),
            numeric: found.numeric.map(|(a, b)| vec![String::new(), a, b]).unwrap_or_default(),
        }))
    }
}

impl acl::AclLog for Env<'_> {
    fn log(&mut self, targets: &[&str], line: &str) {
        // -bh writes no log files: log lines go to standard error.
        if self.trace.is_some() {
            let line = match self.vars.log_id.as_str() {
                "" => format!("LOG: {line}"),
                id => format!("LOG: {id} {line}"),
            };
            self.emit(line);
            return;
        }
        let t = Targets {
            main: targets.is_empty() || targets.contains(&"main"),
            reject: targets.contains(&"reject"),
            panic: targets.contains(&"panic"),
        };
        // Once the message has an id (the DATA ACL), its lines carry it.
        match self.vars.log_id.as_str() {
            "" => self.log.write(t, line),
            id => self.log.write(t, &format!("{id} {line}")),
        }
    }
    fn debug(&mut self, line: &str) {
        // Every line of Exim's debug output has the prefix, those inside
        // one value (a multi-line add_header) too.
        self.emit(format!(">>> {}", line.replace('\n', "\n>>> ")));
    }
    fn debugging(&self) -> bool {
        self.trace.is_some()
    }
    fn delay(&mut self, _seconds: u64) {
        // The session does not pause yet; -bh never does.
        self.emit(">>> delay skipped in -bh checking mode".to_string());
    }
}

/// `dnslists` through the session's resolver (the fake one in tests).
impl acl::Resolver for Env<'_> {
    fn lookup_a(&mut self, name: &str) -> acl::DnsAnswer {
        use crate::dns::{DnsResult, DnsType, RecordData};
        let resolver = crate::lists::ListContext::lookups(self.lists).0.resolver();
        match resolver.lookup(name, DnsType::A) {
            DnsResult::Found { records, .. } => acl::DnsAnswer::Found(
                records
                    .into_iter()
                    .filter_map(|r| match r.data {
                        RecordData::A(a) => Some(a),
                        _ => None,
                    })
                    .collect(),
            ),
            DnsResult::NoMatch | DnsResult::NoData => acl::DnsAnswer::NotFound,
            DnsResult::Again | DnsResult::Fail => acl::DnsAnswer::Defer,
        }
    }

    fn lookup_txt(&mut self, name: &str) -> Option<String> {
        use crate::dns::{DnsResult, DnsType, RecordData};
        let resolver = crate::lists::ListContext::lookups(self.lists).0.resolver();
        match resolver.lookup(name, DnsType::Txt) {
            DnsResult::Found { records, .. } => records.into_iter().find_map(|r| match r.data {
                RecordData::Txt(parts) => Some(String::from_utf8_lossy(&parts.concat()).into_owned()),
                _ => None,
            }),
            _ => None,
        }
    }
}
impl acl::Verifier for Env<'_> {
    /// Exim's HELO verification where it needs no DNS: local input always
    /// passes; an address literal must be the client's address; a name the
    /// client's verified name (host_lookup) or one of its aliases.
    fn helo_verified(&mut self) -> Option<bool> {
        let Some(ip) = self.vars.sender_host_address.as_deref() else { return Some(true) };
        let helo = self.vars.sender_helo_name.as_deref()?;
        if let Some(lit) = helo.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let lit = lit.strip_prefix("IPv6:").unwrap_or(lit);
            return Some(lit.parse::<std::net::IpAddr>().ok() == ip.parse().ok());
        }
        let known = self.vars.sender_host_name.iter().chain(self.vars.sender_host_aliases.iter());
        known.into_iter().any(|n| n.eq_ignore_ascii_case(helo)).then_some(true)
    }
}

impl acl::AclEnv for Env<'_> {
    fn hints(&mut self) -> Option<&mut dyn HintsDb> {
        Some(self.hints)
    }
}
