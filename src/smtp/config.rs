//! The main options the SMTP layer uses, with Exim 4.96's defaults
//! (Debian's build-time paths), built from a name -> value lookup so the
//! configuration reader can fill it.

use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The `begin rewrite` rules.
    pub rewrite: std::sync::Arc<crate::rewrite::Rules>,
    /// Every option as set, for expansion variables that name options.
    pub options: HashMap<String, String>,
    /// The host and domain list options the session checks, as set or
    /// defaulted (see `LIST_OPTIONS`); an unset option is absent, which
    /// Exim's trace tells from an empty list.
    pub lists: HashMap<&'static str, String>,
    pub primary_hostname: String,
    pub qualify_domain: String,
    pub qualify_recipient: String,
    pub smtp_active_hostname: Option<String>,
    pub smtp_banner: String,
    pub smtp_accept_max: usize,
    pub smtp_accept_max_per_host: Option<String>,
    pub smtp_accept_reserve: usize,
    pub smtp_reserve_hosts: Option<String>,
    pub smtp_connect_backlog: u32,
    pub smtp_receive_timeout: u64,
    pub daemon_smtp_ports: String,
    pub local_interfaces: String,
    pub pid_file_path: String,
    pub message_size_limit: u64,
    /// `message_size_limit` when it needs expanding (per session).
    pub message_size_limit_expand: Option<String>,
    /// `check_spool_space` (in K) and `check_spool_inodes`, checked at
    /// MAIL when `smtp_check_spool_space` is set.
    pub check_spool_space_k: u64,
    pub check_spool_inodes: u64,
    pub smtp_check_spool_space: bool,
    /// How much of the body `$message_body` and `$message_body_end` show.
    pub message_body_visible: usize,
    pub recipients_max: usize,
    /// `recipients_max_reject`: the excess gets 552 (not 452) and the
    /// message is refused at DATA.
    pub recipients_max_reject: bool,
    pub received_headers_max: usize,
    pub smtp_max_synprot_errors: u32,
    pub smtp_max_unknown_commands: u32,
    pub smtp_accept_max_nonmail: u32,
    pub smtp_accept_max_nonmail_hosts: Option<String>,
    /// Clients whose name is looked up at the start of a session.
    pub host_lookup: Option<String>,
    /// How names are looked up: `bydns`, `byaddr`, in order.
    pub host_lookup_order: String,
    /// Clients refused at once with 554.
    pub host_reject_connection: Option<String>,
    /// The daemon's messages are Exim's own: the -H file's originator.
    pub exim_user: String,
    pub exim_group: String,
    /// Who may choose the envelope sender of local input (src/smtp/caller.rs).
    pub trusted_users: Option<String>,
    pub trusted_groups: Option<String>,
    pub untrusted_set_sender: Option<String>,
    /// Exim's header fix-ups for local input from untrusted callers.
    pub local_from_check: bool,
    pub local_from_prefix: Option<String>,
    pub local_from_suffix: Option<String>,
    pub local_sender_retain: bool,
    pub smtp_enforce_sync: bool,
    pub helo_verify_hosts: Option<String>,
    pub hosts_require_helo: Option<String>,
    pub helo_try_verify_hosts: Option<String>,
    pub helo_accept_junk_hosts: Option<String>,
    pub helo_allow_chars: String,
    pub sender_unqualified_hosts: Option<String>,
    pub recipient_unqualified_hosts: Option<String>,
    pub tls_advertise_hosts: Option<String>,
    pub tls_certificate: Option<String>,
    pub tls_privatekey: Option<String>,
    pub tls_verify_hosts: Option<String>,
    /// `hosts_proxy` (`proxy_required_hosts`): hosts that must send a
    /// PROXY header first.
    pub hosts_proxy: Option<String>,
    pub proxy_protocol_timeout: std::time::Duration,
    pub tls_try_verify_hosts: Option<String>,
    pub tls_verify_certificates: Option<String>,
    pub tls_on_connect_ports: Option<String>,
    pub auth_advertise_hosts: Option<String>,
    pub dsn_advertise_hosts: Option<String>,
    pub pipelining_advertise_hosts: Option<String>,
    pub pipelining_connect_advertise_hosts: Option<String>,
    pub chunking_advertise_hosts: Option<String>,
    pub smtputf8_advertise_hosts: Option<String>,
    pub accept_8bitmime: bool,
    pub allow_domain_literals: bool,
    pub received_header_text: String,
    pub spool_directory: String,
    pub log_file_path: String,
    pub log_selector: LogSelector,
    /// Which ACLs are set: ETRN, EXPN and VRFY are advertised only then.
    pub acl_smtp_etrn: Option<String>,
    /// The command ETRN runs (`exim -R` when unset, which rexim does not
    /// run: queue runs are not implemented). `smtp_etrn_serialize` is not
    /// acted on (docs/compat.md).
    pub smtp_etrn_command: Option<String>,
    /// MAIL commands allowed in one connection; expanded after HELO.
    pub smtp_accept_max_per_connection: String,
    /// PRDR is advertised, and its ACL run, with prdr_enable set.
    pub prdr_enable: bool,
    pub acl_smtp_data_prdr: Option<String>,
    pub acl_smtp_expn: Option<String>,
    pub acl_smtp_vrfy: Option<String>,
}

