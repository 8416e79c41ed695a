//! One SMTP session as a state machine: `feed` it the bytes the client
//! sent and it answers with events (replies, log lines, actions). It does
//! no I/O, so the daemon, `-bs` and `-bh` share it.
//!
//! States are named for what the session expects next, as in rustls.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;

use super::address;
use super::command::{self, Verb};
use super::config::SmtpConfig;
use super::context::SessionContext;
use super::data::{header_flag, MessageData};
use super::hooks::{AclHooks, AclOutcome, AclVerdict, AclWhere, HostMatcher};
use super::received::received_header;
use super::texts as t;
use crate::auth::{AuthState, AuthStep, Authenticator};
use crate::log::Targets;
use crate::spool::write::SpoolHeader;
use crate::spool::{IdGenerator, SpoolMessage};

/// Exim's smtp_cmd_buffer_size.
const COMMAND_BUFFER_SIZE: usize = 16384;
/// Commands remembered for `C=` in drop messages.
const HISTORY_SIZE: usize = 20;

/// What the session asks its driver to do.
#[derive(Debug)]
pub enum Event {
    /// Bytes to send to the client.
    Reply(Vec<u8>),
    /// A line for the logs.
    Log(Targets, String),
    /// Set up TLS for this connection (expand and load the certificate,
    /// `tls_files`), then call `tls_setup` with the outcome.
    StartTls,
    /// Send the replies so far ("220 TLS go ahead"), then do the TLS
    /// handshake; call `tls_started`.
    TlsHandshake,
    /// Write this message to the spool, then call `spooled`.
    Spool(Box<SpoolMessage>),
    /// Send the replies so far and close the connection.
    Close,
    /// Start this command without waiting for it (ETRN's); if it cannot
    /// be run, log Exim's "exec of ... failed" line naming `shown`.
    Command { argv: Vec<String>, shown: String, what: &'static str },
    /// Carry out the events before this one (the arrival's log line must
    /// precede what later commands' ACLs log), then call `feed(&[])` to go
    /// on with the input that followed the message.
    Continue,
}

/// TLS facts about the connection, for variables and logs.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    pub cipher: Option<String>,
    pub cipher_std: Option<String>,
    pub version: Option<String>,
    pub bits: Option<u32>,
    pub peerdn: Option<String>,
    pub sni: Option<String>,
    pub certificate_verified: bool,
    /// The client's certificate and ours, PEM (for the -H file).
    pub peercert: Option<String>,
    pub ourcert: Option<String>,
}

/// The session's variables, as ACLs and expansions see them.
#[derive(Debug, Clone, Default)]
pub struct SessionVars {
    /// Exim's allow_unqualified_sender / _recipient: the client may send
    /// unqualified addresses (sender_unqualified_hosts,
    /// recipient_unqualified_hosts; local input always may).
    pub allow_unqualified_sender: bool,
    pub allow_unqualified_recipient: bool,
    pub sender_host_address: Option<String>,
    pub sender_host_port: u16,
    pub sender_host_name: Option<String>,
    /// The other names that host_lookup verified.
    pub sender_host_aliases: Vec<String>,
    /// `$host_lookup_failed`, `$host_lookup_deferred`.
    pub host_lookup_failed: bool,
    pub host_lookup_deferred: bool,
    pub interface_address: Option<String>,
    pub interface_port: u16,
    pub sender_ident: Option<String>,
    pub sender_helo_name: Option<String>,
    pub received_protocol: String,
    pub esmtp: bool,
    /// `None` until a MAIL command is accepted.
    pub sender_address: Option<String>,
    pub recipients: Vec<String>,
    pub rcpt_count: usize,
    /// SIZE= on MAIL; after the data, the message's size on the spool.
    pub message_size: Option<u64>,
    /// After the data: `$message_body`, `$message_body_end` (newlines
    /// as spaces), `$body_linecount`, `$message_linecount`.
    pub message_body: Option<String>,
    pub message_body_end: Option<String>,
    pub body_linecount: Option<u64>,
    pub message_linecount: Option<u64>,
    pub body_8bitmime: u8,
    pub smtputf8: bool,
    /// The client asked for PRDR (MAIL's PRDR parameter, with
    /// prdr_enable set); cleared at the end of the data when the message
    /// does not get per-recipient replies after all.
    pub prdr_requested: bool,
    pub message_id: String,
    /// The id Exim's log lines start with: set when a message's data
    /// starts; under -bh kept after it (the QUIT ACL's lines show it)
    /// until the next MAIL, RSET or HELO.
    pub log_id: String,
    pub authenticated_id: Option<String>,
    pub authenticated_sender: Option<String>,
    /// The authenticator's instance name when authenticated.
    pub sender_host_authenticated: Option<String>,
    /// Its public (mechanism) name.
    pub sender_host_auth_pubname: Option<String>,
    pub tls: TlsInfo,
    /// PROXY protocol: the external address and port the proxy reported.
    pub proxy: Option<(String, u16)>,
    /// PROXY protocol: the negotiation's outcome, for a host in
    /// hosts_proxy (its variables, and the 503s after a failure).
    pub proxy_state: Option<crate::proxy::ProxyState>,
    pub smtp_command: String,
    /// `$acl_c*` and `$acl_m*`.
    pub acl_vars: HashMap<String, String>,
    /// RET and ENVID of the MAIL command (src/dsn).
    pub mail_dsn: crate::dsn::MailDsn,
    /// NOTIFY and ORCPT of each accepted recipient, beside `recipients`.
    pub recipients_dsn: Vec<crate::dsn::RcptDsn>,
    pub log_incoming_port: bool,
    /// `log_selector = +incoming_interface`: I=[ip]:port after the host.
    pub log_incoming_interface: bool,
}

impl SessionVars {
    /// The variables known when a connection starts.
    pub fn for_peer(peer: &Peer, cfg: &SmtpConfig) -> SessionVars {
        SessionVars {
            sender_host_address: peer.address.clone(),
            sender_host_port: peer.port,
            sender_host_name: peer.host_name.clone(),
            interface_address: peer.interface_address.clone(),
            interface_port: peer.interface_port,
            log_incoming_port: cfg.log_selector.incoming_port,
            log_incoming_interface: cfg.log_selector.incoming_interface,
            ..Default::default()
        }
    }

    fn address_text(&self) -> String {
        match &self.sender_host_address {
            // Exim leaves out a port of 0 (-bh without -oMa's port).
            Some(a) if self.log_incoming_port && self.sender_host_port > 0 => format!("[{a}]:{}", self.sender_host_port),
            Some(a) => format!("[{a}]"),
            None => String::new(),
        }
    }

    /// $sender_fullhost: `name (helo) [ip]` with the parts that are known.
    pub fn fullhost(&self, _with_port: bool) -> String {
        let addr = self.address_text();
        match (&self.sender_host_name, &self.sender_helo_name) {
            (Some(n), Some(h)) if n.eq_ignore_ascii_case(h) => format!("{n} {addr}"),
            (Some(n), Some(h)) => format!("{n} ({h}) {addr}"),
            (Some(n), None) => format!("{n} {addr}"),
            (None, Some(h)) => format!("({h}) {addr}"),
            (None, None) => addr,
        }
    }

    /// $sender_rcvhost, for the Received: header.
    pub fn rcvhost(&self) -> String {
        let addr = match &self.sender_host_address {
            Some(a) => format!("[{a}]"),
            None => String::new(),
        };
        let mut extra = Vec::new();
        if self.log_incoming_port && self.sender_host_address.is_some() {
            extra.push(format!("port={}", self.sender_host_port));
        }
        if let Some(h) = &self.sender_helo_name {
            if self.sender_host_name.as_ref().is_none_or(|n| !n.eq_ignore_ascii_case(h)) {
                extra.push(format!("helo={h}"));
            }
        }
        if let Some(i) = &self.sender_ident {
            extra.push(format!("ident={i}"));
        }
        match &self.sender_host_name {
            Some(n) => {
                let mut inner = addr;
                for e in extra {
                    inner.push(' ');
                    inner.push_str(&e);
                }
                format!("{n} ({inner})")
            }
            None if extra.is_empty() => addr,
            None => format!("{addr} ({})", extra.join(" ")),
        }
    }

    /// Exim's host_and_ident(): `H=... U=...` or `U=login` for local input.
    pub fn host_and_ident(&self, flags: bool) -> String {
        if self.sender_host_address.is_some() {
            let mut s = if flags { format!("H={}", self.fullhost(true)) } else { self.fullhost(true) };
            if let (true, Some(i)) = (self.log_incoming_interface, &self.interface_address) {
                s.push_str(&format!(" I=[{i}]:{}", self.interface_port));
            }
            // Exim's host_and_ident(): " U=" whether or not "H=" is wanted.
            if let Some(i) = &self.sender_ident {
                s.push_str(" U=");
                s.push_str(i);
            }
            s
        } else {
            match &self.sender_ident {
                Some(i) if flags => format!("U={i}"),
                Some(i) => i.clone(),
                None => String::new(),
            }
        }
    }
}

/// How the session was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionMode {
    /// A TCP connection to the daemon.
    Remote,
    /// `-bs`: SMTP on standard input from a local process.
    Local { caller: super::caller::Caller },
    /// `-bh`: a simulated remote session; nothing is spooled.
    HostCheck,
}

/// The connected peer.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    pub address: Option<String>,
    pub port: u16,
    pub interface_address: Option<String>,
    pub interface_port: u16,
    pub host_name: Option<String>,
    /// `-oMt`: the ident of a -bs session instead of the caller's login.
    pub ident: Option<String>,
    /// True when the connection arrived on a `tls_on_connect_ports` port
    /// and TLS is already up.
    pub tls: Option<TlsInfo>,
    /// Connections the daemon has open, this one included.
    pub connection_count: usize,
}

#[derive(Debug)]
enum State {
    /// Waiting for an SMTP command.
    ExpectCommand,
    /// Inside DATA, reading lines until a lone dot.
    ExpectData,
    /// Inside a BDAT chunk with this many bytes to come.
    ExpectChunk { remaining: usize, last: bool, discard: bool },
    /// After BDAT without LAST: only BDAT may follow.
    ExpectBdat,
    /// A chunked transfer went wrong: only RSET may follow.
    ExpectRset,
    /// An AUTH exchange waits for the client's next line.
    ExpectAuthResponse { auth: usize, state: AuthState },
    /// The message went to the driver for spooling.
    AwaitSpool,
    /// The driver is starting TLS.
    AwaitTls,
    Closed,
}

/// What the client was told in EHLO.
#[derive(Debug, Default, Clone, Copy)]
struct Advertised {
    pipelining: bool,
    chunking: bool,
    auth: bool,
    tls: bool,
    dsn: bool,
    smtputf8: bool,
}

pub struct Session {
    cfg: Arc<SmtpConfig>,
    acls: Box<dyn AclHooks + Send>,
    hosts: Arc<dyn HostMatcher>,
    auths: Arc<Vec<Box<dyn Authenticator>>>,
    ids: Arc<IdGenerator>,
    resolver: Arc<dyn crate::dns::Resolver>,
    mode: SessionMode,
    pub vars: SessionVars,
    input: Vec<u8>,
    /// STARTTLS threw away the input after it: a driver that has read
    /// more than it fed drops that too (`take_input_discarded`).
    input_discarded: bool,
    state: State,
    events: Vec<Event>,
    helo_seen: bool,
    adv: Advertised,
    pipe_connect_ok: bool,
    synprot_errors: u32,
    unknown_commands: u32,
    history: Vec<&'static str>,
    /// `+smtp_connection`, unless the host is in `hosts_connection_nolog`
    /// (Exim clears the selector bit for the connection).
    log_connection: bool,
    /// `smtp_accept_max_per_connection` as expanded after HELO (or at the
    /// first MAIL without one); 0 is no limit.
    mailcmd_max: Option<i64>,
    /// The reject log's detail for a refusal after DATA (acl_fail_data).
    reject_detail: Option<String>,
    /// MAIL commands seen, accepted or not (Exim's smtp_mailcmd_count).
    mail_commands: u32,
    /// The banner went out: from then on an ending without MAIL is
    /// logged (`smtp_no_mail`), once.
    no_mail_pending: bool,
    rcpt_response: Option<String>,
    rcpt_response_same: bool,
    /// Exim's rcpt_in_progress: the next reply line is the RCPT's, kept
    /// for the "All RCPT commands were rejected" reply to DATA.
    rcpt_in_progress: bool,
    /// `control = fakereject|fakedefer` for the message being received.
    fake_response: Option<(u16, String)>,
    /// The final reply of a message that had per-recipient replies.
    prdr_reply: Option<String>,
    /// `$received_for` of the message's Received: line.
    received_for: Option<String>,
    /// The recipients before PRDR dropped any, for the arrival line.
    prdr_recipients: Option<Vec<String>>,
    /// Header lines the MAIL, RCPT and predata ACLs added; they join the
    /// message before the DATA ACL runs.
    pre_data_headers: Vec<String>,
    /// MAIL's ACL said `discard`: its log message for each recipient.
    mail_discard: Option<Option<String>>,
    /// Which ACL discarded recipients ("MAIL", "RCPT", "DATA"): a DATA
    /// with no recipient left is still taken.
    discarded: Option<&'static str>,
    last_was_rcpt: bool,
    last_was_rej_mail: bool,
    too_many: bool,
    message: MessageData,
    message_start: (u64, u32),
    chunk_total: usize,
    chunk_size: usize,
    chunking_active: bool,
    chunk_line: Vec<u8>,
    pending_close: bool,
    quit_seen: bool,
    /// In DATA: the previous line ended with CR LF.
    last_line_crlf: bool,
    connection_count: usize,
    started: std::time::Instant,
    /// -bh: Exim's `>>>` debug lines of the session's list checks.
    trace: Option<Box<dyn FnMut(&str) + Send>>,
    /// Decided at connection time, as Exim does (smtp_start_session).
    helo_verify_required: bool,
    /// The client is in `helo_try_verify_hosts`.
    helo_try_verify: bool,
    helo_accept_junk: bool,
    /// ignore_fromline_hosts was checked for this message.
    fromline_checked: bool,
    nonmail: super::nonmail::NonMail,
    /// `open` has run.
    opened: bool,
    /// `message_size_limit`, expanded for this session.
    size_limit: u64,
    /// `control = no_pipelining` in the connect or HELO ACL.
    no_pipelining: bool,
    /// `smtp_enforce_sync`, as ACL controls have changed it.
    enforce_sync: bool,
    /// `control = queue_only` for the message being received.
    queue_only: bool,
    /// `control = submission` for this message (from the predata ACL's
    /// view), with the envelope sender as the client gave it.
    submission: Option<(super::submission::Submission, Option<String>)>,
    /// `control = suppress_local_fixups`.
    suppress_local_fixups: bool,
    /// An untrusted local caller chose this message's envelope sender
    /// (one `untrusted_set_sender` allows).
    sender_set_untrusted: bool,
    /// `accept message = ...` of the predata ACL: the reply to DATA
    /// instead of 354's text; of the DATA ACL: instead of "250 OK id=".
    predata_message: Option<String>,
    data_message: Option<String>,
}

/// The long-lived things a session needs.
#[derive(Clone)]
pub struct Services {
    pub cfg: Arc<SmtpConfig>,
    pub hosts: Arc<dyn HostMatcher>,
    pub auths: Arc<Vec<Box<dyn Authenticator>>>,
    pub ids: Arc<IdGenerator>,
    /// For `host_lookup`: the client's name from its address.
    pub resolver: Arc<dyn crate::dns::Resolver>,
}

fn reply(code: &str, text: &str) -> Vec<u8> {
    // A multi-line text becomes a multi-line reply.
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let sep = if i + 1 == lines.len() { ' ' } else { '-' };
        out.push_str(&format!("{code}{sep}{l}\r\n"));
    }
    crate::bytes::into_bytes(out)
}

/// A reply from an ACL's `message`, which may start with its own code
/// (and extended code) of the same class as the default (Exim's
/// smtp_message_code()).
fn user_reply(default_code: u16, text: &str) -> Vec<u8> {
    let (code, extended, msg) = crate::acl::reply::message_code(text, default_code);
    let code = code.to_string();
    match extended {
        Some(ext) => {
            let lines: Vec<String> = msg.split('\n').map(|l| format!("{ext} {l}")).collect();
            reply(&code, &lines.join("\n"))
        }
        None => reply(&code, msg),
    }
}

