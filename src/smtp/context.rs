//! The expansion context of an SMTP session: the session's variables
//! ($sender_host_address, $sender_helo_name, $received_protocol,
//! $message_id, $tls_in_*, ...), the message's headers ($h_...), and the
//! process-wide variables of `-be` for the rest.

use std::collections::HashMap;

use super::config::SmtpConfig;
use super::hooks::HostMatcher;
use super::session::SessionVars;
use crate::be::{BaseContext, BeState, ConfigView};
use crate::lookups::Lookups;
use crate::expand::ast::HeaderKind;
use crate::expand::{Context, ExpandError, Found, ListKind};

/// A read-only view of the configuration's options for `BaseContext`.
struct OptionsView<'a>(&'a SmtpConfig);

impl ConfigView for OptionsView<'_> {
    fn option(&self, name: &str) -> Option<String> {
        match name {
            "primary_hostname" => Some(self.0.primary_hostname.clone()),
            "qualify_domain" => Some(self.0.qualify_domain.clone()),
            "qualify_recipient" => Some(self.0.qualify_recipient.clone()),
            "spool_directory" => Some(self.0.spool_directory.clone()),
            _ => self.0.options.get(name).cloned(),
        }
    }
    fn config_file(&self) -> String {
        self.0.options.get("config_file").cloned().unwrap_or_default()
    }
    fn named_list(&self, _kind: Option<char>, _name: &str) -> Option<(char, String)> {
        None
    }
    fn expand_macros<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        std::borrow::Cow::Borrowed(line)
    }
    fn define_macro(&mut self, _line: &str) -> Result<String, String> {
        Ok(String::new())
    }
}

/// The session's variables whose values came from the client (Exim's
/// tainted data). Sorted.
const TAINTED: &[&str] = &[
    "authenticated_fail_id",
    "authenticated_id",
    "authenticated_sender",
    "domain",
    "local_part",
    "recipients",
    "sender_address",
    "sender_address_domain",
    "sender_address_local_part",
    "sender_helo_name",
    "sender_host_name",
    "sender_ident",
    "smtp_command",
    "smtp_command_argument",
    "tls_in_peerdn",
    "tls_in_sni",
    "tls_peerdn",
    "tls_sni",
];

/// Whether a session variable holds tainted data.
pub fn is_tainted(name: &str) -> bool {
    TAINTED.binary_search(&name).is_ok()
}

/// Expansion context for a session, optionally with a message's headers.
pub struct SessionContext<'a> {
    pub vars: &'a SessionVars,
    pub cfg: &'a SmtpConfig,
    pub hosts: &'a dyn HostMatcher,
    pub headers: &'a [String],
    /// Values that hold only for this expansion ($auth1, $received_for...).
    pub extra: HashMap<String, String>,
}