/// Exim 4.96's default `received_header_text`.
pub const DEFAULT_RECEIVED_HEADER_TEXT: &str = "Received: \
${if def:sender_rcvhost {from $sender_rcvhost\\n\\t}\
{${if def:sender_ident {from ${quote_local_part:$sender_ident} }}\
${if def:sender_helo_name {(helo=$sender_helo_name)\\n\\t}}}}\
by $primary_hostname \
${if def:received_protocol {with $received_protocol }}\
${if def:tls_in_ver        { ($tls_in_ver)}}\
${if def:tls_in_cipher_std { tls $tls_in_cipher_std\\n\\t}}\
(Exim $version_number)\\n\\t\
${if def:sender_address {(envelope-from <$sender_address>)\\n\\t}}\
id $message_exim_id\
${if def:received_for {\\n\\tfor $received_for}}";

pub const DEFAULT_SMTP_BANNER: &str = "$smtp_active_hostname ESMTP Exim $version_number $tod_full";
pub const DEFAULT_SPOOL_DIRECTORY: &str = "/var/spool/exim4";
pub const DEFAULT_PID_FILE: &str = "/run/exim4/exim.pid";

/// The `log_selector` items that reception logging looks at.
#[derive(Debug, Clone, Default)]
pub struct LogSelector {
    pub incoming_interface: bool,
    pub incoming_port: bool,
    pub smtp_connection: bool,
    pub received_recipients: bool,
    pub received_sender: bool,
    pub smtp_syntax_error: bool,
    pub smtp_protocol_error: bool,
    pub smtp_no_mail: bool,
    pub smtp_incomplete_transaction: bool,
    pub lost_incoming_connection: bool,
    pub tls_cipher: bool,
    pub tls_peerdn: bool,
    pub tls_sni: bool,
    pub tls_certificate_verified: bool,
    pub proxy: bool,
    pub msg_id: bool,
    pub size: bool,
    pub subject: bool,
    pub pipelining: bool,
    pub rejected_header: bool,
    pub host_lookup_failed: bool,
    pub connection_reject: bool,
    /// ETRN commands (on by default).
    pub etrn: bool,
    /// Milliseconds in log time stamps.
    pub millisec: bool,
    /// `list matching forced to fail: ...` for a list item that cannot be checked.
    pub unknown_in_list: bool,
    /// A line for each address rewrite.
    pub address_rewrite: bool,
}

