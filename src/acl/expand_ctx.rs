//! The expansion context of ACL strings: ACL variables, `$acl_arg*`,
//! `$sender_rate*`, `$dnslist_*`, the recipient's parts, then the
//! session's variables; `${acl}` runs nested ACLs.

use super::eval::{Interp, Rc};
use crate::expand::ast::HeaderKind;
use crate::expand::{Context, ExpandError, Found, ListKind};

pub(crate) struct AclContext<'a, 'b> {
    pub it: &'a mut Interp<'b>,
}

impl AclContext<'_, '_> {
    /// The variables the ACL interpreter answers itself; None for the
    /// session's (most names: they are told apart on their first letters
    /// before anything is looked up).
    fn acl_variable(&self, name: &str) -> Option<String> {
        let it = &*self.it;
        if let Some((_, v)) = it.list_data.iter().find(|(n, _)| *n == name) {
            return Some(v.clone());
        }
        match name.as_bytes().first() {
            Some(b'a' | b'd' | b'l' | b's') => {}
            _ => return None,
        }
        if name.starts_with("acl_c") || name.starts_with("acl_m") {
            return Some(it.state.get_var(name).cloned().unwrap_or_default());
        }
        if name == "acl_narg" {
            return Some(it.args.len().to_string());
        }
        if let Some(n) = name.strip_prefix("acl_arg").and_then(|n| n.parse::<usize>().ok()) {
            return Some(if n >= 1 { it.args.get(n - 1).cloned().unwrap_or_default() } else { String::new() });
        }
        match name {
            "acl_verify_message" => return Some(it.state.verify_message.clone().unwrap_or_default()),
            "sender_rate" => return it.state.sender_rate.map(|r| format!("{r:.1}")),
            "sender_rate_limit" => return it.state.sender_rate_limit.clone(),
            "sender_rate_period" => return it.state.sender_rate_period.clone(),
            // The session's value when it has one (recipient_part asks it
            // first), else the recipient's domain.
            "domain" if it.recipient.is_some() => return Some(it.recipient_part(false).to_string()),
            // Conditions see the local part as written; the variable is
            // lower-cased unless `control = caseful_local_part` was used.
            "local_part" if it.recipient.is_some() => {
                let (l, session) = it.recipient_part_from(true);
                if session {
                    return Some(l.to_string());
                }
                let caseful = it.state.controls.has(super::controls::ControlId::CasefulLocalPart);
                return Some(if caseful { l.to_string() } else { l.to_lowercase() });
            }
            _ => {}
        }
        if let Some(rest) = name.strip_prefix("dnslist_") {
            for (k, v) in &it.state.dnslist {
                if *k == rest {
                    return Some(v.clone());
                }
            }
        }
        None
    }

    /// Whether `acl_variable` answers for `name`, without making its value.
    fn is_acl_variable(&self, name: &str) -> bool {
        let it = &*self.it;
        match name {
            "acl_narg" | "acl_verify_message" => true,
            "sender_rate" => it.state.sender_rate.is_some(),
            "sender_rate_limit" => it.state.sender_rate_limit.is_some(),
            "sender_rate_period" => it.state.sender_rate_period.is_some(),
            "domain" | "local_part" => it.recipient.is_some(),
            _ if name.starts_with("acl_c") || name.starts_with("acl_m") => true,
            _ if name.strip_prefix("acl_arg").is_some_and(|n| n.parse::<usize>().is_ok()) => true,
            _ => name.strip_prefix("dnslist_").is_some_and(|rest| it.state.dnslist.keys().any(|k| *k == rest)),
        }
    }
}

impl Context for AclContext<'_, '_> {
    fn variable(&self, name: &str) -> Option<String> {
        self.acl_variable(name).or_else(|| self.it.env.variable(name))
    }

    fn header(&self, kind: HeaderKind, name: &str) -> Option<String> {
        crate::expand::headers::find(self.it.env.headers().iter().map(String::as_str), kind, name)
    }

    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)> {
        self.it.env.named_list(kind, name)
    }

    fn lookup(&mut self, key: Option<&str>, search_type: &str, query: &str) -> Result<Option<Found>, ExpandError> {
        let found = self.it.env.lookup(key, search_type, query);
        if let Err(e) = &found {
            self.it.search_error = Some(e.message().to_string());
        }
        found
    }

    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<Found>, ExpandError> {
        if self.it.tracing {
            self.it.env.set_trace_indent(self.it.depth.saturating_sub(1));
        }
        self.it.env.match_list(kind, subject, list).map(|d| d.map(|d| Found { value: d.value, numeric: d.numeric })).map_err(ExpandError::Failed)
    }

    fn is_tainted(&self, name: &str) -> bool {
        // ACL variables and arguments are set by the configuration; what
        // went into them is not tracked. The recipient's parts came from
        // the client (Exim 4.96 refuses `lsearch{/dir/$domain}` and ACL
        // text from `$local_part`); the session's have its taint.
        if matches!(name, "domain" | "local_part") && self.it.recipient.is_some() {
            let (_, session) = self.it.recipient_part_from(name == "local_part");
            return !session || self.it.env.is_tainted(name);
        }
        !self.is_acl_variable(name) && self.it.env.is_tainted(name)
    }

    fn log(&mut self, line: &str) {
        self.it.env.log(&["main"], line);
    }

    fn acl(&mut self, name: &str, args: &[String]) -> Result<String, ExpandError> {
        self.run_acl(name, args).map(|(_, m)| m)
    }

    fn acl_condition(&mut self, name: &str, args: &[String]) -> Result<(bool, String), ExpandError> {
        self.run_acl(name, args)
    }
}

impl AclContext<'_, '_> {
    fn run_acl(&mut self, name: &str, args: &[String]) -> Result<(bool, String), ExpandError> {
        let saved = std::mem::replace(&mut self.it.args, args.to_vec());
        let mut user = None;
        let mut log = None;
        // Exim counts an ACL run from an expansion two levels deeper
        // (as its trace's indentation shows).
        self.it.depth += 1;
        let rc = self.it.internal(name, &mut user, &mut log);
        self.it.depth -= 1;
        self.it.args = saved;
        let msg = user.unwrap_or_default();
        match rc {
            Rc::Ok | Rc::Discard => Ok((true, msg)),
            Rc::Fail | Rc::FailDrop => Ok((false, msg)),
            Rc::Defer => Err(ExpandError::Failed(format!("DEFER from acl \"{name}\""))),
            Rc::Error => Err(ExpandError::Failed(format!("ERROR from acl \"{name}\""))),
        }
    }
}
