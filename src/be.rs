//! `-be`: the expansion tester, and the context it expands in (no
//! connection, no message: only the configuration and the process).

use std::collections::HashMap;
use std::io::{BufRead, Write};

use crate::expand::{self, Context, ExpandError, Found, ListKind};
use crate::lists::{self, Expanded, ListContext, NamedCaching, NamedList, NamedListCache};
use crate::lookups::{self, LookupEnv, Lookups};

/// What the configuration supplies to an expansion outside any message.
pub trait ConfigView {
    /// A main option's value as the expansion variable of the same name
    /// shows it, or `None` when unset.
    fn option(&self, name: &str) -> Option<String>;
    fn config_file(&self) -> String;
    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)>;
    /// Macro substitution in `-be` input lines, as Exim does.
    fn expand_macros<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str>;
    /// A `NAME = value` (or `==`) line typed to `-be`; the error is
    /// Exim's. Ok is the name Exim reports: that of the newest macro,
    /// which is not the one a `==` line redefined.
    fn define_macro(&mut self, line: &str) -> Result<String, String>;
}

/// What lives from one `-be` line to the next: variables that expansions
/// set, the lookup state (caches, connections) and named-list results.
pub struct BeState {
    pub extra: HashMap<String, String>,
    /// Variables whose values came from the command line (`-oMa`...).
    pub tainted: Vec<&'static str>,
    pub lookups: Lookups,
    pub named_cache: NamedListCache,
    /// The configuration's ACLs, for `${acl}` and the `acl` condition.
    pub acls: std::sync::Arc<crate::acl::AclStore>,
    /// `$acl_c*` and `$acl_m*` set by those ACLs.
    pub acl_state: crate::acl::AclState,
    no_expand: lookups::NoExpand,
    /// `${readsocket}` names whose connect failed (see
    /// `Context::leave_stale_socket`).
    stale_sockets: std::collections::HashSet<String>,
    /// Variables computed from the configuration alone (see
    /// CONFIG_VARIABLES), kept once computed: the configuration does not
    /// change during a run, and reading an option costs a search.
    config_variables: std::cell::RefCell<Vec<(&'static str, String)>>,
}

/// The computed variables whose values depend on the configuration only.
const CONFIG_VARIABLES: [&str; 10] = [
    "bounce_return_size_limit",
    "config_dir",
    "config_file",
    "exim_path",
    "primary_hostname",
    "qualify_domain",
    "qualify_recipient",
    "return_size_limit",
    "smtp_active_hostname",
    "spool_directory",
];

impl BeState {
    pub fn new(origin: &[(&'static str, String)], lookups: Lookups, acls: crate::acl::AclStore) -> BeState {
        BeState {
            extra: origin.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            tainted: origin.iter().map(|(k, _)| *k).collect(),
            lookups,
            named_cache: NamedListCache::default(),
            acls: std::sync::Arc::new(acls),
            acl_state: crate::acl::AclState::new(),
            no_expand: lookups::NoExpand,
            stale_sockets: Default::default(),
            config_variables: Default::default(),
        }
    }
}

/// The context of `-be` and of expansions done outside a session.
pub struct BaseContext<'a> {
    pub config: &'a mut dyn ConfigView,
    pub state: &'a mut BeState,
}

fn primary_hostname_default() -> String {
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname fills the struct we own.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return "localhost".into();
    }
    // SAFETY: nodename is NUL-terminated by uname.
    unsafe { std::ffi::CStr::from_ptr(uts.nodename.as_ptr()) }.to_string_lossy().into_owned()
}

fn statvfs_of(path: &str) -> Option<(u64, u64)> {
    let c = std::ffi::CString::new(path).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs fills the struct we own.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let kbytes = st.f_bavail as u64 * st.f_frsize as u64 / 1024;
    Some((kbytes, st.f_favail as u64))
}

impl BaseContext<'_> {
    fn primary_hostname(&self) -> String {
        self.config.option("primary_hostname").unwrap_or_else(primary_hostname_default)
    }