impl SessionContext<'_> {
    fn session_variable(&self, name: &str) -> Option<String> {
        let v = self.vars;
        let opt = |o: &Option<String>| o.clone();
        match name {
            "sender_host_address" => opt(&v.sender_host_address),
            "sender_host_port" => v.sender_host_address.as_ref().map(|_| v.sender_host_port.to_string()),
            "sender_host_name" => opt(&v.sender_host_name),
            "host_lookup_failed" => Some(if v.host_lookup_failed { "1" } else { "0" }.into()),
            "host_lookup_deferred" => Some(if v.host_lookup_deferred { "1" } else { "0" }.into()),
            "sender_helo_name" => opt(&v.sender_helo_name),
            "sender_ident" => opt(&v.sender_ident),
            "sender_fullhost" => v.sender_host_address.as_ref().map(|_| v.fullhost(false)),
            "sender_rcvhost" => v.sender_host_address.as_ref().map(|_| v.rcvhost()),
            "received_protocol" => Some(v.received_protocol.clone()).filter(|p| !p.is_empty()),
            "received_ip_address" | "interface_address" => opt(&v.interface_address),
            "received_port" | "interface_port" => v.interface_address.as_ref().map(|_| v.interface_port.to_string()),
            "message_id" | "message_exim_id" => Some(v.message_id.clone()).filter(|s| !s.is_empty()),
            "sender_address" => opt(&v.sender_address),
            "sender_address_domain" => v.sender_address.as_ref().map(|s| s.rsplit_once('@').map(|x| x.1).unwrap_or("").to_string()),
            "sender_address_local_part" => v.sender_address.as_ref().map(|s| s.rsplit_once('@').map(|x| x.0).unwrap_or(s).to_string()),
            "recipients_count" => Some(v.recipients.len().to_string()),
            // Exim shows $recipients only where the whole list is final.
            "recipients" if v.message_body.is_some() => Some(v.recipients.join(", ")),
            "rcpt_count" => Some(v.rcpt_count.to_string()),
            "prdr_requested" => Some(if v.prdr_requested { "yes" } else { "no" }.into()),
            "message_size" => Some(v.message_size.map(|s| s.to_string()).unwrap_or_else(|| "-1".into())),
            "message_body" => opt(&v.message_body),
            "message_body_end" => opt(&v.message_body_end),
            "body_linecount" => v.body_linecount.map(|n| n.to_string()),
            "message_linecount" => v.message_linecount.map(|n| n.to_string()),
            "smtp_active_hostname" => Some(self.cfg.active_hostname().to_string()),
            "tls_in_cipher" | "tls_cipher" => opt(&v.tls.cipher),
            "tls_in_cipher_std" => opt(&v.tls.cipher_std),
            "tls_in_ver" => opt(&v.tls.version),
            "tls_in_peerdn" | "tls_peerdn" => opt(&v.tls.peerdn),
            "tls_in_sni" | "tls_sni" => opt(&v.tls.sni),
            "tls_in_certificate_verified" | "tls_certificate_verified" => {
                Some(if v.tls.certificate_verified { "1" } else { "0" }.into())
            }
            "tls_in_bits" | "tls_bits" => v.tls.bits.map(|b| b.to_string()),
            "authenticated_id" => opt(&v.authenticated_id),
            "authenticated_sender" => opt(&v.authenticated_sender),
            "sender_host_authenticated" => opt(&v.sender_host_authenticated),
            _ if name.starts_with("proxy_") => v.proxy_state.as_ref().and_then(|p| p.variable(name)),
            "smtp_command" => Some(v.smtp_command.clone()),
            "smtp_command_argument" => {
                Some(v.smtp_command.split_once(' ').map(|(_, a)| a.trim_start().to_string()).unwrap_or_default())
            }
            _ => v.acl_vars.get(name).cloned(),
        }
    }
}

impl SessionContext<'_> {
    /// Run `job` in the -be context over this session's options.
    fn with_base<R>(&self, job: impl FnOnce(&mut BaseContext<'_>) -> R) -> R {
        let mut view = OptionsView(self.cfg);
        let mut lookups = Lookups::new(crate::dns::default_resolver());
        lookups.redis_servers = view.option("redis_servers").unwrap_or_default();
        let mut state = BeState::new(&[], lookups, crate::acl::AclStore::new());
        job(&mut BaseContext { config: &mut view, state: &mut state })
    }

    /// Process-wide variables the banner and Received: header use, kept
    /// off the slower general path.
    fn common_variable(&self, name: &str) -> Option<String> {
        let now = chrono::Local::now();
        Some(match name {
            "primary_hostname" => self.cfg.primary_hostname.clone(),
            "qualify_domain" => self.cfg.qualify_domain.clone(),
            "qualify_recipient" => self.cfg.qualify_recipient.clone(),
            "spool_directory" => self.cfg.spool_directory.clone(),
            "version_number" | "exim_version" => crate::texts::EXIM_VERSION.to_string(),
            "tod_full" => now.format("%a, %d %b %Y %H:%M:%S %z").to_string(),
            "tod_log" => now.format("%Y-%m-%d %H:%M:%S").to_string(),
            "tod_bsdinbox" => now.format("%a %b %e %H:%M:%S %Y").to_string(),
            "tod_epoch" => now.timestamp().to_string(),
            "tod_zone" => now.format("%z").to_string(),
            "tod_zulu" => chrono::Utc::now().format("%Y%m%d%H%M%SZ").to_string(),
            "pid" => std::process::id().to_string(),
            _ => return None,
        })
    }
}