impl LogSelector {
    /// Exim's default selection, changed by `+name` / `-name` items.
    pub fn parse(text: &str) -> LogSelector {
        let mut s = LogSelector {
            lost_incoming_connection: true,
            tls_cipher: true,
            tls_certificate_verified: true,
            msg_id: true,
            size: true,
            rejected_header: true,
            host_lookup_failed: true,
            connection_reject: true,
            etrn: true,
            ..Default::default()
        };
        // Items are `+name` / `-name`, with or without white space between.
        let items = text.split_whitespace().flat_map(|w| {
            let starts: Vec<usize> = w.match_indices(['+', '-']).map(|(i, _)| i).collect();
            let bounds: Vec<(usize, usize)> =
                starts.iter().enumerate().map(|(k, &b)| (b, starts.get(k + 1).copied().unwrap_or(w.len()))).collect();
            if bounds.is_empty() { vec![w] } else { bounds.into_iter().map(|(b, e)| &w[b..e]).collect() }
        });
        for item in items {
            let (on, name) = match item.as_bytes()[0] {
                b'+' => (true, &item[1..]),
                b'-' => (false, &item[1..]),
                _ => continue,
            };
            if name == "all" {
                let keep = s.clone();
                s = LogSelector {
                    incoming_interface: on,
                    incoming_port: on,
                    smtp_connection: on,
                    received_recipients: on,
                    received_sender: on,
                    smtp_syntax_error: on,
                    smtp_protocol_error: on,
                    smtp_no_mail: on,
                    smtp_incomplete_transaction: on,
                    lost_incoming_connection: on,
                    tls_cipher: on,
                    tls_peerdn: on,
                    tls_sni: on,
                    tls_certificate_verified: on,
                    proxy: on,
                    msg_id: on,
                    size: on,
                    subject: on,
                    pipelining: on,
                    rejected_header: on,
                    host_lookup_failed: on,
                    connection_reject: on,
                    etrn: on,
                    millisec: on,
                    unknown_in_list: on,
                    address_rewrite: on,
                };
                let _ = keep;
                continue;
            }
            let slot = match name {
                "incoming_interface" => &mut s.incoming_interface,
                "unknown_in_list" => &mut s.unknown_in_list,
                "incoming_port" => &mut s.incoming_port,
                "smtp_connection" => &mut s.smtp_connection,
                "received_recipients" => &mut s.received_recipients,
                "received_sender" => &mut s.received_sender,
                "smtp_syntax_error" => &mut s.smtp_syntax_error,
                "smtp_protocol_error" => &mut s.smtp_protocol_error,
                "smtp_no_mail" => &mut s.smtp_no_mail,
                "smtp_incomplete_transaction" => &mut s.smtp_incomplete_transaction,
                "lost_incoming_connection" => &mut s.lost_incoming_connection,
                "tls_cipher" => &mut s.tls_cipher,
                "tls_peerdn" => &mut s.tls_peerdn,
                "tls_sni" => &mut s.tls_sni,
                "tls_certificate_verified" => &mut s.tls_certificate_verified,
                "proxy" => &mut s.proxy,
                "msg_id" => &mut s.msg_id,
                "size" => &mut s.size,
                "subject" => &mut s.subject,
                "pipelining" => &mut s.pipelining,
                "rejected_header" => &mut s.rejected_header,
                "host_lookup_failed" => &mut s.host_lookup_failed,
                "connection_reject" => &mut s.connection_reject,
                "etrn" => &mut s.etrn,
                "millisec" => &mut s.millisec,
                "address_rewrite" => &mut s.address_rewrite,
                _ => continue,
            };
            *slot = on;
        }
        s
    }
}