/// Exim's string_split_message(): a message longer than 75 characters is
/// broken into lines of about 75 at spaces, preferring a space after a
/// colon, looking ahead when there is no space in the line's last 40.
fn split_message(msg: &str) -> String {
    const WIDTH: usize = 75;
    if msg.len() <= WIDTH {
        return msg.to_string();
    }
    let mut b = msg.as_bytes().to_vec();
    let mut s = 0;
    loop {
        let mut ss = s;
        let mut i = 0;
        while i < WIDTH && ss < b.len() && b[ss] != b'\n' {
            ss += 1;
            i += 1;
        }
        if ss >= b.len() {
            break;
        }
        if b[ss] == b'\n' {
            s = ss + 1;
            continue;
        }
        let mut split = None;
        let mut t = ss + 1;
        while t > s + 36 {
            t -= 1;
            if t < b.len() && b[t] == b' ' {
                if b[t - 1] == b':' {
                    split = Some(t);
                    break;
                }
                split.get_or_insert(t);
            }
        }
        if split.is_none() {
            split = (ss + 1..b.len()).find(|&t| b[t] == b' ' || b[t] == b'\n');
        }
        let Some(at) = split else { break };
        b[at] = b'\n';
        s = at + 1;
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Exim's string_printing(): control characters as escapes.
fn printing(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

fn is_valid_helo(name: &str, allow: &str) -> bool {
    if let Some(lit) = name.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let lit = lit.strip_prefix("IPv6:").unwrap_or(lit);
        return lit.parse::<std::net::IpAddr>().is_ok();
    }
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || allow.contains(c))
}

impl Session {
    pub fn new(services: &Services, acls: Box<dyn AclHooks + Send>, mode: SessionMode, peer: Peer) -> Session {
        let cfg = services.cfg.clone();
        let mut vars = SessionVars::for_peer(&peer, &cfg);
        if let SessionMode::Local { caller } = &mode {
            // -bs is remote input only when -oMa names a host.
            vars.sender_ident = Some(peer.ident.clone().unwrap_or_else(|| caller.login.clone()));
            // Exim's $authenticated_id for local input from an untrusted
            // caller: its login.
            if !caller.trusted && peer.address.is_none() {
                vars.authenticated_id = Some(caller.login.clone());
            }
        }
        if let Some(tls) = peer.tls {
            vars.tls = tls;
        }
        let mut session = Session {
            cfg,
            acls,
            hosts: services.hosts.clone(),
            auths: services.auths.clone(),
            ids: services.ids.clone(),
            resolver: services.resolver.clone(),
            mode,
            vars,
            input: Vec::new(),
            input_discarded: false,
            state: State::ExpectCommand,
            events: Vec::new(),
            helo_seen: false,
            adv: Advertised::default(),
            pipe_connect_ok: false,
            synprot_errors: 0,
            unknown_commands: 0,
            history: Vec::new(),
            mail_commands: 0,
            reject_detail: None,
            mailcmd_max: None,
            log_connection: false,
            no_mail_pending: false,
            rcpt_response: None,
            rcpt_response_same: true,
            rcpt_in_progress: false,
            fake_response: None,
            prdr_reply: None,
            received_for: None,
            prdr_recipients: None,
            pre_data_headers: Vec::new(),
            mail_discard: None,
            discarded: None,
            last_was_rcpt: false,
            last_was_rej_mail: false,
            too_many: false,
            message: MessageData::default(),
            message_start: (0, 0),
            chunk_total: 0,
            chunk_size: 0,
            chunking_active: false,
            chunk_line: Vec::new(),
            pending_close: false,
            quit_seen: false,
            last_line_crlf: false,
            connection_count: peer.connection_count,
            started: std::time::Instant::now(),
            trace: None,
            helo_verify_required: false,
            helo_try_verify: false,
            helo_accept_junk: false,
            fromline_checked: false,
            nonmail: super::nonmail::NonMail::new(),
            opened: false,
            size_limit: services.cfg.message_size_limit,
            no_pipelining: false,
            enforce_sync: services.cfg.smtp_enforce_sync,
            queue_only: false,
            submission: None,
            suppress_local_fixups: false,
            sender_set_untrusted: false,
            predata_message: None,
            data_message: None,
        };
        // Needed before the banner (early_input); -bh traces it in start().
        session.pipe_connect_ok = session.vars.sender_host_address.is_some()
            && session.is_remote_socket()
            && session.host_in("pipelining_connect_advertise_hosts");
        session
    }

    /// Receive Exim's `-bh` debug lines for the session's own checks
    /// (`>>> host in helo_verify_hosts? no (option unset)`...) and, in
    /// HostCheck mode, its log lines (`LOG: ...`) as they happen. Set
    /// before `start`.
    pub fn set_trace(&mut self, sink: Box<dyn FnMut(&str) + Send>) {
        self.trace = Some(sink);
    }

    fn trace_line(&mut self, line: &str) {
        if let Some(t) = self.trace.as_mut() {
            t(&format!(">>> {line}"));
        }
    }

    /// Is the client in the host list option `option` (traced as Exim's
    /// verify_check_host() does)?
    fn host_in(&mut self, option: &str) -> bool {
        let (cfg, hosts) = (self.cfg.clone(), self.hosts.clone());
        // Exim expands a host list option before matching it; a text with
        // `$` left as it is would be taken for a host name pattern.
        let expanded = match cfg.list_option(option) {
            Some(text) if text.contains('$') => {
                let headers: Vec<String> = Vec::new();
                match crate::expand::expand_string(text, &mut self.context(&headers)) {
                    Ok(s) => Some(s),
                    Err(e) if e.is_forced() => Some(String::new()),
                    Err(_) => return false,
                }
            }
            _ => None,
        };
        let list = expanded.as_deref().or_else(|| cfg.list_option(option));
        let (addr, name) = (self.vars.sender_host_address.as_deref(), self.vars.sender_host_name.as_deref());
        if name.is_some() || addr.is_none() || list.is_none() {
            return match self.trace.as_mut() {
                Some(t) => hosts.host_in(option, list, addr, name, Some(&mut |l: &str| t(&if l.starts_with("LOG: ") { l.to_string() } else { format!(">>> {l}") }))),
                None => hosts.host_in(option, list, addr, name, None),
            };
        }
        let failed = self.vars.host_lookup_failed;
        let (yes, found) = match self.trace.as_mut() {
            Some(t) => hosts.host_in_looking_up(option, list, addr, failed, Some(&mut |l: &str| t(&if l.starts_with("LOG: ") { l.to_string() } else { format!(">>> {l}") }))),
            None => hosts.host_in_looking_up(option, list, addr, failed, None),
        };
        self.keep_host_names(found);
        yes
    }

    /// Names a host list looked up (Exim's host_name_lookup() from
    /// match_check_list): they are the client's for the rest of the session.
    fn keep_host_names(&mut self, found: Option<Option<Vec<String>>>) {
        match found {
            Some(Some(mut names)) if !names.is_empty() && self.vars.sender_host_name.is_none() => {
                self.vars.sender_host_name = Some(names.remove(0));
                self.vars.sender_host_aliases = names;
            }
            Some(None) => self.vars.host_lookup_failed = true,
            _ => {}
        }
    }

    /// Is `domain` in the domain list option `option`?
    fn domain_in(&mut self, option: &str, domain: &str) -> bool {
        let (cfg, hosts) = (self.cfg.clone(), self.hosts.clone());
        let list = cfg.list_option(option);
        match self.trace.as_mut() {
            Some(t) => hosts.domain_in(option, list, domain, Some(&mut |l: &str| t(&if l.starts_with("LOG: ") { l.to_string() } else { format!(">>> {l}") }))),
            None => hosts.domain_in(option, list, domain, None),
        }
    }

    /// Exim's host_name_lookup(): the client's name from its address, with
    /// the forward check (src/dns/host_lookup.rs); -bh traces it.
    fn look_up_host_name(&mut self) {
        let Some(ip) = self.vars.sender_host_address.as_deref().and_then(|a| a.parse::<std::net::IpAddr>().ok()) else {
            return;
        };
        self.trace_line(&format!("looking up host name for {ip}"));
        use crate::dns::host_lookup::{host_name_lookup_traced, HostLookup};
        let resolver = self.resolver.clone();
        let order = self.cfg.host_lookup_order.clone();
        let found = match self.trace.as_mut() {
            Some(t) => host_name_lookup_traced(resolver.as_ref(), ip, &order, Some(&mut |l: &str| t(&format!(">>> {l}")))),
            None => host_name_lookup_traced(resolver.as_ref(), ip, &order, None),
        };
        match found {
            HostLookup::Found(mut names) => {
                self.vars.sender_host_name = Some(names.remove(0));
                self.vars.sender_host_aliases = names;
            }
            HostLookup::Failed { no_ptr } => {
                self.vars.host_lookup_failed = true;
                if no_ptr && self.cfg.log_selector.host_lookup_failed {
                    let a = self.vars.sender_host_address.clone().unwrap_or_default();
                    self.log(Targets::MAIN, super::texts::no_host_name(&a));
                }
            }
            HostLookup::Deferred => {
                self.vars.host_lookup_deferred = true;
                if self.trace.is_some() {
                    // Exim's DNS layer shows IPv6 reverse names fully qualified.
                    let name = crate::dns::reverse_name(ip) + if ip.is_ipv6() { "." } else { "" };
                    self.domain_in("dns_again_means_nonexist", &name);
                    self.trace_line("IP address PTR lookup gave temporary error");
                }
            }
        }
    }

    /// Exim's smtp_verify_helo(): an address literal must be the client's
    /// address; a name must be the client's name or an alias (looked up
    /// if not known yet), or have the client's address.
    fn verify_helo(&mut self) -> bool {
        let helo = self.vars.sender_helo_name.clone().unwrap_or_default();
        self.trace_line(&format!("verifying EHLO/HELO argument \"{helo}\""));
        let Some(addr) = self.vars.sender_host_address.clone() else { return true };
        let client: Option<std::net::IpAddr> = addr.parse().ok();
        if let Some(lit) = helo.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let lit = lit.strip_prefix("IPv6:").unwrap_or(lit);
            let ok = lit.parse::<std::net::IpAddr>().ok() == client;
            if ok {
                self.trace_line("matched host address");
            }
            return ok;
        }
        let matches_name = |s: &Self| -> Option<String> {
            if s.vars.sender_host_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&helo)) {
                return Some("matched host name".to_string());
            }
            s.vars.sender_host_aliases.iter().find(|a| a.eq_ignore_ascii_case(&helo)).map(|a| format!("matched alias {a}"))
        };
        if let Some(m) = matches_name(self) {
            self.trace_line(&m);
            return true;
        }
        if self.vars.sender_host_name.is_none() && !self.vars.host_lookup_failed && !self.vars.host_lookup_deferred {
            self.look_up_host_name();
            if let Some(m) = matches_name(self) {
                self.trace_line(&m);
                return true;
            }
        }
        self.trace_line(&format!("getting IP address for {helo}"));
        let found = self.resolver.host_addresses(&helo).unwrap_or_default();
        let ok = client.is_some_and(|c| found.iter().any(|a| a.to_canonical() == c.to_canonical()));
        if ok {
            self.trace_line(&format!("IP address for {helo} matches calling address"));
        }
        ok
    }

    /// The host checks Exim makes when a session starts, after
    /// host_lookup and host_reject_connection (`open`, `start`), in its order.
    fn connection_checks(&mut self) {
        self.vars.allow_unqualified_sender = self.host_in("sender_unqualified_hosts") || self.is_local();
        self.vars.allow_unqualified_recipient = self.host_in("recipient_unqualified_hosts") || self.is_local();
        self.helo_verify_required = self.host_in("helo_verify_hosts");
        if !self.helo_verify_required {
            self.helo_try_verify = self.host_in("helo_try_verify_hosts");
        }
        self.helo_accept_junk = self.host_in("helo_accept_junk_hosts");
        if self.trace.is_some() && self.vars.sender_host_address.is_some() && !self.is_remote_socket() {
            // Only traced: the daemon's proxy layer decided it for sockets.
            self.host_in("hosts_proxy");
        }
        // A client behind a proxy: Exim looks up the name of the real client.
        if self.vars.sender_host_name.is_none() && self.vars.proxy_state.as_ref().map(|p| p.needs_host_lookup()).unwrap_or(false) {
            self.look_up_host_name();
        }
    }

    /// Local input in Exim's sense: no sending host (-bs without -oMa).
    fn is_local(&self) -> bool {
        matches!(self.mode, SessionMode::Local { .. }) && self.vars.sender_host_address.is_none()
    }

    /// The caller of local input when Exim does not trust it.
    fn untrusted_caller(&self) -> Option<&super::caller::Caller> {
        match &self.mode {
            SessionMode::Local { caller } if !caller.trusted && self.vars.sender_host_address.is_none() => Some(caller),
            _ => None,
        }
    }

    /// For local input from an untrusted caller the envelope sender is
    /// its own address, unless `untrusted_set_sender` allows the one it
    /// gave (even `<>`, which only -f may give freely). As in Exim, this
    /// happens when the message is received: the MAIL and RCPT ACLs saw
    /// the address given.
    fn force_untrusted_sender(&mut self) {
        let Some(own) = self.untrusted_caller().map(|c| c.address(&self.cfg.qualify_domain)) else { return };
        let given = self.vars.sender_address.clone().unwrap_or_default();
        if self.untrusted_may_set(&given) {
            self.sender_set_untrusted = true;
        } else {
            self.vars.sender_address = Some(own);
        }
    }

    fn untrusted_may_set(&mut self, sender: &str) -> bool {
        let Some(list) = self.cfg.untrusted_set_sender.clone() else { return false };
        let headers: Vec<String> = Vec::new();
        match crate::expand::expand_string(&list, &mut self.context(&headers)) {
            Ok(list) => self.hosts.address_in(&list, sender),
            Err(_) => false,
        }
    }

    /// A reply from an ACL's message; a code of the wrong class is
    /// replaced by the default and logged, as Exim's smtp_message_code()
    /// does when it checks.
    fn acl_message_reply(&mut self, default_code: u16, text: &str) -> Vec<u8> {
        if let Some(line) = crate::acl::reply::wrong_code_log(text, default_code) {
            self.log(Targets::PANIC, line);
        }
        user_reply(default_code, text)
    }

    fn is_remote_socket(&self) -> bool {
        matches!(self.mode, SessionMode::Remote)
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.events.push(Event::Reply(bytes));
    }

    fn send_str(&mut self, s: &str) {
        if self.rcpt_in_progress {
            // As Exim's smtp_printf(): the whole line, code included.
            let line = s.split("\r\n").next().unwrap_or(s).to_string();
            self.note_rcpt_response(line);
        }
        self.send(crate::bytes::to_bytes(s).into_owned());
    }

    /// A RCPT's reply: the DATA reply repeats it when every RCPT got the
    /// same one.
    fn note_rcpt_response(&mut self, text: String) {
        self.rcpt_in_progress = false;
        match &self.rcpt_response {
            None => self.rcpt_response = Some(text),
            Some(prev) if *prev != text => self.rcpt_response_same = false,
            _ => {}
        }
    }

    fn log(&mut self, targets: Targets, text: String) {
        let text = if self.vars.log_id.is_empty() || text.starts_with(&self.vars.log_id) { text } else { format!("{} {text}", self.vars.log_id) };
        // -bh writes log lines at once, among the trace lines.
        if let (SessionMode::HostCheck, Some(t)) = (&self.mode, self.trace.as_mut()) {
            // Without the reject log's detail lines.
            t(&format!("LOG: {}", text.split(crate::log::REJECT_DETAIL).next().unwrap_or("")));
            return;
        }
        self.events.push(Event::Log(targets, text));
    }

    /// A log line written between ACL runs that log lines of their own
    /// (PRDR's), which must come out in the order Exim writes them.
    fn log_among_acls(&mut self, targets: Targets, text: String) {
        let text = if self.vars.log_id.is_empty() { text } else { format!("{} {text}", self.vars.log_id) };
        if self.mode == SessionMode::HostCheck {
            self.log(targets, text);
            return;
        }
        // Lines still queued as events were logged first: they go first.
        let mut kept = Vec::with_capacity(self.events.len());
        for e in std::mem::take(&mut self.events) {
            match e {
                Event::Log(t, line) if self.acls.log_now(t, &line) => {}
                other => kept.push(other),
            }
        }
        self.events = kept;
        if !self.acls.log_now(targets, &text) {
            self.log(targets, text);
        }
    }

    /// A log line Exim writes without the message's id although one is
    /// being received (a lost connection, errors between chunks).
    fn log_no_id(&mut self, targets: Targets, text: String) {
        let id = std::mem::take(&mut self.vars.log_id);
        self.log(targets, text);
        self.vars.log_id = id;
    }

    fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn context<'a>(&'a self, headers: &'a [String]) -> SessionContext<'a> {
        SessionContext { vars: &self.vars, cfg: &self.cfg, hosts: self.hosts.as_ref(), headers, extra: HashMap::new() }
    }

    /// The greeting: run the connect ACL and send the banner.
    /// Exim's receive_check_fs(): room on the spool's file system for a
    /// message of `size` bytes beyond `check_spool_space` and
    /// `check_spool_inodes`; a shortage is logged.
    fn spool_space_ok(&mut self, size: u64) -> bool {
        if self.cfg.check_spool_space_k == 0 && self.cfg.check_spool_inodes == 0 && size == 0 {
            return true;
        }
        let Some((space_k, inodes)) = crate::spool::free_space(&self.cfg.spool_directory) else { return true };
        if space_k >= self.cfg.check_spool_space_k.saturating_add(size / 1024) && inodes >= self.cfg.check_spool_inodes {
            return true;
        }
        self.log(Targets::MAIN, format!("spool directory space check failed: space={space_k} inodes={inodes}"));
        false
    }

    /// A connection from a host in hosts_proxy: take the client's address
    /// from the negotiated header (call before `start`).
    pub fn set_proxy(&mut self, state: crate::proxy::ProxyState) {
        // After a good header the client is the one it names; after a
        // failed one, whatever Exim had taken from it before the fault.
        if !state.sender_host_address.is_empty() {
            self.vars.sender_host_address = Some(state.sender_host_address.clone());
            self.vars.sender_host_port = u16::try_from(state.sender_host_port).unwrap_or(0);
        }
        if state.proxied() {
            self.vars.sender_host_name = None;
            if let Some(proxy_ip) = &state.proxy_local_address {
                self.vars.proxy = Some((proxy_ip.clone(), u16::try_from(state.proxy_local_port).unwrap_or(0)));
            }
        }
        self.vars.proxy_state = Some(state);
    }

    /// What comes before the connect ACL: the `smtp_connection` line and
    /// `host_lookup`. A driver may call this first and write its log lines
    /// before `start` runs the ACL, whose own lines are written at once;
    /// otherwise `start` does it.
    pub fn open(&mut self) -> Vec<Event> {
        if !self.opened {
            self.opened = true;
            let remote = self.vars.sender_host_address.is_some();
            let nolog = remote && self.host_in("hosts_connection_nolog");
            self.log_connection = self.cfg.log_selector.smtp_connection && !nolog;
            if self.log_connection {
                let mut line = self.connection_info();
                // Only the daemon counts connections.
                if self.mode == SessionMode::Remote {
                    line.push_str(&format!(" (TCP/IP connection count = {})", self.connection_count));
                }
                self.log(Targets::MAIN, line);
            }
            if remote && !self.is_local() && self.vars.sender_host_name.is_none() && self.host_in("host_lookup") {
                self.look_up_host_name();
            }
            if let Some(text) = self.cfg.message_size_limit_expand.clone() {
                let headers: Vec<String> = Vec::new();
                let value = crate::expand::expand_string(&text, &mut self.context(&headers));
                match value.as_deref().map(super::config::integer) {
                    Ok(Some(n)) => self.size_limit = n,
                    Ok(None) => {}
                    Err(e) => {
                        let e = e.message().to_string();
                        self.log(Targets::PANIC, format!("failed to expand message_size_limit \"{text}\": {e}"));
                    }
                }
            }
        }
        self.take_events()
    }

    pub fn start(&mut self) -> Vec<Event> {
        let opening = self.open();
        self.events = opening;
        if self.vars.sender_host_address.is_some() && !self.is_local() && self.host_in("host_reject_connection") {
            let h = self.vars.host_and_ident(false);
            // Without the connection_reject selector only the reject log has it.
            let targets = Targets { main: self.cfg.log_selector.connection_reject, reject: true, panic: false };
            self.log(targets, format!("refused connection from {h} (host_reject_connection)"));
            self.send_str(t::SERVICE_NOT_AVAILABLE);
            // -bs and -bh end with status 0 when the session is refused
            // at its start, as after QUIT.
            self.quit_seen = true;
            self.close();
            return self.take_events();
        }
        self.connection_checks();
        let mut outcome = self.acls.connect(&self.vars);
        self.keep_host_names(outcome.host_names.take());
        self.enforce_sync = outcome.enforce_sync.unwrap_or(self.enforce_sync);
        self.no_pipelining |= outcome.no_pipelining;
        if outcome.verdict != AclVerdict::Accept {
            self.acl_fail(AclWhere::Connect, &outcome, "");
            self.quit_seen = true;
            self.close();
            return self.take_events();
        }
        if self.vars.sender_host_address.is_some() && !self.is_remote_socket() {
            // -bh, and -bs with -oMa: Exim advertises PIPECONNECT there
            // too (a socket's session decided it in `new`, before early
            // input is looked at, and with no trace to write to).
            self.pipe_connect_ok = self.host_in("pipelining_connect_advertise_hosts");
        }
        let banner = {
            let ctx_headers: Vec<String> = Vec::new();
            let mut ctx = self.context(&ctx_headers);
            crate::expand::expand_string(&self.cfg.smtp_banner, &mut ctx)
        };
        match banner {
            Ok(b) => {
                let r = reply("220", &b);
                self.send(r);
                self.no_mail_pending = true;
            }
            Err(e) => {
                self.log(
                    Targets::PANIC,
                    format!("Expansion of \"{}\" (smtp_banner) failed: {}", self.cfg.smtp_banner, e.message()),
                );
                self.send_str("421 Internal error\r\n");
                self.close();
            }
        }
        self.take_events()
    }

    /// Input arrived before the banner was sent (the driver looks before
    /// calling `start`): Exim's pre-greeting synchronization error, unless
    /// PIPECONNECT is acceptable for this host. `None` means the input is
    /// acceptable: call `start`, then `feed` it.
    pub fn early_input(&mut self, bytes: &[u8]) -> Option<Vec<Event>> {
        if self.pipe_connect_ok || !self.enforce_sync || !self.is_remote_socket() {
            return None;
        }
        let shown = printing(&bytes[..bytes.len().min(150)]);
        let h = self.vars.host_and_ident(true);
        self.log(
            Targets::REJECT,
            format!("SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from {h} input=\"{shown}\""),
        );
        self.send_str(t::SYNC_ERROR_REPLY);
        self.close();
        Some(self.take_events())
    }

    fn close(&mut self) {
        self.log_no_mail();
        self.state = State::Closed;
        self.events.push(Event::Close);
    }

    /// `smtp_no_mail`: a session that ends, after its banner, without a
    /// MAIL command gets a line (Exim's smtp_log_no_mail).
    fn log_no_mail(&mut self) {
        if !std::mem::take(&mut self.no_mail_pending) || self.mail_commands > 0 || !self.cfg.log_selector.smtp_no_mail {
            return;
        }
        let h = self.vars.host_and_ident(false);
        let d = self.time_since_start();
        let mut line = format!("no MAIL in SMTP connection from {h} D={d}");
        line.push_str(&self.auth_log());
        line.push_str(&self.tls_log());
        line.push_str(&self.connection_had());
        self.log_no_id(Targets::MAIN, line);
    }

    /// ` C=EHLO,MAIL,...`: the commands of the session, the last
    /// HISTORY_SIZE of them after "..." once that many were seen (Exim's
    /// s_connhad_log); nothing when there were none.
    fn connection_had(&self) -> String {
        if self.history.is_empty() {
            return String::new();
        }
        let more = if self.history.len() == HISTORY_SIZE { "..." } else { "" };
        format!(" C={more}{}", self.history.join(","))
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// True while a message is being received (for shutdown decisions).
    pub fn in_message(&self) -> bool {
        matches!(self.state, State::ExpectData | State::ExpectChunk { .. } | State::ExpectBdat | State::ExpectRset | State::AwaitSpool)
    }

    /// Feed bytes received from the client.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        if self.is_closed() {
            return Vec::new();
        }
        self.input.extend_from_slice(bytes);
        self.process();
        self.take_events()
    }

    fn process(&mut self) {
        loop {
            let progressed = match self.state {
                State::ExpectCommand | State::ExpectBdat | State::ExpectRset => self.next_command(),
                State::ExpectData => self.data_lines(),
                State::ExpectChunk { .. } => self.chunk_bytes(),
                State::ExpectAuthResponse { .. } => self.auth_response(),
                State::AwaitSpool | State::AwaitTls | State::Closed => false,
            };
            if !progressed {
                break;
            }
        }
    }

    /// Take one line from the input (without CR LF), if complete.
    fn take_line(&mut self) -> Option<Vec<u8>> {
        let pos = self.input.iter().position(|b| *b == b'\n')?;
        let mut line: Vec<u8> = self.input.drain(..=pos).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(line)
    }

    fn remember(&mut self, verb: Verb) {
        if verb == Verb::Unknown {
            return;
        }
        if self.history.len() == HISTORY_SIZE {
            self.history.remove(0);
        }
        self.history.push(command::history_name(verb));
    }

    /// Exim's check_sync(): more input waiting where the client should
    /// have waited for our reply.
    fn sync_ok(&self) -> bool {
        !(self.enforce_sync && self.is_remote_socket() && self.vars.sender_host_address.is_some() && !self.input.is_empty())
    }

    fn sync_failure(&mut self) {
        let n = self.input.len().min(150);
        let shown = printing(&self.input[..n]);
        let cmd = self.vars.smtp_command.clone();
        let h = self.vars.host_and_ident(true);
        let adv = if self.adv.pipelining { "" } else { " not" };
        self.log(
            Targets::REJECT,
            format!("SMTP protocol synchronization error (next input sent too soon: pipelining was{adv} advertised): rejected \"{cmd}\" {h} next input=\"{shown}\""),
        );
        let _ = self.acls.notquit(&self.vars, "synchronization-error");
        self.send_str(t::SYNC_ERROR_REPLY);
        self.input.clear();
        self.close();
    }

    /// Exim's synprot_error(): count, reply, maybe drop. True if dropped.
    fn synprot_error(&mut self, code: u16, data: Option<&str>, msg: &str, is_syntax: bool) -> bool {
        let logging = if is_syntax { self.cfg.log_selector.smtp_syntax_error } else { self.cfg.log_selector.smtp_protocol_error };
        if logging {
            let kind = if is_syntax { "syntax" } else { "protocol" };
            let cmd = self.vars.smtp_command.clone();
            let h = self.vars.host_and_ident(true);
            self.log(Targets::MAIN, format!("SMTP {kind} error in \"{cmd}\" {h} {msg}"));
        }
        self.synprot_errors += 1;
        let text = match data {
            Some(d) => format!("{d}: {msg}"),
            None => msg.to_string(),
        };
        if self.synprot_errors > self.cfg.smtp_max_synprot_errors {
            self.send_str(&format!("{code}-{text}\r\n{code} {}\r\n", t::TOO_MANY_SYNPROT));
            self.drop_for_synprot_errors();
            true
        } else {
            self.send_str(&format!("{code} {text}\r\n"));
            false
        }
    }

    /// An error Exim counts without synprot_error()'s reply and log line
    /// (a HELO with a bad argument): count it, maybe drop. True if dropped.
    fn count_synprot_error(&mut self) -> bool {
        self.synprot_errors += 1;
        if self.synprot_errors <= self.cfg.smtp_max_synprot_errors {
            return false;
        }
        self.drop_for_synprot_errors();
        true
    }

    fn drop_for_synprot_errors(&mut self) {
        let cmd = self.vars.smtp_command.clone();
        let h = self.vars.host_and_ident(false);
        let had = self.connection_had();
        let detail = self.envelope_detail();
        self.log_no_id(
            Targets::REJECT,
            format!("SMTP call from {h} dropped: too many syntax or protocol errors (last command was \"{cmd}\", {had}){detail}"),
        );
        if self.in_chunked_message() {
            // The message's reception then finds the connection gone.
            let lost = self.lost_in_chunk();
            self.log_no_id(Targets::MAIN, lost);
        }
        let _ = self.acls.notquit(&self.vars, "bad-commands");
        self.close();
    }

    fn next_command(&mut self) -> bool {
        let line = match self.take_line() {
            Some(l) => l,
            None => {
                if self.input.len() > COMMAND_BUFFER_SIZE {
                    self.input.clear();
                    self.send_str(t::COMMAND_TOO_LONG);
                    self.log_drop("command line too long");
                    self.close();
                    return true;
                }
                return false;
            }
        };
        if line.len() > COMMAND_BUFFER_SIZE {
            self.send_str(t::COMMAND_TOO_LONG);
            self.log_drop("command line too long");
            self.close();
            return true;
        }
        let had_nul = line.contains(&0);
        // Bytes that are not UTF-8 are kept (crate::bytes).
        let text: String = crate::bytes::from_bytes(&line).replace('\0', "?");
        let text = text.trim_end().to_string();
        self.vars.smtp_command = text.clone();
        if had_nul {
            self.synprot_error(501, None, t::NUL_PRESENT, true);
            return true;
        }
        // After a failed PROXY negotiation every command but QUIT is
        // refused; these are not protocol errors.
        if let Some(refusal) = self.vars.proxy_state.as_ref().and_then(|p| p.refusal(text.split(' ').next().unwrap_or(""))) {
            self.send(format!("{refusal}\r\n").into_bytes());
            return true;
        }
        let (verb, arg) = command::parse(&text);
        let arg = arg.to_string();
        if self.nonmail.counts(verb) {
            let applies = match self.nonmail.applies {
                Some(a) => a,
                None => {
                    let a = self.host_in("smtp_accept_max_nonmail_hosts");
                    self.nonmail.applies = Some(a);
                    a
                }
            };
            if applies && self.nonmail.too_many(self.cfg.smtp_accept_max_nonmail) {
                self.send_str(t::TOO_MANY_NONMAIL);
                let word = text.split(' ').next().unwrap_or("");
                // Written before the not-QUIT ACL's own lines, as Exim does.
                let h = self.vars.host_and_ident(false);
                self.log_among_acls(Targets::REJECT, format!("SMTP call from {h} dropped: too many nonmail commands (last was \"{word}\")"));
                let _ = self.acls.notquit(&self.vars, "bad-commands");
                self.close();
                return true;
            }
        }
        // Between chunks Exim reads commands inside the message's
        // reception (bdat_getc), which keeps no command history.
        if matches!(self.state, State::ExpectBdat) && !matches!(verb, Verb::Bdat | Verb::Quit | Verb::Rset | Verb::Noop) {
            if !self.synprot_error(503, None, t::BDAT_ONLY, false) {
                self.state = State::ExpectRset;
            }
            return true;
        }
        if matches!(self.state, State::ExpectRset) && verb != Verb::Rset && verb != Verb::Quit {
            self.synprot_error(503, None, "only RSET accepted now", false);
            return true;
        }
        if verb == Verb::Quit && matches!(self.state, State::ExpectBdat | State::ExpectRset) {
            // The message's reception sees the end of input after the QUIT.
            let lost = self.lost_in_chunk();
            self.quit();
            self.log_no_id(Targets::MAIN, lost);
            return true;
        }
        self.remember(verb);
        let was_rcpt = self.last_was_rcpt;
        let was_rej_mail = self.last_was_rej_mail;
        self.last_was_rcpt = false;
        self.last_was_rej_mail = false;
        match verb {
            Verb::Helo | Verb::Ehlo => self.helo(verb == Verb::Ehlo, &arg),
            Verb::Mail => self.mail(&arg),
            Verb::Rcpt => self.rcpt(&arg, was_rej_mail),
            Verb::Data => self.data(was_rcpt),
            Verb::Bdat => self.bdat(&arg, was_rcpt),
            Verb::Rset => {
                self.forget_log_id();
                self.reset_transaction();
                self.send_str(t::RESET_OK);
            }
            Verb::Noop => {
                if !self.sync_ok() {
                    self.sync_failure();
                } else {
                    self.send_str(t::NOOP_OK);
                }
            }
            Verb::Quit => self.quit(),
            Verb::Vrfy => self.vrfy(&arg),
            Verb::Expn => self.expn(&arg),
            Verb::Etrn => self.etrn(&arg),
            Verb::Help => self.help(),
            Verb::Starttls => self.starttls(&arg),
            Verb::Auth => self.auth(&arg),
            Verb::Unknown => {
                self.unknown_commands += 1;
                if self.unknown_commands > self.cfg.smtp_max_unknown_commands {
                    self.send_str("500 Too many unrecognized commands\r\n");
                    let h = self.vars.host_and_ident(false);
                    self.log(
                        Targets::REJECT,
                        format!("SMTP call from {h} dropped: too many unrecognized commands (last was \"{text}\")"),
                    );
                    let _ = self.acls.notquit(&self.vars, "bad-commands");
                    // -bs ends with status 0 after this drop, as after QUIT.
                    self.quit_seen = true;
                    self.close();
                } else {
                    self.synprot_error(500, None, t::UNRECOGNIZED, true);
                }
            }
        }
        true
    }

    fn log_drop(&mut self, why: &str) {
        let h = self.vars.host_and_ident(false);
        self.log(Targets::REJECT, format!("SMTP call from {h} dropped: {why}"));
    }

    /// Throw away the current transaction (Exim's smtp_reset()).
    fn reset_transaction(&mut self) {
        self.submission = None;
        self.suppress_local_fixups = false;
        self.sender_set_untrusted = false;
        self.predata_message = None;
        self.data_message = None;
        // Exim's -bh keeps the id for the log lines that follow the
        // message (there is no delivery process to take it over).
        if self.mode != SessionMode::HostCheck {
            self.vars.log_id.clear();
        }
        self.vars.sender_address = None;
        self.vars.recipients.clear();
        self.vars.rcpt_count = 0;
        self.vars.message_size = None;
        self.vars.message_body = None;
        self.vars.message_body_end = None;
        self.vars.body_linecount = None;
        self.vars.message_linecount = None;
        self.vars.body_8bitmime = 0;
        self.vars.smtputf8 = false;
        self.vars.prdr_requested = false;
        self.prdr_reply = None;
        self.prdr_recipients = None;
        self.pre_data_headers.clear();
        self.vars.message_id.clear();
        self.vars.authenticated_sender = None;
        self.vars.mail_dsn = crate::dsn::MailDsn::default();
        self.vars.recipients_dsn.clear();
        self.vars.acl_vars.retain(|k, _| !k.starts_with("acl_m"));
        self.rcpt_response = None;
        self.rcpt_response_same = true;
        self.fake_response = None;
        self.mail_discard = None;
        self.discarded = None;
        self.too_many = false;
        self.message = MessageData::default();
        if matches!(self.state, State::ExpectBdat | State::ExpectRset) {
            self.state = State::ExpectCommand;
        }
    }

    fn protocol(&self) -> String {
        let base = if self.vars.esmtp { "esmtp" } else { "smtp" };
        let mut p = String::new();
        if self.is_local() {
            p.push_str("local-");
        }
        if self.vars.smtputf8 && self.vars.esmtp {
            p.push_str("utf8");
        }
        p.push_str(base);
        if !self.is_local() {
            if self.vars.tls.cipher.is_some() {
                p.push('s');
            }
            if self.vars.sender_host_authenticated.is_some() {
                p.push('a');
            }
        }
        p
    }

    fn helo(&mut self, ehlo: bool, arg: &str) {
        let name = if ehlo { "EHLO" } else { "HELO" };
        if !self.pipe_connect_ok && !self.sync_ok() {
            self.sync_failure();
            return;
        }
        self.forget_log_id();
        // A refused HELO/EHLO leaves the earlier greeting and the
        // transaction as they were; only the name is forgotten.
        let junk_ok = self.helo_accept_junk;
        if arg.is_empty() || (!junk_ok && !is_valid_helo(arg, &self.cfg.helo_allow_chars)) {
            self.vars.sender_helo_name = None;
            let shown = if arg.is_empty() { "(no argument given)".to_string() } else { arg.to_string() };
            let h = self.vars.host_and_ident(false);
            self.send_str(&format!("501 {} {name} argument(s)\r\n", t::INVALID_HELO));
            self.log(Targets::REJECT, format!("rejected {name} from {h}: syntactically invalid argument(s): {shown}"));
            self.count_synprot_error();
            return;
        }
        self.vars.sender_helo_name = Some(arg.to_string());
        if !self.is_local() && self.vars.sender_host_name.is_none() {
            // Exim lower-cases the name (up to white space) first.
            let lower = arg.split(' ').next().unwrap_or("").to_ascii_lowercase();
            if self.domain_in("helo_lookup_domains", &lower) {
                self.look_up_host_name();
            }
        }
        if !self.is_local() && (self.helo_verify_required || self.helo_try_verify) && !self.verify_helo() {
            if self.helo_verify_required {
                // The transaction and the earlier greeting stay.
                self.send_str(&format!("550 {name} argument does not match calling host\r\n"));
                let h = self.vars.host_and_ident(false);
                self.log(Targets::REJECT, format!("rejected \"{name} {arg}\" from {h}"));
                return;
            }
            self.trace_line("HELO verification failed but host is in helo_try_verify_hosts");
        }
        let (esmtp, protocol) = (self.vars.esmtp, std::mem::take(&mut self.vars.received_protocol));
        self.vars.esmtp = ehlo;
        self.vars.received_protocol = self.protocol();
        let mut outcome = self.acls.helo(&self.vars);
        self.keep_host_names(outcome.host_names.take());
        self.enforce_sync = outcome.enforce_sync.unwrap_or(self.enforce_sync);
        self.no_pipelining |= outcome.no_pipelining;
        if outcome.verdict != AclVerdict::Accept {
            self.vars.esmtp = esmtp;
            self.vars.received_protocol = protocol;
            self.acl_fail(AclWhere::Helo, &outcome, arg);
            // Exim forgets the name a rejected HELO gave.
            self.vars.sender_helo_name = None;
            return;
        }
        self.reset_transaction();
        self.helo_seen = true;
        self.mailcmd_max = Some(self.expand_mailmax());
        let who = match (&self.vars.sender_ident, &self.vars.sender_host_name) {
            (Some(i), _) => format!("{i} at {}", self.vars.sender_host_name.as_deref().unwrap_or(arg)),
            (None, Some(n)) => n.clone(),
            (None, None) => arg.to_string(),
        };
        let mut first = format!("{} Hello {who}", self.cfg.active_hostname());
        if let Some(a) = &self.vars.sender_host_address {
            first.push_str(&format!(" [{a}]"));
        }
        // The ACL's message replaces the greeting; a code in it is the
        // code of every line of the reply. It must be one line.
        let mut code = "250".to_string();
        if let Some(msg) = outcome.user_message.clone() {
            if let Some(line) = crate::acl::reply::wrong_code_log(&msg, 250) {
                self.log(Targets::PANIC, line);
            }
            let (c, _, text) = crate::acl::reply::message_code(&msg, 250);
            code = c.to_string();
            first = match text.split_once('\n') {
                Some((line, _)) => {
                    let shown = printing(crate::bytes::to_bytes(&format!("{code} {text}")).as_ref());
                    self.log(Targets::PANIC, format!("EHLO/HELO response must not contain newlines: message truncated: {shown}"));
                    line.to_string()
                }
                None => text.to_string(),
            };
        }
        if !ehlo {
            self.adv = Advertised::default();
            let r = reply(&code, &first);
            self.send(r);
            return;
        }
        let mut lines = vec![first];
        let mut adv = Advertised::default();
        if self.size_limit > 0 {
            lines.push(format!("SIZE {}", self.size_limit));
        } else {
            lines.push("SIZE".into());
        }
        if self.cfg.accept_8bitmime {
            lines.push("8BITMIME".into());
        }
        if self.host_in("dsn_advertise_hosts") {
            adv.dsn = true;
            lines.push("DSN".into());
        }
        if self.cfg.acl_smtp_etrn.is_some() {
            lines.push("ETRN".into());
        }
        if self.cfg.acl_smtp_vrfy.is_some() {
            lines.push("VRFY".into());
        }
        if self.cfg.acl_smtp_expn.is_some() {
            lines.push("EXPN".into());
        }
        if !self.no_pipelining && self.host_in("pipelining_advertise_hosts") {
            adv.pipelining = true;
            lines.push("PIPELINING".into());
            if self.pipe_connect_ok {
                lines.push("PIPECONNECT".into());
            }
        }
        let mechs = self.advertised_mechanisms();
        if !mechs.is_empty() {
            adv.auth = true;
            lines.push(format!("AUTH {}", mechs.join(" ")));
        }
        if self.host_in("chunking_advertise_hosts") {
            adv.chunking = true;
            lines.push("CHUNKING".into());
        }
        // Without tls_certificate the daemon uses a self-signed one, as Exim.
        if self.vars.tls.cipher.is_none() && self.host_in("tls_advertise_hosts") {
            adv.tls = true;
            lines.push("STARTTLS".into());
        }
        if self.cfg.prdr_enable {
            lines.push("PRDR".into());
        }
        if self.host_in("smtputf8_advertise_hosts") {
            adv.smtputf8 = true;
            lines.push("SMTPUTF8".into());
        }
        lines.push("HELP".into());
        self.adv = adv;
        let r = reply(&code, &lines.join("\n"));
        self.send(r);
    }

    fn advertised_mechanisms(&mut self) -> Vec<String> {
        if self.auths.is_empty() || self.vars.sender_host_authenticated.is_some() {
            return Vec::new();
        }
        if !self.host_in("auth_advertise_hosts") {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for a in self.auths.iter().filter(|a| a.is_server()) {
            if let Some(cond) = a.advertise_condition() {
                let headers: Vec<String> = Vec::new();
                let mut ctx = self.context(&headers);
                match crate::expand::expand_string(cond, &mut ctx) {
                    Ok(v) if !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("no") || v.eq_ignore_ascii_case("false")) => {}
                    _ => continue,
                }
            }
            let name = a.public_name().to_ascii_uppercase();
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// One of MAIL's non-DSN parameters (SIZE, BODY, AUTH, PRDR,
    /// SMTPUTF8), for src/dsn's option loop: Ok(false) ends the loop with
    /// the parameter dropped (Exim's arg_error: a SIZE that is not a
    /// number), Err is a 501 text.
    fn mail_option(&mut self, name: &str, value: &str) -> Result<bool, &'static str> {
        match name {
            "SIZE" => match value.parse::<u64>() {
                Ok(n) => self.vars.message_size = Some(n.min(i32::MAX as u64)),
                // Too big for any integer: Exim's largest int.
                Err(_) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    self.vars.message_size = Some(i32::MAX as u64)
                }
                Err(_) => return Ok(false),
            },
            "BODY" => {
                if value.eq_ignore_ascii_case("8BITMIME") {
                    self.vars.body_8bitmime = 8;
                } else if value.eq_ignore_ascii_case("7BIT") {
                    self.vars.body_8bitmime = 7;
                } else {
                    self.vars.body_8bitmime = 0;
                    return Err(t::INVALID_BODY);
                }
            }
            "SMTPUTF8" => {
                if !self.adv.smtputf8 {
                    return Err(t::SMTPUTF8_NOT_ADVERTISED);
                }
                self.vars.smtputf8 = true;
            }
            "AUTH" => {
                // Accepted only from an authenticated client (as when
                // no server_mail_auth_condition is set).
                if self.vars.sender_host_authenticated.is_some() {
                    let v = xtext_decode(value);
                    self.vars.authenticated_sender = if v == "<>" { None } else { Some(v) };
                }
            }
            // Without prdr_enable Exim takes the parameter all the same.
            "PRDR" => self.vars.prdr_requested = self.cfg.prdr_enable,
            _ => {}
        }
        Ok(true)
    }

    /// A new transaction: log lines no longer name the last message, except
    /// under -bh, where Exim's lines keep its id to the end of the session.
    fn forget_log_id(&mut self) {
        if self.mode != SessionMode::HostCheck {
            self.vars.log_id.clear();
        }
    }

    fn mail(&mut self, arg: &str) {
        self.mail_commands += 1;
        self.last_was_rej_mail = true;
        self.forget_log_id();
        if !self.cfg_helo_required_ok() {
            self.send_str("503 HELO or EHLO required\r\n");
            let h = self.vars.host_and_ident(false);
            self.log(Targets::REJECT, format!("rejected MAIL from {h}: no HELO/EHLO given"));
            return;
        }
        if self.vars.sender_address.is_some() {
            self.synprot_error(503, None, t::SENDER_ALREADY, false);
            return;
        }
        if arg.is_empty() {
            self.synprot_error(501, None, t::MAIL_NO_ADDRESS, false);
            return;
        }
        // `smtp_accept_max_per_connection` counts every MAIL command; the
        // connection stays open.
        if self.mailcmd_max.is_none() {
            self.mailcmd_max = Some(self.expand_mailmax());
        }
        let max = self.mailcmd_max.unwrap_or(0);
        if max > 0 && i64::from(self.mail_commands) > max {
            self.send_str(t::TOO_MANY_MESSAGES);
            let h = self.vars.host_and_ident(true);
            self.log(Targets::REJECT, format!("rejected MAIL command {h}: too many messages in one connection"));
            return;
        }
        if !self.adv.pipelining && !self.pipe_connect_ok && !self.sync_ok() {
            self.sync_failure();
            return;
        }
        self.reset_transaction();
        // Exim's MAIL option loop (src/dsn): RET and ENVID there, the
        // other known parameters here, in the same right-to-left order.
        let mut rest = arg;
        if self.vars.esmtp {
            let advertised = self.adv.dsn;
            match crate::dsn::parse_mail_params(arg, advertised, |name, value| self.mail_option(name, value)) {
                Ok((left, dsn)) => {
                    rest = left;
                    self.vars.mail_dsn = dsn;
                }
                Err(crate::dsn::MailParamError::Dsn(e)) => {
                    self.synprot_error(e.code(), None, e.text(), true);
                    return;
                }
                Err(crate::dsn::MailParamError::Other(text)) => {
                    self.synprot_error(501, None, text, true);
                    return;
                }
            }
        }
        let Some(parsed) = self.smtp_address(rest, true) else { return };
        let mut sender = parsed.address;
        if let Some(size) = self.vars.message_size {
            if self.size_limit > 0 && size > self.size_limit {
                self.send_str(t::SIZE_EXCEEDED);
                let h = self.vars.host_and_ident(true);
                // A SIZE beyond Exim's int is shown as its largest value.
                let shown = if size >= i32::MAX as u64 { format!(">={}", i32::MAX) } else { format!("={size}") };
                self.log(
                    Targets::REJECT,
                    format!("rejected MAIL FROM:<{sender}> {h}: message too big: size{shown} max={}", self.size_limit),
                );
                return;
            }
        }
        if self.cfg.smtp_check_spool_space && !self.spool_space_ok(self.vars.message_size.unwrap_or(0)) {
            self.send_str(t::SPACE_SHORTAGE);
            return;
        }
        if !parsed.has_domain && !sender.is_empty() {
            if self.is_local() || self.vars.allow_unqualified_sender {
                sender = format!("{sender}@{}", self.cfg.qualify_domain);
            } else {
                self.send_str(&format!("501 {arg}: sender address must contain a domain\r\n"));
                let h = self.vars.host_and_ident(true);
                self.log(Targets::REJECT, format!("unqualified sender rejected: <{sender}> {h}"));
                return;
            }
        }
        self.vars.sender_address = Some(sender);
        self.vars.received_protocol = self.protocol();
        let mut outcome = self.acls.mail(&self.vars);
        self.keep_host_names(outcome.host_names.take());
        self.pre_data_headers.append(&mut outcome.add_headers);
        self.enforce_sync = outcome.enforce_sync.unwrap_or(self.enforce_sync);
        match outcome.verdict {
            AclVerdict::Accept | AclVerdict::Discard => {
                if outcome.verdict == AclVerdict::Discard {
                    self.mail_discard = Some(outcome.log_message.clone());
                }
                let ok = if self.vars.prdr_requested { t::MAIL_OK_PRDR } else { "OK" };
                let text = outcome.user_message.clone().unwrap_or_else(|| ok.into());
                let r = self.acl_message_reply(250, &text);
                self.send(r);
                self.last_was_rej_mail = false;
            }
            _ => {
                self.vars.sender_address = None;
                self.acl_fail(AclWhere::Mail, &outcome, arg);
            }
        }
    }

    fn cfg_helo_required_ok(&mut self) -> bool {
        self.helo_seen || !(self.helo_verify_required || self.host_in("hosts_require_helo"))
    }

    fn rcpt(&mut self, arg: &str, last_was_rej_mail: bool) {
        self.rcpt_in_progress = true;
        self.rcpt_command(arg, last_was_rej_mail);
        self.rcpt_in_progress = false;
    }

    fn rcpt_command(&mut self, arg: &str, last_was_rej_mail: bool) {
        self.vars.rcpt_count += 1;
        self.last_was_rcpt = true;
        if self.vars.sender_address.is_none() {
            if self.adv.pipelining && last_was_rej_mail {
                self.send_str(&format!("503 {}\r\n", t::RCPT_NO_SENDER));
                self.last_was_rej_mail = true;
            } else {
                self.synprot_error(503, None, t::RCPT_NO_SENDER, false);
                self.last_was_rcpt = false;
            }
            return;
        }
        if arg.is_empty() {
            self.synprot_error(501, None, t::RCPT_NO_ADDRESS, true);
            return;
        }
        // Exim looks for NOTIFY and ORCPT only when DSN was advertised
        // (src/dsn); otherwise they are part of the address.
        let (rest, rcpt_dsn) = match crate::dsn::parse_rcpt_params(arg, self.vars.esmtp && self.adv.dsn) {
            Ok(r) => r,
            Err(e) => {
                self.synprot_error(e.code(), None, e.text(), true);
                return;
            }
        };
        let Some(parsed) = self.smtp_address(rest, false) else { return };
        let mut recipient = parsed.address;
        if !parsed.has_domain {
            if self.is_local()
                || self.vars.allow_unqualified_recipient
                || recipient.eq_ignore_ascii_case("postmaster")
            {
                recipient = format!("{recipient}@{}", self.cfg.qualify_recipient);
            } else {
                self.send_str(&format!("501 {arg}: recipient address must contain a domain\r\n"));
                let h = self.vars.host_and_ident(true);
                self.log(Targets::REJECT, format!("unqualified recipient rejected: <{recipient}> {h}"));
                return;
            }
        }
        if self.cfg.recipients_max > 0 && self.vars.rcpt_count > self.cfg.recipients_max {
            let reject = self.cfg.recipients_max_reject;
            self.send_str(if reject { t::TOO_MANY_RCPTS_REJECT } else { t::TOO_MANY_RCPTS });
            if !self.too_many {
                let s = self.vars.sender_address.clone().unwrap_or_default();
                let h = self.vars.host_and_ident(true);
                let what = if reject { "message rejected" } else { "excess temporarily rejected" };
                self.log(Targets::REJECT, format!("too many recipients: {what}: sender=<{s}> {h}"));
            }
            self.too_many = true;
            return;
        }
        // After a discard in MAIL, Exim takes every recipient without
        // running the RCPT ACL.
        if let Some(lm) = self.mail_discard.clone() {
            self.send_str("250 Accepted\r\n");
            self.discard_recipient("MAIL", arg, lm.as_deref());
            return;
        }
        let mut outcome = self.acls.rcpt(&self.vars, &recipient);
        // Whatever the verdict, as in Exim.
        self.pre_data_headers.append(&mut outcome.add_headers);
        self.keep_host_names(outcome.host_names.take());
        self.enforce_sync = outcome.enforce_sync.unwrap_or(self.enforce_sync);
        if outcome.verdict == AclVerdict::Accept && !self.adv.pipelining && !self.pipe_connect_ok && !self.sync_ok() {
            self.sync_failure();
            return;
        }
        match outcome.verdict {
            AclVerdict::Accept => {
                let text = outcome.user_message.clone().unwrap_or_else(|| "Accepted".into());
                let r = self.acl_message_reply(250, &text);
                self.send(r);
                self.vars.recipients.push(recipient);
                self.vars.recipients_dsn.push(rcpt_dsn);
            }
            AclVerdict::Discard => {
                let text = outcome.user_message.clone().unwrap_or_else(|| "Accepted".into());
                let r = self.acl_message_reply(250, &text);
                self.send(r);
                self.discard_recipient("RCPT", arg, outcome.log_message.as_deref());
            }
            _ => self.acl_fail(AclWhere::Rcpt, &outcome, arg),
        }
    }

    fn discard_recipient(&mut self, by: &'static str, arg: &str, log_message: Option<&str>) {
        self.discarded = Some(by);
        let h = self.vars.host_and_ident(true);
        let s = self.vars.sender_address.clone().unwrap_or_default();
        let lm = log_message.map(|m| format!(": {m}")).unwrap_or_default();
        self.log(Targets::REJECT, format!("{h} F=<{s}> RCPT {arg}: discarded by {by} ACL{lm}"));
    }

    /// Exim's smtp_handle_acl_fail(): reply and log for a refusal.
    fn acl_fail(&mut self, where_: AclWhere, outcome: &AclOutcome, arg: &str) {
        let drop = outcome.verdict == AclVerdict::Drop;
        let defer = outcome.verdict == AclVerdict::Defer;
        let default_code = if defer {
            "451"
        } else {
            match where_ {
                AclWhere::Vrfy => "252",
                AclWhere::Etrn => "458",
                _ => "550",
            }
        };
        let mut code = default_code.to_string();
        let mut user = outcome.user_message.clone();
        let mut wrong_class: Option<String> = None;
        if let Some(m) = &user {
            let b = m.as_bytes();
            // Exim does not insist on the class of a code given for VRFY.
            let class_ok = b.first() == default_code.as_bytes().first() || where_ == AclWhere::Vrfy;
            // A code of the wrong class is dropped for the default, and
            // logged (Exim's "configured error code" line).
            if b.len() > 3 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' ' {
                if class_ok {
                    code = m[..3].to_string();
                } else {
                    let expected = &default_code[..1];
                    self.log(
                        Targets::MAIN,
                        format!("configured error code starts with incorrect digit (expected {expected}) in \"{m}\""),
                    );
                    wrong_class = Some(format!("{default_code} {}", &m[4..]));
                }
                user = Some(m[4..].to_string());
            }
        }
        let text = if defer {
            match &user {
                Some(u) => u.clone(),
                None => t::TEMP_PROBLEM.to_string(),
            }
        } else {
            user.clone().unwrap_or_else(|| t::ADMIN_PROHIBITION.to_string())
        };
        if where_ == AclWhere::Rcpt && self.rcpt_in_progress {
            // As Exim's smtp_respond(): the message, without the code.
            self.note_rcpt_response(text.clone());
        }
        // Exim splits the message as configured, a code given in it included.
        let r = match (&user, &outcome.user_message) {
            (Some(_), Some(m)) => {
                let given = m.len() - user.as_deref().map_or(0, str::len);
                reply(&code, &split_message(&format!("{}{text}", &m[..given]))[given..])
            }
            _ => reply(&code, &text),
        };
        self.send(r);
        let sender_info = match where_ {
            AclWhere::Rcpt | AclWhere::Data => {
                format!("F=<{}>{} ", self.vars.sender_address.clone().unwrap_or_default(), self.auth_log())
            }
            _ => String::new(),
        };
        let what = match where_ {
            AclWhere::Predata => "DATA".to_string(),
            AclWhere::Data | AclWhere::Prdr => "after DATA".to_string(),
            AclWhere::Connect => "connection in \"connect\" ACL".to_string(),
            AclWhere::Helo => format!("EHLO or HELO {arg}"),
            AclWhere::Mail => format!("MAIL {arg}"),
            AclWhere::Rcpt => format!("RCPT {arg}"),
            AclWhere::Vrfy => format!("VRFY {arg}"),
            AclWhere::Expn => format!("EXPN {arg}"),
            AclWhere::Etrn => format!("ETRN {arg}"),
            AclWhere::Starttls => "STARTTLS".to_string(),
            AclWhere::Auth => "AUTH".to_string(),
            AclWhere::Quit | AclWhere::Notquit => "QUIT".to_string(),
        };
        // A log message that is only the user message (the ACL copies it)
        // shows the code Exim replaced a wrong-class one with.
        let log_msg = outcome
            .log_message
            .as_ref()
            .filter(|l| wrong_class.is_none() || Some(*l) != outcome.user_message.as_ref())
            .or(wrong_class.as_ref())
            .or(outcome.user_message.as_ref())
            .map(|m| format!(": {}", m.split('\n').next().unwrap_or("")))
            .unwrap_or_default();
        let h = self.vars.host_and_ident(true);
        let tls = self.tls_log();
        let temp = if defer { "temporarily " } else { "" };
        let targets = match &outcome.log_reject_target {
            None => Targets::REJECT,
            Some(t) => Targets {
                main: t.iter().any(|n| n == "main"),
                reject: t.iter().any(|n| n == "reject"),
                panic: t.iter().any(|n| n == "panic"),
            },
        };
        // An empty log_reject_target: the refusal is not logged at all.
        // Before a drop's not-QUIT ACL, whose lines are written at once.
        if targets.main || targets.reject || targets.panic {
            let mut line = format!("{h}{tls} {sender_info}{temp}rejected {what}{log_msg}");
            if let Some(detail) = self.reject_detail.as_ref().filter(|d| targets.reject && !d.is_empty()) {
                line.push(crate::log::REJECT_DETAIL);
                line.push_str(detail);
            }
            if drop {
                self.log_among_acls(targets, line);
            } else {
                self.log(targets, line);
            }
        }
        if drop {
            if self.log_connection {
                let info = self.connection_info();
                self.log_among_acls(Targets::MAIN, format!("{info} closed by DROP in ACL"));
            }
            // Exim forgets the name a rejected HELO gave.
            if where_ == AclWhere::Helo {
                self.vars.sender_helo_name = None;
            }
            let _ = self.acls.notquit(&self.vars, "acl-drop");
            self.close();
        }
    }

    /// ` A=authenticator:id` for log lines of an authenticated client.
    fn auth_log(&self) -> String {
        match (&self.vars.sender_host_authenticated, &self.vars.authenticated_id) {
            (Some(a), Some(id)) => format!(" A={a}:{id}"),
            (Some(a), None) => format!(" A={a}"),
            (None, _) => String::new(),
        }
    }

    /// ` X=... CV=... DN=... SNI=...` for log lines.
    fn tls_log(&self) -> String {
        let mut s = String::new();
        let sel = &self.cfg.log_selector;
        if let Some(c) = &self.vars.tls.cipher {
            if sel.tls_cipher {
                s.push_str(&format!(" X={c}"));
            }
            if sel.tls_certificate_verified {
                s.push_str(if self.vars.tls.certificate_verified { " CV=yes" } else { " CV=no" });
            }
            if sel.tls_peerdn {
                if let Some(dn) = &self.vars.tls.peerdn {
                    s.push_str(&format!(" DN=\"{dn}\""));
                }
            }
            if sel.tls_sni {
                if let Some(sni) = &self.vars.tls.sni {
                    s.push_str(&format!(" SNI=\"{sni}\""));
                }
            }
        }
        s
    }

    fn data(&mut self, was_rcpt: bool) {
        // DATA ends a pipelined group (RFC 2920): nothing may follow it
        // before the 354, advertised PIPELINING or not.
        if !self.pipe_connect_ok && !self.sync_ok() {
            self.sync_failure();
            return;
        }
        if !self.start_message("DATA", was_rcpt) {
            return;
        }
        let r = match self.predata_message.take() {
            Some(m) => self.acl_message_reply(354, &m),
            None => reply("354", t::ENTER_MESSAGE),
        };
        self.send(r);
        self.last_line_crlf = false;
        self.state = State::ExpectData;
    }

    /// The checks common to DATA and the first BDAT; true to go on.
    fn start_message(&mut self, which: &str, was_rcpt: bool) -> bool {
        if self.vars.recipients.is_empty() && self.discarded.is_none() {
            if self.rcpt_response_same {
                if let Some(resp) = self.rcpt_response.clone() {
                    let mut lines = vec!["All RCPT commands were rejected with this error:".to_string()];
                    lines.extend(resp.split('\n').map(String::from));
                    let mut out = String::new();
                    for l in lines {
                        out.push_str(&format!("503-{l}\r\n"));
                    }
                    self.send_str(&out);
                }
            }
            if self.adv.pipelining && was_rcpt {
                self.send_str(&format!("503 Valid RCPT command must precede {which}\r\n"));
            } else {
                self.synprot_error(503, None, &format!("valid RCPT command must precede {which}"), false);
            }
            return false;
        }
        if self.too_many && self.cfg.recipients_max_reject {
            self.synprot_error(554, None, "Too many recipients", false);
            return false;
        }
        let mut outcome = self.acls.predata(&self.vars);
        self.keep_host_names(outcome.host_names.take());
        self.pre_data_headers.append(&mut outcome.add_headers);
        self.enforce_sync = outcome.enforce_sync.unwrap_or(self.enforce_sync);
        if outcome.verdict != AclVerdict::Accept {
            self.acl_fail(AclWhere::Predata, &outcome, "");
            return false;
        }
        self.start_submission(&outcome);
        self.predata_message = outcome.user_message.clone();
        self.message = MessageData::default();
        self.message_start = crate::spool::message_id::now();
        self.vars.message_id = self.ids.next(self.message_start);
        self.vars.log_id = self.vars.message_id.clone();
        self.chunk_total = 0;
        self.chunking_active = false;
        self.fromline_checked = false;
        true
    }

    fn data_lines(&mut self) -> bool {
        let limit = self.size_limit;
        loop {
            // Whether this line ends in CR LF, seen before take_line strips it.
            let crlf = match self.input.iter().position(|b| *b == b'\n') {
                Some(p) => p > 0 && self.input[p - 1] == b'\r',
                None => break,
            };
            let Some(line) = self.take_line() else { break };
            let after_crlf = std::mem::replace(&mut self.last_line_crlf, crlf);
            // Debian's Exim 4.96 (smuggling fix): after a CR LF line end the
            // terminating dot must be followed by CR LF too.
            if line == b"." && (crlf || !after_crlf) {
                self.end_of_message(false);
                return true;
            }
            if !self.fromline_checked && self.vars.sender_host_address.is_some() {
                // At the first line Exim's receive_msg() asks whether a
                // "From " line is allowed; rexim reads it as any header
                // line, so only -bh shows the check.
                self.fromline_checked = true;
                self.host_in("ignore_fromline_hosts");
            }
            let content = if line.first() == Some(&b'.') { &line[1..] } else { &line[..] };
            self.message.add_line(content, limit);
        }
        false
    }

    fn bdat(&mut self, arg: &str, was_rcpt: bool) {
        if !self.adv.chunking {
            self.synprot_error(503, None, t::BDAT_NOT_ADVERTISED, false);
            return;
        }
        let mut words = arg.split_whitespace();
        let size = words.next().and_then(|w| w.parse::<usize>().ok());
        let last = match words.next() {
            None => false,
            Some(w) if w.eq_ignore_ascii_case("LAST") && words.next().is_none() => true,
            Some(_) => {
                self.synprot_error(501, None, "bad BDAT command", true);
                return;
            }
        };
        let Some(size) = size else {
            self.synprot_error(501, None, t::BDAT_BAD, true);
            return;
        };
        if size == 0 && !last {
            self.synprot_error(504, None, t::BDAT_ZERO, true);
            return;
        }
        let first = !matches!(self.state, State::ExpectBdat);
        if first && !self.start_message("BDAT", was_rcpt) {
            // The chunk's data is read and thrown away.
            self.state = State::ExpectChunk { remaining: size, last: true, discard: true };
            return;
        }
        self.chunk_size = size;
        self.chunking_active = true;
        self.state = State::ExpectChunk { remaining: size, last, discard: false };
    }

    fn chunk_bytes(&mut self) -> bool {
        let State::ExpectChunk { remaining, last, discard } = self.state else { return false };
        let n = remaining.min(self.input.len());
        if n == 0 && remaining > 0 {
            return false;
        }
        let bytes: Vec<u8> = self.input.drain(..n).collect();
        let left = remaining - n;
        if discard {
            self.state = if left == 0 { State::ExpectCommand } else { State::ExpectChunk { remaining: left, last, discard } };
            return true;
        }
        self.chunk_total += n;
        let limit = self.size_limit;
        for b in bytes {
            if let Some(shown) = self.message.bare_lf_headers {
                self.bare_lf_in_header(shown, left, last);
                return true;
            }
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.chunk_line);
                let crlf = line.last() == Some(&b'\r');
                if crlf {
                    line.pop();
                }
                let (first, headers) = (self.message.lines == 0, self.message.headers.len());
                self.message.add_line(&line, limit);
                if self.message.bare_lf_first {
                    self.message.bare_lf_headers = Some(headers);
                } else if first && !crlf && self.message.headers.len() > headers {
                    self.message.bare_lf_first = true;
                }
            } else {
                self.chunk_line.push(b);
            }
        }
        if left > 0 {
            self.state = State::ExpectChunk { remaining: left, last, discard };
            return true;
        }
        if last {
            if !self.chunk_line.is_empty() {
                let line = std::mem::take(&mut self.chunk_line);
                self.message.add_line(&line, limit);
            }
            if self.message.bare_lf_first {
                let shown = self.message.bare_lf_headers.unwrap_or(self.message.headers.len());
                self.bare_lf_in_header(shown, 0, true);
                return true;
            }
            self.end_of_message(true);
        } else if !self.adv.pipelining && !self.sync_ok() {
            self.chunk_sync_failure();
        } else {
            let size = self.chunk_size;
            self.send_str(&format!("250 {size} byte chunk received\r\n"));
            self.state = State::ExpectBdat;
        }
        true
    }

    /// Exim's receive_msg: under CHUNKING a first header line ended by a
    /// bare LF abandons the message once the next line is complete. The
    /// rest of the chunk is read and thrown away (what is taken from
    /// the input already, and `left` more).
    fn bare_lf_in_header(&mut self, shown: usize, left: usize, last: bool) {
        self.state = if left == 0 { State::ExpectCommand } else { State::ExpectChunk { remaining: left, last, discard: true } };
        let sender = self.vars.sender_address.clone().unwrap_or_default();
        let h = self.vars.host_and_ident(true);
        let mut line = format!("rejected from <{sender}> {h}: Non-CRLF-terminated header, under CHUNKING: message abandoned");
        let mut detail = self.envelope_detail_for(true);
        if !detail.is_empty() {
            for header in self.message.headers.iter().take(shown) {
                detail.push_str(&format!("  {header}"));
            }
        }
        line.push_str(&detail);
        self.log_no_id(Targets::REJECT, line);
        self.send_str(t::HEADER_NOT_CRLF);
        self.reset_transaction();
    }

    /// Exim's bdat_getc: the next command came before the chunk's 250,
    /// without PIPELINING. Unlike between commands the connection stays;
    /// only RSET is accepted until the error count drops it.
    fn chunk_sync_failure(&mut self) {
        let n = self.input.len().min(32);
        let more = if self.input.len() > n { "..." } else { "" };
        let shown = printing(&self.input[..n]);
        let cmd = self.vars.smtp_command.clone();
        let h = self.vars.host_and_ident(true);
        let mut line = format!(
            "SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected \"{cmd}\" {h} next input=\"{shown}\"{more}"
        );
        line.push_str(&self.envelope_detail());
        self.log_no_id(Targets::REJECT, line);
        if !self.synprot_error(554, None, "SMTP synchronization error", false) {
            self.state = State::ExpectRset;
        }
    }

    fn in_chunked_message(&self) -> bool {
        matches!(self.state, State::ExpectChunk { .. } | State::ExpectBdat | State::ExpectRset)
    }

    /// What Exim's reject log adds to a line written while a message is
    /// being received: the envelope (with `rejected_header`).
    fn envelope_detail(&self) -> String {
        self.envelope_detail_for(self.in_chunked_message())
    }

    fn envelope_detail_for(&self, in_message: bool) -> String {
        let Some((first, rest)) = self.vars.recipients.split_first().filter(|_| in_message && self.cfg.log_selector.rejected_header) else {
            return String::new();
        };
        let sender = self.vars.sender_address.clone().unwrap_or_default();
        let mut detail = format!("{}Envelope-from: <{sender}>\nEnvelope-to: <{first}>\n", crate::log::REJECT_DETAIL);
        for r in rest {
            detail.push_str(&format!("    <{r}>\n"));
        }
        detail
    }

    /// The whole message has arrived: check it, build the spool record.
    fn end_of_message(&mut self, chunked: bool) {
        self.state = State::ExpectCommand;
        if !self.message.in_body {
            self.message.end_headers();
        }
        self.nonmail.new_message();
        let sender = self.vars.sender_address.clone().unwrap_or_default();
        if self.message.too_big {
            self.send_str(t::SIZE_EXCEEDED);
            let h = self.vars.host_and_ident(true);
            self.log(
                Targets::REJECT,
                format!(
                    "{} rejected from <{sender}> {h}: message too big: read={} max={}",
                    self.vars.message_id, self.message.size, self.size_limit
                ),
            );
            self.reset_transaction();
            return;
        }
        self.header_end();
        // Exim writes Received: before PRDR can drop recipients.
        self.received_for = (self.vars.recipients.len() == 1).then(|| self.vars.recipients[0].clone());
        let headers = match self.message_headers(&[]) {
            Ok(h) => h,
            Err(e) => {
                self.received_header_failed(&e);
                return;
            }
        };
        self.set_body_variables();
        if !self.prdr_replies() {
            return;
        }
        // With every recipient discarded Exim does not run the DATA ACL.
        let mut outcome = if self.vars.recipients.is_empty() {
            AclOutcome::accept()
        } else {
            let visible = self.visible_headers();
            self.acls.data(&self.vars, &visible)
        };
        self.keep_host_names(outcome.host_names.take());
        if outcome.verdict != AclVerdict::Accept && outcome.verdict != AclVerdict::Discard {
            self.acl_fail_data(&outcome, &headers);
            self.reset_transaction();
            return;
        }
        self.fake_response = outcome.fake_response.clone();
        self.data_message = outcome.user_message.clone();
        if let Some(line) = self.data_message.as_deref().and_then(|m| crate::acl::reply::wrong_code_log(m, 250)) {
            self.log(Targets::PANIC, line);
        }
        if outcome.verdict == AclVerdict::Discard {
            self.vars.recipients.clear();
            self.discarded = Some("DATA");
        }
        let msg = match self.build_spool_message(&outcome) {
            Ok(m) => m,
            Err(e) => {
                self.received_header_failed(&e);
                return;
            }
        };
        let _ = chunked;
        if msg.recipients.is_empty() {
            // Nothing to keep: Exim logs the arrival and a delivery to the
            // blackhole, and completes the message at once.
            let by = self.discarded.unwrap_or("DATA");
            let line = format!("{} {}", msg.id, self.arrival_line(&msg));
            self.log(Targets::MAIN, line);
            self.log(Targets::MAIN, format!("{} => blackhole ({by} ACL discarded recipients)", msg.id));
            self.log(Targets::MAIN, format!("{} Completed", msg.id));
            let r = self.host_check_reply(self.data_reply(&msg.id));
            self.send(r);
            self.reset_transaction();
            return;
        }
        self.queue_only = outcome.queue_only;
        if self.mode == SessionMode::HostCheck {
            // Nothing is written, but Exim logs the arrival all the same.
            let line = format!("{} {}", msg.id, self.arrival_line(&msg));
            self.log(Targets::MAIN, line);
            self.log_held(&msg);
            let r = self.host_check_reply(self.data_reply(&msg.id));
            self.send(r);
            self.reset_transaction();
            return;
        }
        self.events.push(Event::Spool(Box::new(msg)));
        self.state = State::AwaitSpool;
    }

    /// The address of MAIL or RCPT after the `S` rewriting rules, parsed;
    /// a 501 when it cannot be.
    fn smtp_address(&mut self, arg: &str, allow_empty: bool) -> Option<address::Parsed> {
        let rewritten = self.rewrite_smtp_argument(arg);
        let arg = rewritten.as_deref().unwrap_or(arg);
        match address::parse(arg, allow_empty, self.cfg.allow_domain_literals) {
            Ok(p) => Some(p),
            Err(e) => {
                self.synprot_error(501, Some(arg), &e, true);
                None
            }
        }
    }

    /// A MAIL or RCPT argument rewritten by the rules with the `S` flag.
    fn rewrite_smtp_argument(&mut self, argument: &str) -> Option<String> {
        let rules = self.cfg.rewrite.clone();
        if rules.exist & crate::rewrite::flags::SMTP == 0 {
            return None;
        }
        let mut out = None;
        self.acls.with_rewrite_env(&self.vars, &[], &mut |env| out = crate::rewrite::rewrite_smtp(&rules, argument, env));
        out
    }

    /// What Exim does at the end of the header lines (receive_msg()): for
    /// local input the Message-Id:, From: and Date: it supplies; the
    /// envelope recipients and sender rewritten (with X-rewrote- notes,
    /// kept as deleted lines); the addresses in the header lines
    /// qualified when the client may send unqualified ones, and
    /// rewritten. These lines, then those the MAIL, RCPT and predata ACLs
    /// added (once each), are in place before the DATA ACL runs.
    fn header_end(&mut self) {
        self.force_untrusted_sender();
        let untrusted = self.untrusted_caller().cloned();
        let rules = self.cfg.rewrite.clone();
        let cfg = self.cfg.clone();
        let fixups = self.is_local() && self.submission.is_none() && !self.suppress_local_fixups;
        let id = self.vars.message_id.clone();
        let mut early: Vec<(char, String)> = Vec::new();
        if fixups && self.message.header("message-id").is_none() && self.message.header("resent-message-id").is_none() {
            early.push(('I', format!("Message-Id: <E{id}@{}>\n", cfg.primary_hostname)));
        }
        let mut headers = self.message.headers.clone();
        let mut recipients = self.vars.recipients.clone();
        let original_sender = self.vars.sender_address.clone().unwrap_or_default();
        let mut sender = original_sender.clone();
        let mut replaced = Vec::new();
        let (allow_sender, allow_recipient) = (self.vars.allow_unqualified_sender, self.vars.allow_unqualified_recipient);
        let add_from = fixups && self.message.header("from").is_none() && !original_sender.is_empty();
        let add_date = fixups && self.message.header("date").is_none();
        // An untrusted caller's name goes with the address, as Exim's
        // originator_name does.
        let from_line = match &untrusted {
            Some(caller) => format!("From: {}\n", caller.mailbox(&original_sender)),
            None => format!("From: {original_sender}\n"),
        };
        let policy = crate::rewrite::header::HeaderPolicy {
            rules: &rules,
            allow_unqualified_sender: allow_sender,
            allow_unqualified_recipient: allow_recipient,
            qualify_domain: &cfg.qualify_domain,
            qualify_recipient: &cfg.qualify_recipient,
            allow_domain_literals: cfg.allow_domain_literals,
        };
        let snapshot = headers.clone();
        let mut rewrite = |env: &mut dyn crate::rewrite::RewriteEnv| {
            for r in recipients.iter_mut() {
                let new = crate::rewrite::rewrite_envelope(&rules, r, true, &cfg.qualify_recipient, env);
                early.extend(new.steps.iter().map(|s| ('*', format!("X-rewrote-original-recipient: {s}\n"))));
                *r = new.address;
            }
            // The From: Exim supplies is a header line like the others,
            // rewritten after those received.
            let from_at = add_from.then(|| {
                early.push(('F', from_line.clone()));
                early.len() - 1
            });
            if !sender.is_empty() {
                let new = crate::rewrite::rewrite_envelope(&rules, &sender, false, &cfg.qualify_domain, env);
                sender = new.address;
                early.extend(new.steps.iter().map(|s| ('*', format!("X-rewrote-sender: {s}\n"))));
            }
            for (i, h) in headers.iter_mut().enumerate() {
                let Some(flag) = crate::rewrite::header::flag_for(header_flag(h)) else { continue };
                if let Some(new) = crate::rewrite::header::rewrite_header(h, flag, &policy, env) {
                    replaced.push((i, std::mem::replace(h, new)));
                }
            }
            if let Some(at) = from_at {
                if let Some(new) = crate::rewrite::header::rewrite_header(&early[at].1, crate::rewrite::flags::FROM, &policy, env) {
                    early[at].0 = '*';
                    early.insert(at + 1, ('F', new));
                }
            }
        };
        let wanted = !rules.is_empty() || allow_sender || allow_recipient;
        let ran = wanted && self.acls.with_rewrite_env(&self.vars, &snapshot, &mut |env| rewrite(env));
        if !ran {
            // No rewriting: Exim's line in its place all the same.
            if add_from {
                early.push(('F', from_line.clone()));
            }
        } else {
            self.vars.recipients = recipients;
            if self.vars.sender_address.is_some() {
                self.vars.sender_address = Some(sender);
            }
            self.message.headers = headers;
            self.message.rewritten = replaced;
        }
        if let (true, Some(caller)) = (fixups && cfg.local_from_check, &untrusted) {
            if let Some(line) = self.sender_line_for(caller, &early) {
                early.push(('S', line));
            }
        }
        if add_date {
            early.push((' ', format!("Date: {}\n", rfc822_date())));
        }
        let acl_added = std::mem::take(&mut self.pre_data_headers);
        early.extend(once_each(&acl_added).into_iter().map(|h| {
            let text = header_line(h);
            (header_flag(&text), text)
        }));
        self.message.early = early;
    }

    /// Exim's local_from_check: a Sender: line with the caller's own
    /// address when the From: line (received, or the one just supplied)
    /// is not that address or cannot be read.
    fn sender_line_for(&self, caller: &super::caller::Caller, early: &[(char, String)]) -> Option<String> {
        let supplied = early.iter().find(|(f, _)| *f == 'F').and_then(|(_, t)| t.split_once(':')).map(|(_, v)| v.trim().to_string());
        let from = self.message.header("from").or(supplied)?;
        let cfg = &self.cfg;
        let owned = crate::expand::parse_address(&from).is_some_and(|a| {
            caller.owns(&a, &cfg.qualify_domain, cfg.local_from_prefix.as_deref(), cfg.local_from_suffix.as_deref())
        });
        (!owned).then(|| format!("Sender: {}\n", caller.mailbox(&caller.address(&cfg.qualify_domain))))
    }

    /// The header lines an ACL after the data sees: those received (as
    /// rewritten), then those added at their end, deleted ones left out.
    fn visible_headers(&self) -> Vec<String> {
        let early = self.message.early.iter().filter(|(f, _)| *f != '*').map(|(_, t)| t.clone());
        self.message.headers.iter().cloned().chain(early).collect()
    }

    /// PRDR: with more than one recipient, the PRDR ACL runs for each and
    /// each gets its own reply; those it does not accept are dropped.
    /// False when none is left, and the transaction is over.
    fn prdr_replies(&mut self) -> bool {
        if !self.vars.prdr_requested || self.vars.recipients.len() < 2 || self.cfg.acl_smtp_data_prdr.is_none() {
            self.vars.prdr_requested = false;
            return true;
        }
        self.send_str(t::PRDR_BEGIN);
        self.prdr_recipients = Some(self.vars.recipients.clone());
        // Exim folds its return codes (OK 0, DEFER 1, FAIL 2, ERROR 3,
        // DISCARD 7) with | and &: that decides the final reply.
        let (mut all_pass, mut all_fail) = (0u8, 2u8);
        // A recipient not accepted leaves the list at once: the ACL runs
        // for the next see it gone ($recipients_count).
        let mut i = 0;
        while i < self.vars.recipients.len() {
            let address = self.vars.recipients[i].clone();
            let visible = self.visible_headers();
            let outcome = self.acls.prdr(&self.vars, &visible, &address);
            let (rc, code, word) = match outcome.verdict {
                AclVerdict::Accept => (0, 250, "acceptance"),
                AclVerdict::Discard => (7, 250, "acceptance"),
                AclVerdict::Defer => (1, 450, "temporary refusal"),
                AclVerdict::Deny | AclVerdict::Drop => (2, 550, "refusal"),
            };
            all_pass |= rc;
            all_fail &= rc;
            let default_text = t::prdr_recipient(&address, word);
            let r = match &outcome.user_message {
                Some(m) => user_reply(code, m),
                None => reply(&code.to_string(), &default_text),
            };
            self.send(r);
            let logged = match outcome.log_message.as_ref().or(outcome.user_message.as_ref()) {
                Some(m) => format!("PRDR {address} {m}"),
                None => default_text,
            };
            self.log_among_acls(Targets::MAIN, logged);
            if rc == 0 {
                i += 1;
            } else {
                self.vars.recipients.remove(i);
                if i < self.vars.recipients_dsn.len() {
                    self.vars.recipients_dsn.remove(i);
                }
            }
        }
        let reply = t::prdr_final(all_fail == 2, all_pass == 0, &self.vars.message_id);
        if self.vars.recipients.is_empty() {
            self.send(format!("{reply}\r\n").into_bytes());
            self.reset_transaction();
            return false;
        }
        self.prdr_reply = Some(reply);
        true
    }

    /// What Exim logs after the arrival of a message an ACL froze or
    /// queued.
    fn log_held(&mut self, msg: &SpoolMessage) {
        if msg.frozen {
            self.log(Targets::MAIN, format!("{} frozen by ACL", msg.id));
        }
        if self.queue_only {
            let queue = msg.queue_name.as_ref().map(|q| format!(" in {q}")).unwrap_or_default();
            self.log(Targets::MAIN, format!("{} no immediate delivery: queued{queue} by ACL", msg.id));
        }
    }

    fn received_header_failed(&mut self, e: &str) {
        self.log(Targets::PANIC, format!("Expansion of \"{}\" (received_header_text) failed: {e}", self.cfg.received_header_text));
        self.send_str("451 Temporary local problem - please try later\r\n");
        self.reset_transaction();
    }

    /// What the DATA ACL sees of the body, as Exim sets it up after
    /// reading the data: sizes, line counts, the visible start and end.
    fn set_body_variables(&mut self) {
        let body = &self.message.body;
        let n = self.cfg.message_body_visible.min(body.len());
        let visible = |b: &[u8]| String::from_utf8_lossy(b).replace(['\n', '\0'], " ");
        self.vars.message_body = Some(visible(&body[..n]));
        self.vars.message_body_end = Some(visible(&body[body.len() - n..]));
        // Exim counts what it read: the header lines received and the
        // blank line after them, not the Received: or other lines it adds.
        let received: usize = self.message.headers.iter().map(String::len).sum();
        let separator = usize::from(!self.message.headers.is_empty());
        self.vars.message_size = Some((received + separator + body.len()) as u64);
        let header_lines: usize = self.message.headers.iter().map(|h| h.matches('\n').count()).sum();
        self.vars.body_linecount = Some(self.message.body_linecount);
        self.vars.message_linecount = Some(header_lines as u64 + 1 + self.message.body_linecount);
    }

    /// A rejection after DATA: the log lines carry the message id, and the
    /// reject log the envelope and the header lines (`rejected_header`).
    fn acl_fail_data(&mut self, outcome: &AclOutcome, headers: &[SpoolHeader]) {
        let mut detail = String::new();
        if self.cfg.log_selector.rejected_header {
            if let Some((first, rest)) = self.vars.recipients.split_first() {
                let sender = self.vars.sender_address.clone().unwrap_or_default();
                detail.push_str(&format!("Envelope-from: <{sender}>\nEnvelope-to: <{first}>\n"));
                for r in rest {
                    detail.push_str(&format!("    <{r}>\n"));
                }
            }
            for h in headers {
                detail.push_str(&format!("{} {}", h.flag, h.text));
            }
        }
        // The lines of the refusal carry the message id; the reject log's
        // also the envelope and the header lines.
        let id = std::mem::replace(&mut self.vars.log_id, self.vars.message_id.clone());
        self.reject_detail = Some(detail);
        self.acl_fail(AclWhere::Data, outcome, "");
        self.reject_detail = None;
        self.vars.log_id = id;
    }

    /// Submission mode takes effect once the predata ACL has accepted: an
    /// authenticated client becomes the return path (unless
    /// `sender_retain`), so the DATA ACL, the Received: line and the log
    /// see that sender.
    fn start_submission(&mut self, outcome: &AclOutcome) {
        self.suppress_local_fixups = outcome.suppress_local_fixups;
        self.submission = outcome.submission.as_deref().map(|options| {
            let s = super::submission::Submission::parse(options);
            let given = self.vars.sender_address.clone();
            if let (false, Some(id)) = (s.sender_retain, &self.vars.authenticated_id) {
                self.vars.sender_address = Some(s.authenticated_address(id, &self.cfg.qualify_domain));
            }
            (s, given)
        });
    }

    /// The header lines as they go to the spool: Received:, the message's
    /// own, those ACLs added, and for local input the ones Exim supplies.
    fn message_headers(&mut self, added: &[String]) -> Result<Vec<SpoolHeader>, String> {
        let received_for = self.received_for.clone();
        let received = {
            let headers = self.message.headers.clone();
            let mut ctx = self.context(&headers);
            received_header(&mut ctx, &self.cfg.received_header_text, received_for.as_deref())?
        };
        let mut headers = vec![SpoolHeader { flag: 'P', text: received }];
        // An untrusted caller's own Sender: lines are dropped (kept as
        // deleted lines), unless local_sender_retain.
        let drop_sender =
            self.untrusted_caller().is_some() && !self.suppress_local_fixups && !self.cfg.local_sender_retain;
        for (i, h) in self.message.headers.iter().enumerate() {
            // A rewritten header line follows its old form, marked deleted.
            if let Some((_, old)) = self.message.rewritten.iter().find(|(j, _)| *j == i) {
                headers.push(SpoolHeader { flag: '*', text: old.clone() });
            }
            let flag = match header_flag(h) {
                'S' if drop_sender => '*',
                flag => flag,
            };
            headers.push(SpoolHeader { flag, text: h.clone() });
        }
        headers.extend(self.message.early.iter().map(|(flag, text)| SpoolHeader { flag: *flag, text: text.clone() }));
        // The DATA ACL's lines, once each; those equal to a line added
        // before the DATA ACL are kept (Exim compares within each batch).
        for h in once_each(added) {
            let text = header_line(h);
            headers.push(SpoolHeader { flag: header_flag(&text), text });
        }
        if self.suppress_local_fixups {
            return Ok(headers);
        }
        if let Some((submission, given)) = self.submission.clone() {
            self.submission_fixups(&mut headers, &submission, given.as_deref().unwrap_or_default());
        }
        Ok(headers)
    }

    /// Submission mode's header fix-ups (as Exim's for local messages):
    /// without `sender_retain` the client's Sender: lines are marked
    /// deleted; Message-Id:, From: (the sender the client gave) and Date:
    /// are added when missing, and a Sender: with the authenticated
    /// address when the From: address is another. A message with Resent-
    /// lines gets the Resent- forms, Resent-Date: and Resent-Message-Id:
    /// at the top of its header lines.
    fn submission_fixups(&self, headers: &mut Vec<SpoolHeader>, submission: &super::submission::Submission, given: &str) {
        let is_resent = |h: &str| h.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("resent-"));
        let resent = self.message.headers.iter().any(|h| is_resent(h));
        let prefix = if resent { "Resent-" } else { "" };
        let missing = |name: &str| self.message.header(&format!("{prefix}{name}")).is_none();
        if !submission.sender_retain {
            for h in headers.iter_mut().filter(|h| h.flag == 'S') {
                h.flag = '*';
            }
        }
        let message_id = missing("message-id").then(|| SpoolHeader {
            flag: 'I',
            text: format!("{prefix}Message-Id: <E{}@{}>\n", self.vars.message_id, self.cfg.primary_hostname),
        });
        let mut date = missing("date").then(|| SpoolHeader { flag: ' ', text: format!("{prefix}Date: {}\n", rfc822_date()) });
        let mut tail = Vec::new();
        if resent {
            // At the top of the message's own lines, after Received:.
            let first = headers.iter().position(|h| h.flag != 'P').unwrap_or(headers.len());
            let before: Vec<SpoolHeader> = date.take().into_iter().chain(message_id).collect();
            headers.splice(first..first, before);
        } else {
            tail.extend(message_id);
        }
        let from = match self.message.header(&format!("{prefix}from")) {
            Some(f) => crate::expand::parse_address(&f),
            None if given.is_empty() => None,
            None => {
                tail.push(SpoolHeader { flag: 'F', text: format!("{prefix}From: {}\n", submission.mailbox(given)) });
                Some(given.to_string())
            }
        };
        if let (false, Some(id)) = (submission.sender_retain, &self.vars.authenticated_id) {
            let own = submission.authenticated_address(id, &self.cfg.qualify_domain);
            if !from.is_some_and(|f| f.eq_ignore_ascii_case(&own)) {
                tail.push(SpoolHeader { flag: 'S', text: format!("{prefix}Sender: {}\n", submission.mailbox(&own)) });
            }
        }
        headers.extend(tail);
        headers.extend(date);
    }

    fn build_spool_message(&mut self, outcome: &AclOutcome) -> Result<SpoolMessage, String> {
        let id = self.vars.message_id.clone();
        let sender = self.vars.sender_address.clone().unwrap_or_default();
        let headers = self.message_headers(&outcome.add_headers)?;
        let local = self.is_local();
        // Exim's daemon runs as the Exim user, who is then the originator.
        let (login, uid, gid) = match &self.mode {
            SessionMode::Remote => exim_identity(&self.cfg),
            SessionMode::Local { caller } => (caller.login.clone(), caller.uid, caller.gid),
            SessionMode::HostCheck => process_identity(),
        };
        let tls = &self.vars.tls;
        Ok(SpoolMessage {
            id,
            originator_login: login,
            originator_uid: uid,
            originator_gid: gid,
            sender,
            received_time: self.message_start,
            received_time_complete: crate::spool::message_id::now(),
            helo_name: self.vars.sender_helo_name.clone(),
            host_address: self.vars.sender_host_address.as_ref().map(|a| format!("[{a}]:{}", self.vars.sender_host_port)),
            host_address_tainted: !self.is_remote_socket(),
            host_name: self.vars.sender_host_name.clone(),
            interface_address: self.vars.interface_address.as_ref().map(|a| format!("[{a}]:{}", self.vars.interface_port)),
            ident: self.vars.sender_ident.clone(),
            received_protocol: self.vars.received_protocol.clone(),
            active_hostname: self.cfg.smtp_active_hostname.clone().filter(|h| *h != self.cfg.primary_hostname),
            auth_id: self.vars.authenticated_id.clone(),
            auth_sender: self.vars.authenticated_sender.clone(),
            host_auth: self.vars.sender_host_authenticated.clone(),
            host_auth_pubname: self.vars.sender_host_auth_pubname.clone(),
            tls_cipher: tls.cipher.clone(),
            tls_ver: tls.version.clone(),
            tls_peerdn: tls.peerdn.clone(),
            tls_peercert: tls.peercert.clone(),
            tls_ourcert: tls.ourcert.clone(),
            tls_sni: tls.sni.clone(),
            tls_certificate_verified: tls.certificate_verified,
            body_linecount: self.message.body_linecount,
            max_received_linelength: self.message.max_linelength,
            allow_unqualified: local,
            local: self.untrusted_caller().is_some(),
            sender_set_untrusted: self.sender_set_untrusted,
            smtputf8: self.vars.smtputf8,
            dsn_envid: self.vars.mail_dsn.envid.clone(),
            dsn_ret: self.vars.mail_dsn.ret.map(|r| (r as u8).to_string()),
            recipients: self.vars.recipients.clone(),
            recipients_dsn: self.vars.recipients_dsn.clone(),
            frozen: outcome.freeze,
            queue_name: outcome.queue_name.clone(),
            headers,
            body: std::mem::take(&mut self.message.body),
        })
    }

    /// The message log's first line: the arrival line without recipients.
    pub fn msglog_line(&self, msg: &SpoolMessage) -> String {
        let mut s = self.arrival_fields(msg, false);
        s.replace_range(..3, "Received from ");
        s
    }

    /// The reply to the end of the data: `250 OK id=...`, or the fake
    /// rejection an ACL asked for (the message is kept all the same).
    /// -bh follows the reply to the final dot with a note, in the same write.
    fn host_check_reply(&self, mut r: Vec<u8>) -> Vec<u8> {
        // Exim's note follows its usual reply, not PRDR's final one.
        if self.mode == SessionMode::HostCheck && self.prdr_reply.is_none() {
            r.extend_from_slice(b"\n**** SMTP testing: that is not a real message id!\n\n");
        }
        r
    }

    fn data_reply(&self, id: &str) -> Vec<u8> {
        match (&self.fake_response, &self.prdr_reply) {
            (Some((code, text)), _) => reply(&code.to_string(), &split_message(text)),
            (None, Some(r)) => format!("{r}\r\n").into_bytes(),
            (None, None) => match &self.data_message {
                Some(m) => user_reply(250, m),
                None => format!("250 OK id={id}\r\n").into_bytes(),
            },
        }
    }

    /// The arrival log line (`<= ...`) for a spooled message.
    pub fn arrival_line(&self, msg: &SpoolMessage) -> String {
        self.arrival_fields(msg, self.cfg.log_selector.received_recipients)
    }

    fn arrival_fields(&self, msg: &SpoolMessage, with_recipients: bool) -> String {
        let sel = &self.cfg.log_selector;
        // Exim marks a message accepted under a fake rejection with "(="
        // (a fake deferral is logged as any arrival).
        let arrow = if self.fake_response.as_ref().is_some_and(|(code, _)| *code >= 500) { "(=" } else { "<=" };
        let mut s = format!("{arrow} {}", if msg.sender.is_empty() { "<>" } else { &msg.sender });
        if self.vars.sender_host_address.is_some() {
            s.push_str(&format!(" H={}", self.vars.fullhost(true)));
            if sel.incoming_interface {
                if let Some(i) = &self.vars.interface_address {
                    s.push_str(&format!(" I=[{i}]:{}", self.vars.interface_port));
                }
            }
        }
        if let Some(i) = &self.vars.sender_ident {
            s.push_str(&format!(" U={i}"));
        }
        s.push_str(&format!(" P={}", msg.received_protocol));
        if let Some(prx) = self.vars.proxy_state.as_ref().and_then(|p| p.log_prx(sel.proxy)) {
            s.push_str(&prx);
        }
        s.push_str(&self.tls_log());
        s.push_str(&self.auth_log());
        if self.vars.prdr_requested {
            s.push_str(" PRDR");
        }
        if self.chunking_active {
            // Received with BDAT.
            s.push_str(" K");
        }
        if sel.size {
            s.push_str(&format!(" S={}", msg.size()));
        }
        if let Some(q) = &msg.queue_name {
            s.push_str(&format!(" Q={q}"));
        }
        if sel.msg_id {
            // Only the message's own Message-Id: (Exim's msgid_header), not
            // one an ACL or the local/submission fix-ups added.
            let mid = self.message.headers.iter().find(|h| header_flag(h) == 'I');
            if let Some(h) = mid {
                if let Some((_, v)) = h.split_once(':') {
                    let v = v.trim();
                    let v = v.strip_prefix('<').and_then(|x| x.split('>').next()).unwrap_or(v);
                    s.push_str(&format!(" id={v}"));
                }
            }
        }
        if sel.subject {
            if let Some(h) = msg.headers.iter().find(|h| h.text.len() > 8 && h.text[..8].eq_ignore_ascii_case("subject:")) {
                s.push_str(&format!(" T=\"{}\"", h.text[8..].trim().replace('\n', "")));
            }
        }
        if with_recipients {
            // Exim lists the recipients PRDR refused too.
            let recipients = self.prdr_recipients.as_ref().unwrap_or(&msg.recipients);
            s.push_str(&format!(" for {}", recipients.join(" ")));
        }
        s
    }

    /// The driver wrote (or failed to write) the spooled message.
    pub fn spooled(&mut self, msg: &SpoolMessage, result: Result<(), String>) -> Vec<Event> {
        if !matches!(self.state, State::AwaitSpool) {
            return Vec::new();
        }
        self.state = State::ExpectCommand;
        match result {
            Ok(()) => {
                let line = format!("{} {}", msg.id, self.arrival_line(msg));
                self.log(Targets::MAIN, line);
                self.log_held(msg);
                // A fake reply or PRDR's final one replaces BDAT's own.
                let chunked = self.chunking_active && self.fake_response.is_none() && self.prdr_reply.is_none();
                if chunked {
                    // Exim's message_size + message_linecount: the LF-ended
                    // bytes, one more for the blank line it puts before a
                    // body that had none (or into an empty message), and
                    // the lines (an empty message counts one).
                    let m = &self.message;
                    let total = m.size + u64::from(m.body_unseparated || m.lines == 0) + m.lines.max(1);
                    self.send_str(&format!("250- {} byte chunk, total {total}\r\n250 OK id={}\r\n", self.chunk_size, msg.id));
                } else {
                    let r = self.data_reply(&msg.id);
                    self.send(r);
                }
            }
            Err(e) => {
                self.log(Targets::PANIC, format!("{} spool write failed: {e}", msg.id));
                self.send_str(t::SPOOL_ERROR);
            }
        }
        self.reset_transaction();
        self.events.push(Event::Continue);
        self.take_events()
    }

    fn quit(&mut self) {
        self.quit_seen = true;
        let mut outcome = self.acls.quit(&self.vars);
        self.keep_host_names(outcome.host_names.take());
        let text = outcome.user_message.unwrap_or_else(|| format!("{} closing connection", self.cfg.active_hostname()));
        let r = reply("221", &text);
        self.send(r);
        if self.log_connection {
            let info = self.connection_info();
            self.log(Targets::MAIN, format!("{info} closed by QUIT"));
        }
        self.close();
    }

    fn vrfy(&mut self, arg: &str) {
        if !self.sync_ok() {
            self.sync_failure();
            return;
        }
        // As Exim: the address is checked and qualified before the ACL.
        let address = match address::parse(arg, false, self.cfg.allow_domain_literals) {
            _ if arg.trim().is_empty() => {
                self.send_str("501 empty address\r\n");
                return;
            }
            Ok(p) if p.has_domain => p.address,
            Ok(p) if self.is_local()
                || p.address.eq_ignore_ascii_case("postmaster")
                || self.vars.allow_unqualified_recipient =>
            {
                format!("{}@{}", p.address, self.cfg.qualify_recipient)
            }
            Ok(_) => {
                self.send_str(&format!("501 {arg}: recipient address must contain a domain\r\n"));
                return;
            }
            Err(e) => {
                self.send_str(&format!("501 {e}\r\n"));
                return;
            }
        };
        let mut outcome = self.acls.vrfy(&self.vars, &address);
        self.keep_host_names(outcome.host_names.take());
        if outcome.verdict != AclVerdict::Accept {
            self.acl_fail(AclWhere::Vrfy, &outcome, arg);
            return;
        }
        // No router verification yet: the ACL's acceptance is the answer.
        let text = outcome.user_message.unwrap_or(format!("<{address}> is deliverable"));
        let r = reply("250", &text);
        self.send(r);
    }

    fn expn(&mut self, arg: &str) {
        if !self.sync_ok() {
            self.sync_failure();
            return;
        }
        let mut outcome = self.acls.expn(&self.vars, arg);
        self.keep_host_names(outcome.host_names.take());
        if outcome.verdict != AclVerdict::Accept {
            self.acl_fail(AclWhere::Expn, &outcome, arg);
            return;
        }
        let a = if arg.contains('@') { arg.to_string() } else { format!("{arg}@{}", self.cfg.qualify_recipient) };
        let r = reply("250", &format!("<{a}>"));
        self.send(r);
    }

    fn etrn(&mut self, arg: &str) {
        if !self.sync_ok() {
            self.sync_failure();
            return;
        }
        if self.vars.sender_address.is_some() {
            self.synprot_error(503, None, "ETRN is not permitted inside a transaction", false);
            return;
        }
        if self.cfg.log_selector.etrn {
            let h = self.vars.host_and_ident(false);
            self.log(Targets::MAIN, format!("ETRN {arg} received from {h}"));
        }
        let mut outcome = self.acls.etrn(&self.vars, arg);
        self.keep_host_names(outcome.host_names.take());
        if outcome.verdict != AclVerdict::Accept {
            self.acl_fail(AclWhere::Etrn, &outcome, arg);
            return;
        }
        let ok = match &outcome.user_message {
            Some(m) => user_reply(250, m),
            None => b"250 OK\r\n".to_vec(),
        };
        let Some(command) = self.cfg.smtp_etrn_command.clone() else {
            // Without smtp_etrn_command only the "#" form is meaningful;
            // Exim would run "exim -R", a queue run, which rexim has not.
            if !arg.starts_with('#') {
                self.synprot_error(501, None, t::ETRN_HASH, true);
                return;
            }
            self.trace_line("ETRN command is: exim -R");
            if matches!(self.mode, SessionMode::HostCheck) {
                self.trace_line("ETRN command execution skipped");
            }
            self.send(ok);
            return;
        };
        let argv = match self.etrn_argv(&command, arg) {
            Ok(a) => a,
            Err(e) => {
                self.log(Targets::PANIC, format!("failed to set up ETRN command: {e}"));
                self.send_str(t::ETRN_FAILED);
                return;
            }
        };
        if matches!(self.mode, SessionMode::HostCheck) {
            self.trace_line(&format!("ETRN command is: {command}"));
            self.trace_line("ETRN command execution skipped");
            self.send(ok);
            return;
        }
        self.events.push(Event::Command { argv, shown: command, what: "ETRN" });
        self.send(ok);
    }

    /// Exim's transport_set_up_command() for ETRN: the command split into
    /// arguments (white space; double quotes with escapes, single quotes
    /// verbatim), each expanded with `$domain` the ETRN argument, which is
    /// tainted and so refused in an argument, as in Exim 4.96.
    fn etrn_argv(&mut self, command: &str, arg: &str) -> Result<Vec<String>, String> {
        let mut argv = Vec::new();
        let mut s = command.trim_start();
        while !s.is_empty() {
            let item = if let Some(rest) = s.strip_prefix('\'') {
                let n = rest.find('\'').unwrap_or(rest.len());
                s = rest.get(n + 1..).unwrap_or("");
                rest[..n].to_string()
            } else {
                let (item, rest) = crate::config::string_dequote(s);
                s = rest;
                item
            };
            argv.push(item);
            s = s.trim_start();
        }
        let headers = Vec::new();
        let mut base = self.context(&headers);
        let mut ctx = crate::expand::WithAddressParts { inner: &mut base, local_part: "", domain: arg };
        for (i, a) in argv.iter_mut().enumerate() {
            let failed = |e: crate::expand::ExpandError| format!("Expansion of \"{a}\" (command argument {i}) failed: {}", e.message());
            let compiled = crate::expand::compile(a).map_err(failed)?;
            let (value, tainted) = crate::expand::Evaluator::new(&mut ctx).seq_t(&compiled.nodes).map_err(failed)?;
            if tainted {
                return Err(format!("Tainted arg {i} for ETRN processing command: '{value}'"));
            }
            *a = value;
        }
        Ok(argv)
    }

    fn help(&mut self) {
        let mut list = String::from(" AUTH");
        if self.vars.tls.cipher.is_none() && self.host_in("tls_advertise_hosts") {
            list.push_str(" STARTTLS");
        }
        list.push_str(" HELO EHLO MAIL RCPT DATA BDAT NOOP QUIT RSET HELP");
        if self.cfg.acl_smtp_etrn.is_some() {
            list.push_str(" ETRN");
        }
        if self.cfg.acl_smtp_expn.is_some() {
            list.push_str(" EXPN");
        }
        if self.cfg.acl_smtp_vrfy.is_some() {
            list.push_str(" VRFY");
        }
        self.send_str(&format!("214-Commands supported:\r\n214{list}\r\n"));
    }

    fn starttls(&mut self, arg: &str) {
        if !self.adv.tls {
            self.synprot_error(503, None, t::TLS_ALREADY, false);
            return;
        }
        if !arg.is_empty() {
            self.synprot_error(501, None, t::UNEXPECTED_ARG, true);
            return;
        }
        let mut outcome = self.acls.starttls(&self.vars);
        self.keep_host_names(outcome.host_names.take());
        if outcome.verdict != AclVerdict::Accept {
            self.acl_fail(AclWhere::Starttls, &outcome, "");
            return;
        }
        // Anything pipelined after STARTTLS was sent in clear: discard it.
        self.input.clear();
        self.input_discarded = true;
        self.state = State::AwaitTls;
        self.events.push(Event::StartTls);
    }

    /// Whether STARTTLS discarded the pipelined input since the last call:
    /// a driver feeding what it read in pieces drops the rest of it, as
    /// Exim empties its input buffer.
    pub fn take_input_discarded(&mut self) -> bool {
        std::mem::take(&mut self.input_discarded)
    }

    /// The driver set up TLS for the connection (`Ok`: the handshake can
    /// start) or could not: as Exim, the client is told 454 and the
    /// session goes on in clear.
    pub fn tls_setup(&mut self, result: Result<(), crate::tls::SetupError>) -> Vec<Event> {
        match result {
            Ok(()) => {
                self.send_str(t::TLS_GO_AHEAD);
                self.events.push(Event::TlsHandshake);
            }
            Err(e) => {
                for (targets, line) in t::tls_setup_error(&self.vars.host_and_ident(false), &e) {
                    self.log(targets, line);
                }
                self.send_str(t::TLS_UNAVAILABLE);
                self.state = State::ExpectCommand;
                self.process();
            }
        }
        self.take_events()
    }

    /// `tls_certificate` and `tls_privatekey` expanded for this connection
    /// (Exim's tls_expand_session_files).
    pub fn tls_files(&self) -> Result<Option<(String, String)>, String> {
        let headers: Vec<String> = Vec::new();
        super::context::tls_files(&mut self.context(&headers))
    }

    /// The driver finished the TLS handshake (`Ok`) or failed (`Err`).
    pub fn tls_started(&mut self, result: Result<TlsInfo, String>) -> Vec<Event> {
        match result {
            Ok(info) => {
                self.vars.tls = info;
                // RFC 3207: forget everything learnt before TLS.
                self.helo_seen = false;
                self.vars.esmtp = false;
                self.vars.sender_helo_name = None;
                self.adv = Advertised::default();
                self.nonmail.tls_started();
                self.reset_transaction();
                self.state = State::ExpectCommand;
                self.process();
            }
            Err(e) => {
                let h = self.vars.host_and_ident(false);
                self.log(Targets::MAIN, format!("TLS error on connection from {h} ({e})"));
                self.close();
            }
        }
        self.take_events()
    }

    fn auth(&mut self, arg: &str) {
        if !self.adv.auth {
            self.synprot_error(503, None, t::AUTH_NOT_ADVERTISED, false);
            return;
        }
        if self.vars.sender_host_authenticated.is_some() {
            self.synprot_error(503, None, t::AUTH_ALREADY, false);
            return;
        }
        if self.vars.sender_address.is_some() {
            self.synprot_error(503, None, "not permitted in mail transaction", false);
            return;
        }
        let mut words = arg.split_whitespace();
        let mech = words.next().unwrap_or("").to_string();
        let initial = words.next().map(String::from);
        let mut outcome = self.acls.auth(&self.vars, &mech);
        self.keep_host_names(outcome.host_names.take());
        if outcome.verdict != AclVerdict::Accept {
            self.acl_fail(AclWhere::Auth, &outcome, "");
            return;
        }
        let Some(idx) = self.auths.iter().position(|a| a.is_server() && a.public_name().eq_ignore_ascii_case(&mech)) else {
            self.synprot_error(504, None, &format!("{mech} authentication mechanism not supported"), true);
            return;
        };
        let auths = self.auths.clone();
        let mut trace = Vec::new();
        let (state, step) = {
            let mut exp = self.auth_expander(auths[idx].name(), &mut trace);
            auths[idx].start(initial.as_deref(), &mut exp)
        };
        for line in trace {
            self.trace_line(&line);
        }
        self.auth_step(idx, state, step);
    }

    /// The expander for authenticator options; with a -bh trace, the
    /// server_condition's lines (Exim's auth_check_serv_cond) go to
    /// `trace` for the caller to write.
    fn auth_expander<'a>(
        &'a self,
        name: &'a str,
        trace: &'a mut Vec<String>,
    ) -> impl FnMut(&str, &str, &[String]) -> Result<Option<String>, String> + 'a {
        let tracing = self.trace.is_some();
        move |label: &str, s: &str, values: &[String]| {
            let headers: Vec<String> = Vec::new();
            let mut ctx = self.context(&headers);
            for (i, v) in values.iter().enumerate() {
                ctx.extra.insert(format!("auth{}", i + 1), v.clone());
            }
            let traced = tracing && label == "server_condition";
            if traced {
                trace.push(format!("{name} authenticator {label}:"));
                // $auth1..$auth4 exist; $1.. are as many as were given.
                for (i, v) in values.iter().take(4).enumerate() {
                    trace.push(format!("  $auth{} = {v}", i + 1));
                }
                for (i, v) in values.iter().enumerate() {
                    trace.push(format!("  ${} = {v}", i + 1));
                }
            }
            // $1, $2... are the values too (Exim's expand_nstring).
            let r = match crate::expand::expand_string_numbered(s, &mut ctx, values) {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.is_forced() => Ok(None),
                Err(e) => Err(e.message().to_string()),
            };
            if traced {
                trace.push(match &r {
                    Ok(Some(v)) => format!("expanded string: {v}"),
                    Ok(None) => "expansion failed: forced failure".to_string(),
                    Err(e) => format!("expansion failed: {e}"),
                });
            }
            r
        }
    }

    fn auth_step(&mut self, idx: usize, state: AuthState, step: AuthStep) {
        let name = self.auths[idx].name().to_string();
        match step.clone() {
            AuthStep::Challenge(c) => {
                self.send_str(&format!("334 {c}\r\n"));
                self.state = State::ExpectAuthResponse { auth: idx, state };
                return;
            }
            AuthStep::Ok(id) => {
                self.vars.sender_host_authenticated = Some(name);
                self.vars.sender_host_auth_pubname = Some(self.auths[idx].public_name().to_string());
                self.vars.authenticated_id = id;
                self.vars.received_protocol = self.protocol();
                self.send_str(t::AUTH_OK);
            }
            AuthStep::Fail(id) => {
                self.send_str(t::AUTH_FAILED);
                let h = self.vars.host_and_ident(false);
                let set_id = id.map(|i| format!(" (set_id={i})")).unwrap_or_default();
                self.log(Targets::REJECT, format!("{name} authenticator failed for {h}: 535 Incorrect authentication data{set_id}"));
            }
            AuthStep::Defer(e) => {
                self.send_str(t::AUTH_DEFER);
                let h = self.vars.host_and_ident(false);
                self.log(Targets::REJECT, format!("{name} authenticator failed for {h}: 435 Unable to authenticate at present: {e}"));
            }
            AuthStep::Cancelled | AuthStep::Bad64 => {
                let text = if step == AuthStep::Cancelled { t::AUTH_CANCELLED } else { t::AUTH_BAD64 };
                let h = self.vars.host_and_ident(false);
                self.log(Targets::REJECT, format!("{name} authenticator failed for {h}: 501 {text}"));
                // A plain reply: Exim does not count these as protocol errors.
                self.send_str(&format!("501 {text}\r\n"));
            }
        }
        if !self.is_closed() {
            self.state = State::ExpectCommand;
        }
    }

    fn auth_response(&mut self) -> bool {
        let Some(line) = self.take_line() else { return false };
        let State::ExpectAuthResponse { auth, state } = std::mem::replace(&mut self.state, State::ExpectCommand) else {
            return false;
        };
        let text = String::from_utf8_lossy(&line).trim().to_string();
        let auths = self.auths.clone();
        let mut trace = Vec::new();
        let (state, step) = {
            let mut exp = self.auth_expander(auths[auth].name(), &mut trace);
            auths[auth].step(state, &text, &mut exp)
        };
        for line in trace {
            self.trace_line(&line);
        }
        self.auth_step(auth, state, step);
        true
    }

    /// Exim's expand_mailmax: `smtp_accept_max_per_connection` for this
    /// connection (leading digits, as atoi reads them; empty is 0).
    fn expand_mailmax(&mut self) -> i64 {
        let text = self.cfg.smtp_accept_max_per_connection.clone();
        let headers: Vec<String> = Vec::new();
        match crate::expand::expand_string(&text, &mut self.context(&headers)) {
            Ok(v) => {
                let v = v.trim_start();
                let digits = v.bytes().take_while(u8::is_ascii_digit).count();
                v[..digits].parse().unwrap_or(0)
            }
            Err(_) => {
                self.log(Targets::PANIC, "failed to expand smtp_accept_max_per_connection".to_string());
                0
            }
        }
    }

    /// `D=` of the connection's log lines (Exim's string_timesince): with
    /// `+millisec`, milliseconds for a connection younger than 5 s.
    fn time_since_start(&self) -> String {
        let t = self.started.elapsed();
        if t.as_secs() >= 5 || !self.cfg.log_selector.millisec {
            return crate::expand::readconf_printtime(t.as_secs() as i64);
        }
        format!("{}.{:03}s", t.as_secs(), t.subsec_millis())
    }

    /// How the connection's own log lines name it (Exim's
    /// smtp_get_connection_info): the host as far as it is known, and the
    /// interface with `+incoming_interface`; for `-bs`, the caller.
    fn connection_info(&self) -> String {
        let v = &self.vars;
        let mut s = match &self.mode {
            SessionMode::Local { .. } => format!("SMTP connection from {}", v.sender_ident.as_deref().unwrap_or("")),
            SessionMode::HostCheck | SessionMode::Remote => format!("SMTP connection from {}", v.fullhost(true)),
        };
        if let (SessionMode::Remote, true, Some(i)) = (&self.mode, v.log_incoming_interface, &v.interface_address) {
            s.push_str(&format!(" I=[{i}]:{}", v.interface_port));
        }
        s
    }

    /// Exim's log line for input that ended inside a chunked message.
    fn lost_in_chunk(&self) -> String {
        let h = self.vars.host_and_ident(false);
        let part = if self.message.in_body { "" } else { " (header)" };
        format!("SMTP connection from {h} lost while reading message data{part}")
    }

    /// The connection ended without QUIT (EOF from the client).
    pub fn eof(&mut self) -> Vec<Event> {
        if self.is_closed() {
            return Vec::new();
        }
        let h = self.vars.host_and_ident(false);
        let d = self.time_since_start();
        let lost = if self.vars.sender_host_address.is_some() { "disconnection" } else { "EOF" };
        // Between commands Exim runs the not-QUIT ACL before it logs.
        let mut after_acl = None;
        match self.state {
            State::ExpectData => {
                let part = if self.message.in_body { "after header" } else { "header" };
                self.log_no_id(Targets::MAIN, format!("SMTP connection from {h} lost while reading message data ({part})"));
            }
            State::ExpectChunk { .. } | State::ExpectBdat | State::ExpectRset => {
                self.log_no_id(Targets::MAIN, self.lost_in_chunk());
            }
            // Exim logs a lost connection only in a transaction: some
            // clients just drop the call instead of sending QUIT.
            _ if self.vars.sender_address.is_some() || !self.vars.recipients.is_empty() => {
                if self.cfg.log_selector.lost_incoming_connection {
                    after_acl = Some(format!("unexpected {lost} while reading SMTP command from {h} D={d}"));
                }
            }
            _ => {
                if self.log_connection {
                    after_acl = Some(format!("{} lost D={d}", self.connection_info()));
                }
            }
        }
        let _ = self.acls.notquit(&self.vars, "connection-lost");
        if let Some(line) = after_acl {
            self.log(Targets::MAIN, line);
        }
        self.log_no_mail();
        // Seen only where the client can still read (-bs, half-closed sockets).
        if self.in_message() {
            self.send_str("421 Lost incoming connection\r\n");
        } else {
            self.send_str(&format!("421 {} lost input connection\r\n", self.cfg.active_hostname()));
        }
        self.state = State::Closed;
        self.take_events()
    }

    /// smtp_receive_timeout expired while waiting for the client.
    pub fn timeout(&mut self) -> Vec<Event> {
        if self.is_closed() {
            return Vec::new();
        }
        let h = self.vars.host_and_ident(false);
        let host = self.cfg.active_hostname().to_string();
        // The line comes before the not-QUIT ACL's own lines.
        let reason = if self.in_message() {
            let s = self.vars.sender_address.clone().unwrap_or_default();
            let line = format!("SMTP data timeout (message abandoned) on connection from {h} F=<{s}>");
            // The message has its id once Exim has closed the header
            // section; a line that could be the last header is closed
            // only by what follows it.
            let m = &self.message;
            let headers_closed = m.in_body && !(m.body_unseparated && m.body_linecount == 1 && self.input.is_empty());
            // Neither this line nor the not-QUIT ACL's show an id the
            // message does not have yet.
            self.vars.log_id = if headers_closed { self.vars.message_id.clone() } else { String::new() };
            self.log_among_acls(Targets::MAIN, line);
            self.send_str(&format!("421 {host} SMTP incoming data timeout - closing connection.\r\n"));
            "data-timeout"
        } else {
            self.log_among_acls(Targets::MAIN, format!("SMTP command timeout on connection from {h}"));
            self.send_str(&format!("421 {host}: SMTP command timeout - closing connection\r\n"));
            "command-timeout"
        };
        let _ = self.acls.notquit(&self.vars, reason);
        self.close();
        self.take_events()
    }

    /// The daemon is stopping: tell an idle client and close.
    pub fn shutdown(&mut self) -> Vec<Event> {
        if self.is_closed() || self.in_message() {
            return Vec::new();
        }
        self.send_str(&format!("421 {} Service not available - closing connection\r\n", self.cfg.active_hostname()));
        self.close();
        self.take_events()
    }

    pub fn pending_close(&self) -> bool {
        self.pending_close
    }

    /// True when the session ended with QUIT (for `-bs`'s exit code).
    pub fn quit_seen(&self) -> bool {
        self.quit_seen
    }
}