    fn qualify_domain(&self) -> String {
        self.config.option("qualify_domain").filter(|s| !s.is_empty()).unwrap_or_else(|| self.primary_hostname())
    }

    fn spool_directory(&self) -> String {
        self.config.option("spool_directory").unwrap_or_else(|| "/var/spool/exim4".into())
    }

    fn computed(&self, name: &str) -> Option<String> {
        if let Some(tod) = name.strip_prefix("tod_") {
            return tod_variable(tod);
        }
        // SAFETY: these libc calls have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        Some(match name {
            "primary_hostname" | "smtp_active_hostname" => self.primary_hostname(),
            "qualify_domain" => self.qualify_domain(),
            "qualify_recipient" => self
                .config
                .option("qualify_recipient")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| self.qualify_domain()),
            "spool_directory" => self.spool_directory(),
            "config_file" => self.config.config_file(),
            "config_dir" => {
                let f = self.config.config_file();
                match f.rfind('/') {
                    Some(0) => "/".into(),
                    Some(i) => f[..i].to_string(),
                    None => ".".into(),
                }
            }
            "exim_path" => self.config.option("exim_path").unwrap_or_else(|| {
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default()
            }),
            "exim_version" | "version_number" => crate::texts::EXIM_VERSION.into(),
            "compile_number" => "1".into(),
            "compile_date" => crate::texts::COMPILE_DATE.into(),
            "bounce_return_size_limit" | "return_size_limit" => {
                self.config.option("bounce_return_size_limit").unwrap_or_else(|| "102400".into())
            }
            "caller_uid" | "originator_uid" => uid.to_string(),
            "caller_gid" | "originator_gid" => gid.to_string(),
            "exim_uid" => uid.to_string(),
            "exim_gid" => gid.to_string(),
            "local_user_uid" | "local_user_gid" => u32::MAX.to_string(),
            "pid" => std::process::id().to_string(),
            "authenticated_id" | "sender_ident" | "sender_address_local_part" => login_name(uid),
            "sender_address" | "authenticated_sender" => format!("{}@{}", login_name(uid), self.qualify_domain()),
            "sender_address_domain" => self.qualify_domain(),
            "initial_cwd" => crate::environment::initial_cwd().to_string(),
            "load_average" => {
                let mut avg = [0f64; 1];
                // SAFETY: getloadavg writes at most one value into our array.
                let n = unsafe { libc::getloadavg(avg.as_mut_ptr(), 1) };
                if n < 1 { "-1".into() } else { ((avg[0] * 1000.0) as i64).to_string() }
            }
            "spool_space" => statvfs_of(&self.spool_directory()).map(|s| s.0.to_string()).unwrap_or("-1".into()),
            "spool_inodes" => statvfs_of(&self.spool_directory()).map(|s| s.1.to_string()).unwrap_or("-1".into()),
            "log_space" => statvfs_of(&self.spool_directory()).map(|s| s.0.to_string()).unwrap_or("-1".into()),
            "log_inodes" => statvfs_of(&self.spool_directory()).map(|s| s.1.to_string()).unwrap_or("-1".into()),
            _ => return None,
        })
    }
}

/// `$tod_*`: the time of day in Exim's formats.
fn tod_variable(which: &str) -> Option<String> {
    let now = chrono::Local::now();
    Some(match which {
        "bsdinbox" => now.format("%a %b %e %H:%M:%S %Y").to_string(),
        "epoch" => now.timestamp().to_string(),
        "epoch_l" => now.timestamp_micros().to_string(),
        "full" => now.format("%a, %d %b %Y %H:%M:%S %z").to_string(),
        "log" => now.format("%Y-%m-%d %H:%M:%S").to_string(),
        "logfile" => now.format("%Y%m%d").to_string(),
        "zone" => now.format("%z").to_string(),
        "zulu" => chrono::Utc::now().format("%Y%m%d%H%M%SZ").to_string(),
        _ => return None,
    })
}