/// Exim's boolean option syntax.
fn boolean(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// Exim's integer syntax with K/M/G suffixes.
pub fn integer(v: &str) -> Option<u64> {
    let v = v.trim();
    let (digits, mult) = match v.as_bytes().last()? {
        b'K' | b'k' => (&v[..v.len() - 1], 1024),
        b'M' | b'm' => (&v[..v.len() - 1], 1024 * 1024),
        b'G' | b'g' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    let n: u64 = if let Some(h) = digits.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()?
    } else {
        digits.parse().ok()?
    };
    Some(n * mult)
}

/// Exim's "K integer" options (`check_spool_space`), in K as Exim keeps
/// them: a plain number is K already; M, G and T scale.
pub fn kinteger(v: &str) -> Option<u64> {
    let v = v.trim();
    let (digits, mult) = match v.as_bytes().last()? {
        b'K' | b'k' => (&v[..v.len() - 1], 1),
        b'M' | b'm' => (&v[..v.len() - 1], 1024),
        b'G' | b'g' => (&v[..v.len() - 1], 1024 * 1024),
        b'T' | b't' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(mult)
}

impl SmtpConfig {
    /// Build from a lookup of main options by name (`None` = unset).
    /// Boolean options given as `name` / `no_name` should be looked up as
    /// "true"/"false" by the caller's reader.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> SmtpConfig {
        let s = |name: &str| get(name);
        let set = |name: &str| get(name).filter(|v| !v.is_empty());
        let int = |name: &str, d: u64| get(name).and_then(|v| integer(&v)).unwrap_or(d);
        // The configuration reader hands times over in seconds already;
        // a value as written ("2m") is read as Exim reads it.
        let time = |name: &str, d: u64| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok().or_else(|| crate::expand::readconf_readtime(&v).map(|t| t as u64)))
                .unwrap_or(d)
        };
        let flag = |name: &str, d: bool| get(name).and_then(|v| boolean(&v)).unwrap_or(d);
        let primary_hostname = set("primary_hostname").unwrap_or_else(local_hostname);
        let qualify_domain = set("qualify_domain").unwrap_or_else(|| primary_hostname.clone());
        let qualify_recipient = set("qualify_recipient").unwrap_or_else(|| qualify_domain.clone());
        let mut options = HashMap::new();
        for name in OPTION_NAMES {
            if let Some(v) = get(name) {
                options.insert(name.to_string(), v);
            }
        }
        let lists = LIST_OPTIONS
            .iter()
            .filter_map(|(name, default)| get(name).or_else(|| default.map(str::to_string)).map(|v| (*name, v)))
            // Expanded when checked, as Exim does; without `$` that is once.
            .map(|(name, v)| match crate::acl::lists_env::expand_escapes(&v) {
                Ok(std::borrow::Cow::Owned(e)) => (name, e),
                _ => (name, v),
            })
            .collect();
        SmtpConfig {
            rewrite: Default::default(),
            options,
            lists,
            smtp_active_hostname: set("smtp_active_hostname"),
            smtp_banner: s("smtp_banner").unwrap_or_else(|| DEFAULT_SMTP_BANNER.into()),
            smtp_accept_max: int("smtp_accept_max", 20) as usize,
            smtp_accept_max_per_host: set("smtp_accept_max_per_host"),
            smtp_accept_reserve: int("smtp_accept_reserve", 0) as usize,
            smtp_reserve_hosts: set("smtp_reserve_hosts"),
            smtp_connect_backlog: int("smtp_connect_backlog", 20) as u32,
            smtp_receive_timeout: time("smtp_receive_timeout", 300),
            daemon_smtp_ports: set("daemon_smtp_ports").or(set("daemon_smtp_port")).unwrap_or_else(|| "smtp".into()),
            local_interfaces: set("local_interfaces").unwrap_or_else(|| "<; ::0 ; 0.0.0.0".into()),
            pid_file_path: set("pid_file_path").unwrap_or_else(|| DEFAULT_PID_FILE.into()),
            message_size_limit: int("message_size_limit", 50 * 1024 * 1024),
            message_size_limit_expand: set("message_size_limit").filter(|v| v.contains('$')),
            check_spool_space_k: get("check_spool_space").and_then(|v| kinteger(&v)).unwrap_or(10 * 1024),
            check_spool_inodes: int("check_spool_inodes", 100),
            smtp_check_spool_space: flag("smtp_check_spool_space", true),
            message_body_visible: int("message_body_visible", 500) as usize,
            recipients_max: int("recipients_max", 50000) as usize,
            recipients_max_reject: flag("recipients_max_reject", false),
            received_headers_max: int("received_headers_max", 30) as usize,
            smtp_max_synprot_errors: int("smtp_max_synprot_errors", 3) as u32,
            smtp_max_unknown_commands: int("smtp_max_unknown_commands", 3) as u32,
            smtp_accept_max_nonmail: int("smtp_accept_max_nonmail", 10) as u32,
            host_lookup: set("host_lookup"),
            host_lookup_order: get("host_lookup_order").unwrap_or_else(|| crate::dns::host_lookup::DEFAULT_ORDER.into()),
            host_reject_connection: set("host_reject_connection"),
            exim_user: set("exim_user").unwrap_or_else(|| "Debian-exim".into()),
            exim_group: set("exim_group").unwrap_or_else(|| "Debian-exim".into()),
            trusted_users: set("trusted_users"),
            trusted_groups: set("trusted_groups"),
            untrusted_set_sender: set("untrusted_set_sender"),
            local_from_check: flag("local_from_check", true),
            local_from_prefix: set("local_from_prefix"),
            local_from_suffix: set("local_from_suffix"),
            local_sender_retain: flag("local_sender_retain", false),
            smtp_accept_max_nonmail_hosts: s("smtp_accept_max_nonmail_hosts").or(Some("*".into())).filter(|v| !v.is_empty()),
            smtp_enforce_sync: flag("smtp_enforce_sync", true),
            helo_verify_hosts: set("helo_verify_hosts"),
            hosts_require_helo: s("hosts_require_helo").or(Some("*".into())).filter(|v| !v.is_empty()),
            helo_try_verify_hosts: set("helo_try_verify_hosts"),
            helo_accept_junk_hosts: set("helo_accept_junk_hosts"),
            helo_allow_chars: s("helo_allow_chars").unwrap_or_default(),
            sender_unqualified_hosts: set("sender_unqualified_hosts"),
            recipient_unqualified_hosts: set("recipient_unqualified_hosts"),
            tls_advertise_hosts: s("tls_advertise_hosts").or(Some("*".into())).filter(|v| !v.is_empty()),
            tls_certificate: set("tls_certificate"),
            tls_privatekey: set("tls_privatekey"),
            tls_verify_hosts: set("tls_verify_hosts"),
            hosts_proxy: set("hosts_proxy").or_else(|| set("proxy_required_hosts")),
            proxy_protocol_timeout: std::time::Duration::from_secs(time("proxy_protocol_timeout", 3)),
            tls_try_verify_hosts: set("tls_try_verify_hosts"),
            tls_verify_certificates: set("tls_verify_certificates"),
            tls_on_connect_ports: set("tls_on_connect_ports"),
            auth_advertise_hosts: s("auth_advertise_hosts").or(Some("*".into())).filter(|v| !v.is_empty()),
            dsn_advertise_hosts: set("dsn_advertise_hosts"),
            pipelining_advertise_hosts: s("pipelining_advertise_hosts").or(Some("*".into())).filter(|v| !v.is_empty()),
            pipelining_connect_advertise_hosts: s("pipelining_connect_advertise_hosts")
                .or(Some("*".into()))
                .filter(|v| !v.is_empty()),
            chunking_advertise_hosts: s("chunking_advertise_hosts").or(Some("*".into())).filter(|v| !v.is_empty()),
            smtputf8_advertise_hosts: s("smtputf8_advertise_hosts").or(Some("*".into())).filter(|v| !v.is_empty()),
            accept_8bitmime: flag("accept_8bitmime", true),
            allow_domain_literals: flag("allow_domain_literals", false),
            received_header_text: s("received_header_text").unwrap_or_else(|| DEFAULT_RECEIVED_HEADER_TEXT.into()),
            spool_directory: set("spool_directory").unwrap_or_else(|| DEFAULT_SPOOL_DIRECTORY.into()),
            log_file_path: s("log_file_path").unwrap_or_else(|| crate::log::DEFAULT_LOG_FILE_PATH.into()),
            log_selector: LogSelector::parse(&s("log_selector").unwrap_or_default()),
            acl_smtp_etrn: set("acl_smtp_etrn"),
            smtp_etrn_command: set("smtp_etrn_command"),
            smtp_accept_max_per_connection: s("smtp_accept_max_per_connection").unwrap_or_else(|| "1000".into()),
            prdr_enable: flag("prdr_enable", false),
            acl_smtp_data_prdr: set("acl_smtp_data_prdr"),
            acl_smtp_expn: set("acl_smtp_expn"),
            acl_smtp_vrfy: set("acl_smtp_vrfy"),
            primary_hostname,
            qualify_domain,
            qualify_recipient,
        }
    }

    /// A list option from `LIST_OPTIONS`: None when unset.
    pub fn list_option(&self, name: &str) -> Option<&str> {
        self.lists.get(name).map(String::as_str)
    }

    /// The name used in the banner, EHLO reply and Received: header.
    pub fn active_hostname(&self) -> &str {
        self.smtp_active_hostname.as_deref().unwrap_or(&self.primary_hostname)
    }
}