/// The Exim user and group (`exim_user`, `exim_group`; names or numbers),
/// looked up once per setting: the password and group files are not read
/// for every message.
fn exim_identity(cfg: &SmtpConfig) -> (String, u32, u32) {
    type Known = Option<((String, String), (String, u32, u32))>;
    static KNOWN: std::sync::Mutex<Known> = std::sync::Mutex::new(None);
    let key = (cfg.exim_user.clone(), cfg.exim_group.clone());
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((k, id)) = known.as_ref() {
        if *k == key {
            return id.clone();
        }
    }
    let id = look_up_exim_identity(cfg);
    *known = Some((key, id.clone()));
    id
}

fn look_up_exim_identity(cfg: &SmtpConfig) -> (String, u32, u32) {
    let user = std::ffi::CString::new(cfg.exim_user.as_str()).unwrap_or_default();
    let group = std::ffi::CString::new(cfg.exim_group.as_str()).unwrap_or_default();
    // SAFETY: getpwnam/getgrnam take NUL-terminated names and return NULL
    // or pointers to static records, read at once.
    let (uid, user_gid) = match cfg.exim_user.parse::<u32>() {
        // SAFETY: as above.
        Ok(n) => (Some(n), unsafe {
            let pw = libc::getpwuid(n);
            (!pw.is_null()).then(|| (*pw).pw_gid)
        }),
        Err(_) => unsafe {
            let pw = libc::getpwnam(user.as_ptr());
            if pw.is_null() {
                (None, None)
            } else {
                (Some((*pw).pw_uid), Some((*pw).pw_gid))
            }
        },
    };
    let gid = match cfg.exim_group.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => unsafe {
            let gr = libc::getgrnam(group.as_ptr());
            if gr.is_null() {
                user_gid
            } else {
                Some((*gr).gr_gid)
            }
        },
    };
    match (uid, gid) {
        (Some(u), Some(g)) => {
            // SAFETY: getpwuid returns NULL or a pointer to a static record.
            let name = unsafe {
                let pw = libc::getpwuid(u);
                if pw.is_null() {
                    cfg.exim_user.clone()
                } else {
                    std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned()
                }
            };
            (name, u, g)
        }
        // No such user here: the process's own identity.
        _ => process_identity(),
    }
}