/// The user's home directory from the password file: the environment
/// may have been emptied by keep_environment.
fn home_directory() -> Option<std::path::PathBuf> {
    // SAFETY: getpwuid returns NULL or a pointer to a static record, which
    // we copy at once.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() || (*pw).pw_dir.is_null() {
            return None;
        }
        let dir = std::ffi::CStr::from_ptr((*pw).pw_dir).to_string_lossy().into_owned();
        Some(std::path::PathBuf::from(dir))
    }
}

fn login_name(uid: libc::uid_t) -> String {
    // SAFETY: getpwuid returns NULL or a pointer to a static record.
    unsafe {
        let pw = libc::getpwuid(uid);
        if pw.is_null() {
            return uid.to_string();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned()
    }
}

impl Context for BaseContext<'_> {
    fn variable(&self, name: &str) -> Option<String> {
        if let Some(v) = self.state.extra.get(name) {
            return Some(v.clone());
        }
        if name.starts_with("acl_") {
            if let Some(v) = self.state.acl_state.get_var(name) {
                return Some(v.clone());
            }
        }
        if let Some((_, v)) = self.state.config_variables.borrow().iter().find(|(n, _)| *n == name) {
            return Some(v.clone());
        }
        if let expand::variables::Default::Computed = expand::variables::default_of(name) {
            let v = self.computed(name);
            if let (Some(v), Some(n)) = (&v, CONFIG_VARIABLES.iter().find(|n| **n == name)) {
                self.state.config_variables.borrow_mut().push((n, v.clone()));
            }
            return v;
        }
        None
    }

    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)> {
        self.config.named_list(kind, name)
    }

    fn config_option(&self, name: &str) -> Option<String> {
        self.config.option(name)
    }

    fn lookup(&mut self, key: Option<&str>, search_type: &str, query: &str) -> Result<Option<Found>, ExpandError> {
        let found = self
            .with_wild_keys(|l, env| lookups::expansion::expansion_lookup(l, env, key, search_type, query))
            .map_err(ExpandError::Failed)?;
        Ok(found.value.map(|v| Found {
            value: Some(v),
            numeric: found.numeric.map(|(a, b)| vec![String::new(), a, b]).unwrap_or_default(),
        }))
    }

    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<Found>, ExpandError> {
        let m = match kind {
            ListKind::Host => lists::match_ip(self, subject, list).map_err(ExpandError::Failed)?,
            ListKind::Domain => lists::match_domain(self, subject, list),
            ListKind::Address => lists::match_address(self, subject, list, true),
            ListKind::LocalPart => lists::match_local_part(self, subject, list, true),
        };
        match lists::expansion_result(list, m) {
            Ok(found) => Ok(found.map(|d| Found { value: d.value, numeric: d.numeric })),
            Err(lists::ExpansionMatchError::Failed(m)) => Err(ExpandError::Failed(m)),
            Err(lists::ExpansionMatchError::PanicDie(m)) => {
                Context::log(self, &m);
                Err(ExpandError::Failed(m))
            }
        }
    }

    fn set_variable(&mut self, name: &str, value: String) {
        self.state.extra.insert(name.to_string(), value);
    }

    fn acl(&mut self, name: &str, args: &[String]) -> Result<String, ExpandError> {
        self.acl_condition(name, args).map(|(_, message)| message)
    }

    fn acl_condition(&mut self, name: &str, args: &[String]) -> Result<(bool, String), ExpandError> {
        let store = self.state.acls.clone();
        let mut acl_state = std::mem::take(&mut self.state.acl_state);
        let (result, _logged) = crate::acl::outside::acl_item(&store, &mut acl_state, self, name, args);
        self.state.acl_state = acl_state;
        result
    }

    fn is_tainted(&self, name: &str) -> bool {
        self.state.tainted.contains(&name)
    }

    fn log(&mut self, line: &str) {
        // Without a message, Exim's log lines in -be go to standard error,
        // as the bytes they stand for.
        let text = format!("{} {line}\n", chrono::Local::now().format("%Y-%m-%d %H:%M:%S"));
        let _ = std::io::stderr().write_all(&crate::bytes::to_bytes(&text));
    }

    fn leave_stale_socket(&mut self, name: &str) {
        self.state.stale_sockets.insert(name.to_string());
    }

    fn take_stale_socket(&mut self, name: &str) -> bool {
        self.state.stale_sockets.remove(name)
    }
}