/// The list options the session checks (Exim's names), with Exim 4.96's
/// defaults (None: unset).
static LIST_OPTIONS: &[(&str, Option<&str>)] = &[
    ("auth_advertise_hosts", Some("*")),
    ("chunking_advertise_hosts", Some("*")),
    ("dns_again_means_nonexist", None),
    ("dsn_advertise_hosts", None),
    ("helo_accept_junk_hosts", None),
    ("helo_lookup_domains", Some("@ : @[]")),
    ("helo_try_verify_hosts", None),
    ("helo_verify_hosts", None),
    ("host_lookup", None),
    ("host_reject_connection", None),
    ("hosts_connection_nolog", None),
    ("hosts_require_helo", Some("*")),
    ("ignore_fromline_hosts", None),
    ("pipelining_advertise_hosts", Some("*")),
    ("pipelining_connect_advertise_hosts", Some("*")),
    ("recipient_unqualified_hosts", None),
    ("sender_unqualified_hosts", None),
    ("smtp_accept_max_nonmail_hosts", Some("*")),
    ("smtputf8_advertise_hosts", Some("*")),
    ("tls_advertise_hosts", Some("*")),
];

/// Options copied into `SmtpConfig::options` for `$name` expansion.
static OPTION_NAMES: &[&str] = &[
    "allow_domain_literals",
    "bounce_return_size_limit",
    "exim_path",
    "headers_charset",
    "primary_hostname",
    "qualify_domain",
    "qualify_recipient",
    "smtp_return_error_details",
    "spool_directory",
];