/// The process's login, uid and gid, looked up once: the daemon's do
/// not change, and getpwuid reads /etc/passwd on every call.
fn process_identity() -> (String, u32, u32) {
    static IDENTITY: std::sync::OnceLock<(String, u32, u32)> = std::sync::OnceLock::new();
    IDENTITY.get_or_init(look_up_identity).clone()
}

fn look_up_identity() -> (String, u32, u32) {
    // SAFETY: these libc calls have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let login = super::caller::password_entry(uid).map_or_else(|| uid.to_string(), |(login, _)| login);
    (login, uid, gid)
}

/// Decode base64 as AUTH data does (for tests and drivers).
pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// RFC 3461 xtext: `+HH` stands for the byte HH.
fn xtext_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'+' && i + 2 < b.len() + 0 && i + 2 <= b.len() - 1 {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod split_tests {
    use super::split_message;

    /// Replies recorded from Exim 4.96 for `deny message = ...` in RCPT.
    #[test]
    fn long_messages_split_as_exim_does() {
        let w = "123456789 ".repeat(7);
        assert_eq!(split_message(&format!("{w}123456 8 9")), format!("{}\n123456 8 9", w.trim_end()));
        assert_eq!(split_message(&format!("{w}1234 67 9")), format!("{w}1234\n67 9"));
        let long = "1234567890".repeat(8) + "12345";
        assert_eq!(split_message(&format!("{w}12345 7 9 {long} x")), format!("{w}12345\n7 9 {long}\nx"));
        assert_eq!(split_message(&format!("550 5.7.1 {w}12345 7 9")), format!("550 5.7.1 {}\n123456789 12345 7 9", "123456789 ".repeat(6).trim_end()));
        assert_eq!(split_message("short: text"), "short: text");
        // Exim's test 0555 (the fake rejection's default text, a long fakedefer text).
        assert_eq!(
            split_message("Your message has been rejected but is being kept for evaluation.\nIf it was a legitimate message, it may still be delivered to the target recipient(s)."),
            "Your message has been rejected but is being kept for evaluation.\nIf it was a legitimate message, it may still be delivered to the target\nrecipient(s)."
        );
        assert_eq!(
            split_message("This is a rather long customised message that should get automatically split up into more than one response line."),
            "This is a rather long customised message that should get automatically\nsplit up into more than one response line."
        );
    }
}

/// An ACL's added header line as it is stored: ending in one newline.
fn header_line(h: &str) -> String {
    if h.ends_with('\n') {
        h.to_string()
    } else {
        format!("{h}\n")
    }
}

/// ACL-added header lines as Exim adds them: an identical line once.
fn once_each<'a>(lines: impl IntoIterator<Item = &'a String>) -> Vec<&'a String> {
    let mut kept: Vec<&String> = Vec::new();
    for h in lines {
        if !kept.contains(&h) {
            kept.push(h);
        }
    }
    kept
}

/// The Date: header Exim adds: RFC 2822 local time.
fn rfc822_date() -> String {
    chrono::Local::now().format("%a, %d %b %Y %H:%M:%S %z").to_string()
}