fn kind_letter(kind: lists::ListKind) -> char {
    match kind {
        lists::ListKind::Domain => 'd',
        lists::ListKind::Host => 'h',
        lists::ListKind::Address => 'a',
        lists::ListKind::LocalPart => 'l',
    }
}

impl ListContext for BaseContext<'_> {
    fn named_list(&self, kind: lists::ListKind, name: &str) -> Option<NamedList> {
        let (_, value) = self.config.named_list(Some(kind_letter(kind)), name)?;
        Some(NamedList { value, caching: NamedCaching::Default })
    }

    fn expand_list(&mut self, text: &str, _kind: lists::ListKind, _subject: &str) -> Expanded {
        match expand::expand_string(text, self) {
            Ok(s) => Expanded::Ok(s),
            Err(ExpandError::ForcedFail(_)) => Expanded::ForcedFail,
            Err(ExpandError::Failed(m)) => Expanded::Error(m),
        }
    }

    fn primary_hostname(&self) -> String {
        self.primary_hostname()
    }

    fn local_interfaces(&self) -> Vec<std::net::IpAddr> {
        local_interface_addresses()
    }

    fn hosts_treat_as_local(&self) -> Option<String> {
        self.config.option("hosts_treat_as_local").filter(|v| !v.is_empty())
    }

    fn lookups(&mut self) -> (&mut Lookups, &mut dyn LookupEnv) {
        // Only for callers that do no lookups through it (list_lookup
        // below does them): the lookup state and an expander cannot both
        // borrow this context.
        let state = &mut *self.state;
        (&mut state.lookups, &mut state.no_expand)
    }

    fn list_lookup(&mut self, spec: &lookups::LookupSpec, arg: &str, key: Option<&str>) -> Result<lookups::Found, lookups::LookupError> {
        self.with_wild_keys(|l, env| match key {
            None => Ok(l.query(spec, arg, env)),
            Some(k) => l.find(spec, arg, k, env),
        })
    }

    fn sender_host_names(&mut self) -> Option<Vec<String>> {
        self.state.extra.get("sender_host_name").filter(|n| !n.is_empty()).map(|n| vec![n.clone()])
    }

    fn named_cache(&mut self) -> &mut NamedListCache {
        &mut self.state.named_cache
    }

    fn log(&mut self, line: &str, _panic: bool) {
        Context::log(self, line);
    }
}

impl BaseContext<'_> {
    /// Run a lookup whose wildlsearch keys are expanded in this context,
    /// which cannot lend its lookup state at the same time: the state is
    /// moved out for the lookup (an expansion inside a key sees an empty
    /// one).
    fn with_wild_keys<R>(&mut self, f: impl FnOnce(&mut Lookups, &mut dyn LookupEnv) -> R) -> R {
        let resolver = self.state.lookups.resolver();
        let mut l = std::mem::replace(&mut self.state.lookups, Lookups::new(resolver));
        let r = f(&mut l, &mut WildKeys(self));
        let inner = std::mem::replace(&mut self.state.lookups, l);
        self.state.lookups.log.extend(inner.log);
        r
    }
}

/// The expander a lookup uses for wildlsearch keys.
struct WildKeys<'c, 'a>(&'c mut BaseContext<'a>);

impl LookupEnv for WildKeys<'_, '_> {
    fn expand(&mut self, s: &str) -> Expanded {
        ListContext::expand_list(self.0, s, lists::ListKind::Domain, "")
    }
}

