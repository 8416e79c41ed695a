//! What ACLs leave behind in a session: variables, headers to add or
//! remove, controls, the rates computed by `ratelimit`.

use super::controls::Controls;
use super::statement::Acl;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Where `add_header` puts a header line (`:at_start:` etc.).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderPos {
    AtEnd,
    AtStart,
    AfterReceived,
    AtStartRfc,
}

/// Per-connection state. `new_message` resets the per-message part, as
/// Exim does at MAIL, RSET, HELO/EHLO and after STARTTLS.
#[derive(Debug, Default)]
pub struct AclState {
    /// `$acl_c*`: live for the whole connection.
    pub acl_c: BTreeMap<String, String>,
    /// `$acl_m*`: reset for each message.
    pub acl_m: BTreeMap<String, String>,
    pub verify_message: Option<String>,
    /// Header lines added by `add_header` and `warn message`, in order.
    pub headers_add: Vec<(HeaderPos, String)>,
    /// Header names to remove (`remove_header`).
    pub headers_remove: Vec<String>,
    pub controls: Controls,
    /// `queue =` modifier: the named queue for the message.
    pub queue_name: Option<String>,
    /// `log_reject_target =`: None means Exim's default (main and reject).
    pub log_reject_target: Option<Vec<String>>,
    /// `$sender_rate` (formatted "%.1f" when read).
    pub sender_rate: Option<f64>,
    pub sender_rate_limit: Option<String>,
    pub sender_rate_period: Option<String>,
    /// `$dnslist_domain` etc. from the last successful dnslists test.
    pub dnslist: BTreeMap<&'static str, String>,
    /// Ratelimit results kept for the connection (per_conn), the message
    /// (per_mail, per_byte) and the command (per_rcpt in RCPT...), by key.
    pub(crate) rate_conn: HashMap<String, f64>,
    pub(crate) rate_mail: HashMap<String, f64>,
    pub(crate) rate_cmd: HashMap<String, f64>,
    /// Parsed `ratelimit` arguments, by text.
    pub(crate) rate_options: HashMap<String, std::sync::Arc<crate::ratelimit::Options>>,
    /// Lines already logged by `warn` in this message (Exim writes each
    /// once).
    pub(crate) warn_logged: HashSet<String>,
    /// Inline ACLs and ACL files read so far (Exim keeps them for the
    /// life of the process).
    pub(crate) text_acls: HashMap<String, Arc<Acl>>,
    /// Set when an ACL asked for the connection to be dropped.
    pub drop_connection: bool,
}

impl AclState {
    pub fn new() -> AclState {
        AclState::default()
    }

    /// Start a new message: `$acl_m*`, headers, per-message controls and
    /// per-message rates go.
    pub fn new_message(&mut self) {
        self.acl_m.clear();
        self.headers_add.clear();
        self.headers_remove.clear();
        self.controls.reset_message();
        self.queue_name = None;
        self.rate_mail.clear();
        self.warn_logged.clear();
    }

    /// Each SMTP command starts afresh for per-command rates.
    pub fn new_command(&mut self) {
        self.rate_cmd.clear();
        self.log_reject_target = None;
    }

    pub fn get_var(&self, name: &str) -> Option<&String> {
        if name.starts_with("acl_c") {
            self.acl_c.get(name)
        } else {
            self.acl_m.get(name)
        }
    }

    pub fn set_var(&mut self, name: &str, value: String) {
        let vars = if name.starts_with("acl_c") { &mut self.acl_c } else { &mut self.acl_m };
        // A `set` in an ACL run for each recipient replaces the value:
        // the name is kept.
        match vars.get_mut(name) {
            Some(v) => *v = value,
            None => {
                vars.insert(name.to_string(), value);
            }
        }
    }
}