fn local_hostname() -> String {
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname fills the struct we own.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return "localhost".into();
    }
    // SAFETY: nodename is NUL-terminated by uname.
    unsafe { std::ffi::CStr::from_ptr(uts.nodename.as_ptr()) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = SmtpConfig::from_lookup(&|n| (n == "primary_hostname").then(|| "h.example".to_string()));
        assert_eq!(c.message_size_limit, 52428800);
        assert_eq!(c.qualify_domain, "h.example");
        assert_eq!(c.smtp_receive_timeout, 300);
        assert_eq!(c.tls_advertise_hosts.as_deref(), Some("*"));
        assert!(c.log_selector.size && !c.log_selector.smtp_connection);
        let c = SmtpConfig::from_lookup(&|n| match n {
            "message_size_limit" => Some("10M".into()),
            "smtp_receive_timeout" => Some("2m".into()),
            "log_selector" => Some("+smtp_connection -size".into()),
            "tls_advertise_hosts" => Some("".into()),
            _ => None,
        });
        assert_eq!(c.message_size_limit, 10 * 1024 * 1024);
        assert_eq!(c.smtp_receive_timeout, 120);
        assert!(c.log_selector.smtp_connection && !c.log_selector.size);
        assert_eq!(c.tls_advertise_hosts, None);
        // The configuration reader's form: seconds.
        let c = SmtpConfig::from_lookup(&|n| match n {
            "proxy_protocol_timeout" => Some("1".into()),
            "smtp_receive_timeout" => Some("30".into()),
            "log_selector" => Some("-host_lookup_failed".into()),
            _ => None,
        });
        assert_eq!(c.proxy_protocol_timeout, std::time::Duration::from_secs(1));
        assert_eq!(c.smtp_receive_timeout, 30);
        assert!(!c.log_selector.host_lookup_failed && SmtpConfig::from_lookup(&|_| None).log_selector.host_lookup_failed);
        // As the configuration reader gives it (seconds), and K integers.
        let c = SmtpConfig::from_lookup(&|n| match n {
            "smtp_receive_timeout" => Some("2".into()),
            "check_spool_space" => Some("1024T".into()),
            _ => None,
        });
        assert_eq!(c.smtp_receive_timeout, 2);
        assert_eq!(c.check_spool_space_k, 1 << 40);
        assert_eq!(kinteger("100"), Some(100));
        assert_eq!(kinteger("10M"), Some(10240));
    }
}