/// The addresses of this host's interfaces (for `@[]` in lists).
pub(crate) fn local_interface_addresses() -> Vec<std::net::IpAddr> {
    let mut out = Vec::new();
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs allocates a list we walk and then free; every
    // pointer is checked before use.
    unsafe {
        if libc::getifaddrs(&mut ifap) != 0 {
            return out;
        }
        let mut p = ifap;
        while !p.is_null() {
            let a = (*p).ifa_addr;
            if !a.is_null() {
                match i32::from((*a).sa_family) {
                    libc::AF_INET => {
                        let sin = &*(a as *const libc::sockaddr_in);
                        out.push(std::net::IpAddr::from(u32::from_be(sin.sin_addr.s_addr).to_be_bytes()));
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*(a as *const libc::sockaddr_in6);
                        out.push(std::net::IpAddr::from(sin6.sin6_addr.s6_addr));
                    }
                    _ => {}
                }
            }
            p = (*p).ifa_next;
        }
        libc::freeifaddrs(ifap);
    }
    out
}

/// Run `-be`: expand each argument, or else each line of standard input.
/// `-f`: the sender for `$sender_address` (the caller is trusted in
/// `-be`). `<>` is the empty sender; an unqualified one gets
/// `qualify_domain`; the value is tainted, as it came from the command line.
pub fn set_sender(config: &mut dyn ConfigView, state: &mut BeState, sender: &str) {
    let sender = sender.trim();
    let address = if sender.is_empty() || sender == "<>" {
        String::new()
    } else {
        let parsed = expand::parse_address(sender).unwrap_or_default();
        if parsed.is_empty() || parsed.contains('@') {
            parsed
        } else {
            let ctx = BaseContext { config: &mut *config, state: &mut *state };
            let domain = Context::variable(&ctx, "qualify_domain").unwrap_or_default();
            format!("{parsed}@{domain}")
        }
    };
    state.extra.insert("sender_address".into(), address);
    state.tainted.push("sender_address");
}

pub fn run(config: &mut dyn ConfigView, state: &mut BeState, args: &[String]) -> i32 {
    // Each line makes and drops a few small strings (crate::alloc).
    crate::alloc::cache_on_this_thread();
    let stdout = std::io::stdout();
    // Rust's stdout flushes at every newline; buffer it and flush when
    // a person is waiting for the prompt.
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !args.is_empty() {
        // An argument can define a macro too.
        for a in args {
            test_line(config, state, crate::bytes::until_nul(a), &mut out, &mut String::new());
        }
        return 0;
    }
    let stdin = std::io::stdin();
    if std::io::IsTerminal::is_terminal(&stdin) {
        drop(out);
        return interactive(config, state);
    }
    // A pipe is read in large pieces, and needs no flush per line.
    let mut input = std::io::BufReader::with_capacity(1 << 16, stdin.lock());
    // One line buffer for the whole run: no allocation per line.
    let mut raw = Vec::new();
    let mut line = String::new();
    let mut result = String::new();
    loop {
        let _ = out.write_all(b"> ");
        if !read_logical_line(&mut input, &mut raw, &mut line) {
            let _ = out.write_all(b"\n");
            break;
        }
        test_line(config, state, &line, &mut out, &mut result);
    }
    0
}

/// One line of `-be` (Exim's expansion_test_line): macros are substituted
/// (not in the name of a macro the line defines); a line that then starts
/// with an upper-case letter defines a macro, or fails to; any other line
/// is expanded. The result is written as the bytes it stands for.
fn test_line(config: &mut dyn ConfigView, state: &mut BeState, line: &str, out: &mut impl Write, result: &mut String) {
    let line = config.expand_macros(line);
    if defines_macro(&line) {
        match config.define_macro(&line) {
            Ok(name) => {
                let _ = writeln!(out, "Defined macro '{name}'");
            }
            Err(e) => {
                // The prompt before the error on the terminal.
                let _ = out.flush();
                macro_error(&e);
            }
        }
        return;
    }
    expand_line_into(config, state, &line, result);
    let _ = out.write_all(&crate::bytes::to_bytes(result));
    let _ = out.write_all(b"\n");
}