impl Context for SessionContext<'_> {
    fn is_tainted(&self, name: &str) -> bool {
        is_tainted(name)
    }

    fn variable(&self, name: &str) -> Option<String> {
        if let Some(v) = self.extra.get(name) {
            return Some(v.clone());
        }
        if let Some(v) = self.session_variable(name) {
            return Some(v);
        }
        if let Some(v) = self.common_variable(name) {
            return Some(v);
        }
        // The address being verified or routed is the ACL layer's (it asks
        // here first, per RCPT): the session has none, and the -be path
        // below would cost a context built for nothing.
        if matches!(name, "domain" | "local_part" | "local_part_prefix" | "local_part_suffix" | "domain_data" | "local_part_data" | "address_data") {
            return None;
        }
        // The rest, rarely used in SMTP expansions, as -be computes them.
        self.with_base(|base| base.variable(name))
    }

    /// Options expanded during a session (`smtp_banner`,
    /// `tls_certificate`, `message_size_limit`...) look things up as -be
    /// does, with a lookup state of their own: nothing is kept between
    /// expansions, so a changed file is seen at once.
    fn lookup(&mut self, key: Option<&str>, search_type: &str, query: &str) -> Result<Option<Found>, ExpandError> {
        self.with_base(|base| base.lookup(key, search_type, query))
    }

    fn header(&self, kind: HeaderKind, name: &str) -> Option<String> {
        crate::expand::headers::find(self.headers.iter().map(String::as_str), kind, name)
    }

    fn config_option(&self, name: &str) -> Option<String> {
        OptionsView(self.cfg).option(name)
    }

    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<Found>, ExpandError> {
        let hit = match kind {
            ListKind::Host => self.hosts.matches(list, Some(subject), None),
            _ => list.split(':').map(str::trim).any(|i| i == "*" || i.eq_ignore_ascii_case(subject)),
        };
        Ok(hit.then(Found::default))
    }
}

/// Exim's tls_expand_session_files for a server: `tls_certificate` and
/// `tls_privatekey` expanded for one connection. `None` when there is no
/// certificate (unset, or its expansion forced to fail or empty): Exim
/// then uses a self-signed one. An unset or failing key is the
/// certificate's file. `Err` is the log line of a failed expansion.
pub fn tls_files(ctx: &mut SessionContext<'_>) -> Result<Option<(String, String)>, String> {
    let (cert, key) = (ctx.cfg.tls_certificate.clone(), ctx.cfg.tls_privatekey.clone());
    let mut expand = |name: &str, value: Option<&String>| -> Result<Option<String>, String> {
        let Some(v) = value else { return Ok(None) };
        match crate::expand::expand_string(v, ctx) {
            Ok(s) if s.is_empty() => Ok(None),
            Ok(s) => Ok(Some(s)),
            Err(e) if e.is_forced() => Ok(None),
            Err(e) => Err(format!("expansion of {name} failed: {}", e.message())),
        }
    };
    let Some(cert) = expand("tls_certificate", cert.as_ref())? else { return Ok(None) };
    let key = expand("tls_privatekey", key.as_ref())?.unwrap_or_else(|| cert.clone());
    Ok(Some((cert, key)))
}

#[cfg(test)]
#[test]
fn tainted_table_sorted() {
    assert!(TAINTED.windows(2).all(|w| w[0] < w[1]));
}