/// `-be` at a terminal: line editing and a history kept in
/// ~/.rexim_history (beyond Exim, which reads plain lines).
fn interactive(config: &mut dyn ConfigView, state: &mut BeState) -> i32 {
    let Ok(mut editor) = rustyline::DefaultEditor::new() else {
        return 1;
    };
    let history = home_directory().map(|h| h.join(".rexim_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut pending = String::new();
    loop {
        let line = match editor.readline(if pending.is_empty() { "> " } else { "" }) {
            Ok(l) => l,
            Err(_) => break,
        };
        let mut piece = line.trim_end();
        if !pending.is_empty() {
            piece = piece.trim_start();
        }
        if let Some(p) = piece.strip_suffix('\\') {
            pending.push_str(p);
            continue;
        }
        pending.push_str(piece);
        let logical = std::mem::take(&mut pending);
        let _ = editor.add_history_entry(logical.as_str());
        test_line(config, state, &logical, &mut std::io::stdout().lock(), &mut String::new());
    }
    println!();
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    0
}

fn expand_line_into(config: &mut dyn ConfigView, state: &mut BeState, line: &str, result: &mut String) {
    let mut ctx = BaseContext { config, state };
    if let Err(e) = expand::expand_into(line, &mut ctx, result) {
        result.clear();
        result.push_str("Failed: ");
        result.push_str(&e.message());
    }
}

/// Exim reads `-be` input with fgets() into a 1024-byte buffer, so a
/// longer line arrives in pieces that are taken as separate lines.
const FGETS_MAX: usize = 1023;

/// Read one fgets() piece into `raw`; false at the end of the input.
/// A NUL ends the piece as a C string (the rest up to the newline is
/// read and dropped).
fn fgets(input: &mut impl BufRead, raw: &mut Vec<u8>) -> bool {
    raw.clear();
    let mut nul = None;
    while raw.len() < FGETS_MAX {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(_) => break,
        };
        if buf.is_empty() {
            break;
        }
        let room = FGETS_MAX - raw.len();
        let window = &buf[..buf.len().min(room)];
        // One search finds the newline, or a NUL first (rare).
        let mut end = memchr::memchr2(b'\n', 0, window);
        if let Some(i) = end.filter(|&i| window[i] == 0) {
            nul.get_or_insert(raw.len() + i);
            end = memchr::memchr(b'\n', &window[i..]).map(|j| i + j);
        }
        let take = end.map(|i| i + 1).unwrap_or(window.len());
        raw.extend_from_slice(&buf[..take]);
        input.consume(take);
        if raw.last() == Some(&b'\n') {
            break;
        }
    }
    let read = !raw.is_empty();
    if let Some(n) = nul {
        raw.truncate(n);
    }
    read
}

/// Read one input line into `line`, with trailing white space removed; a
/// line ending in `\` is joined to the next, whose leading white space is
/// dropped. False at the end of the input.
fn read_logical_line(input: &mut impl BufRead, raw: &mut Vec<u8>, line: &mut String) -> bool {
    line.clear();
    if read_plain_line(input, line) {
        return true;
    }
    let mut first = true;
    loop {
        if !fgets(input, raw) {
            return !first;
        }
        // Each piece on its own, as Exim's fgets() pieces are; the bytes
        // are kept as they are (crate::bytes).
        let text = crate::bytes::from_bytes(raw);
        let mut piece = text.trim_end_matches(is_c_space);
        if !first {
            piece = piece.trim_start_matches(is_c_space);
        }
        match piece.strip_suffix('\\') {
            Some(p) => line.push_str(p),
            None => {
                line.push_str(piece);
                return true;
            }
        }
        first = false;
    }
}

/// The common case, taken straight from the input buffer: a whole line
/// of ASCII within one fgets() piece, with no NUL and no `\` at its end.
fn read_plain_line(input: &mut impl BufRead, line: &mut String) -> bool {
    let Ok(buf) = input.fill_buf() else {
        return false;
    };
    let window = &buf[..buf.len().min(FGETS_MAX)];
    let Some(end) = memchr::memchr2(b'\n', 0, window).filter(|&i| window[i] == b'\n') else {
        return false;
    };
    let piece = &window[..end];
    let kept = piece.iter().rposition(|&b| !is_c_space(b as char)).map_or(0, |i| i + 1);
    let piece = &piece[..kept];
    if !piece.is_ascii() || piece.last() == Some(&b'\\') {
        return false;
    }
    // SAFETY: ASCII is UTF-8.
    line.push_str(unsafe { std::str::from_utf8_unchecked(piece) });
    input.consume(end + 1);
    true
}

/// C's isspace(): only ASCII white space (a no-break space stays).
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Exim reports a bad macro line as a time-stamped log line on stderr.
fn macro_error(e: &str) {
    let line = format!("{} {e}\n", chrono::Local::now().format("%Y-%m-%d %H:%M:%S"));
    let _ = std::io::stderr().write_all(&crate::bytes::to_bytes(&line));
}

/// As in Exim, every line that starts with an upper-case letter (after
/// macro substitution) is taken for a macro definition; one that is not
/// well formed (`Abc`, `A${x}`) is an error, not an expansion.
fn defines_macro(line: &str) -> bool {
    line.starts_with(|c: char| c.is_ascii_uppercase())
}

/// `-brw`: each argument through the configuration's rewrite rules.
pub fn rewrite_test(config: &mut dyn ConfigView, state: &mut BeState, rules: &crate::rewrite::Rules, args: &[String]) -> i32 {
    let mut ctx = BaseContext { config, state };
    let qualify_recipient = ctx.computed("qualify_recipient").unwrap_or_default();
    let mut out = std::io::stdout().lock();
    for a in args {
        let report = crate::rewrite::test::test(rules, a, &qualify_recipient, &mut BeRewrite { ctx: &mut ctx });
        let _ = out.write_all(&crate::bytes::to_bytes(&report));
    }
    0
}

/// Rewriting outside a message: expansions and lists in the `-be` context.
struct BeRewrite<'a, 'b> {
    ctx: &'a mut BaseContext<'b>,
}

impl crate::rewrite::RewriteEnv for BeRewrite<'_, '_> {
    fn expand(&mut self, text: &str, parts: Option<(&str, &str)>, numeric: Vec<String>) -> Result<String, ExpandError> {
        match parts {
            Some((local_part, domain)) => {
                let mut with = expand::WithAddressParts { inner: &mut *self.ctx, local_part, domain };
                expand::expand_string_from_zero(text, &mut with, numeric)
            }
            None => expand::expand_string_from_zero(text, &mut *self.ctx, numeric),
        }
    }

    fn match_address(&mut self, subject: &str, item: &str) -> Option<Vec<String>> {
        rewrite_key_match(&mut *self.ctx, subject, item)
    }

    fn match_regex(&mut self, subject: &str, pattern: &str) -> Option<Vec<String>> {
        let re = lists::regex::compile(pattern, false).ok()?;
        lists::regex::captures(&re, subject).ok().flatten()
    }

    fn log_panic(&mut self, line: &str) {
        Context::log(&mut *self.ctx, line);
    }

    fn log_main(&mut self, line: &str) {
        Context::log(&mut *self.ctx, line);
    }

    fn qualify_recipient(&self) -> String {
        self.ctx.computed("qualify_recipient").unwrap_or_default()
    }

    fn log_rewrites(&self) -> bool {
        let selector = self.ctx.config.option("log_selector").unwrap_or_default();
        crate::smtp::config::LogSelector::parse(&selector).address_rewrite
    }

    fn headers_charset(&self) -> String {
        self.ctx.config.option("headers_charset").unwrap_or_else(|| "UTF-8".into())
    }
}

/// A rewrite rule's pattern is an address list of that one item, matched
/// casefully; `$0` is the whole address whatever the item.
pub fn rewrite_key_match(ctx: &mut dyn lists::ListContext, subject: &str, item: &str) -> Option<Vec<String>> {
    match lists::match_address_item(ctx, subject, item, false) {
        lists::ListMatch::Match(d) if d.numeric.is_empty() => Some(vec![subject.to_string()]),
        lists::ListMatch::Match(d) => Some(d.numeric),
        _ => None,
    }
}
