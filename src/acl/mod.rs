//! Access control lists: Exim 4.96's ACL interpreter (spec chapter
//! "Access control lists"), as pure code.
//!
//! The configuration reader hands over each named ACL as raw statements
//! (`statement::RawStatement`); `AclStore` checks and keeps them. The SMTP
//! session calls `check` at each hook with its `AclState` (the `$acl_c*`
//! and `$acl_m*` variables, headers to add, controls...) and an `AclEnv`
//! that supplies what the interpreter needs from outside: session
//! variables, list matching, logging, DNS, address verification and the
//! hints database. `reply` turns an outcome into Exim's SMTP reply.

pub mod conditions;
pub mod controls;
mod env;
pub(crate) mod eval;
mod expand_ctx;
pub mod hooks;
pub mod lists_env;
pub mod outside;
pub mod reply;
pub mod simple;
pub mod state;
pub mod statement;
pub mod texts;
mod verify;
mod dnslists;
#[cfg(test)]
mod dialogues;
#[cfg(test)]
mod tests;

pub use env::{AclEnv, AclLog, AclSource, DnsAnswer, ListMatcher, Resolver, SessionVars, Verifier, VerifyOutcome};
pub use eval::{acl_expansion, check, check_named, expand_outside, AclOutcome, Rc};
pub use hooks::{UnsetDefault, Where};
pub use state::{AclState, HeaderPos};
pub use statement::{Acl, RawItem, RawStatement, Verb};

use std::collections::HashMap;
use std::sync::Arc;

/// Errors found when an ACL is read (configuration errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl AclError {
    pub fn config(file: &str, line: u32, message: String) -> AclError {
        AclError { file: file.to_string(), line, message }
    }
}

impl std::fmt::Display for AclError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error in ACL: {}", self.message)
    }
}

impl std::error::Error for AclError {}

/// The named ACLs of a configuration, checked.
#[derive(Debug, Default, Clone)]
pub struct AclStore {
    named: HashMap<String, Arc<Acl>>,
}

impl AclStore {
    pub fn new() -> AclStore {
        AclStore::default()
    }

    /// Add a named ACL from the configuration reader's statements.
    pub fn add(&mut self, name: &str, raw: &[RawStatement]) -> Result<(), AclError> {
        let acl = statement::compile(raw)?;
        self.named.insert(name.to_string(), Arc::new(acl));
        Ok(())
    }

    /// Read a whole `begin acl` section with the small reader (for tests
    /// and tools; the configuration reader normally does this).
    /// The named ACLs of a configuration.
    pub fn from_config(config: &crate::config::Config) -> Result<AclStore, AclError> {
        let mut store = AclStore::new();
        for acl in &config.acls {
            let raw: Vec<RawStatement> = acl
                .statements
                .iter()
                .map(|st| RawStatement {
                    verb: st.verb.clone(),
                    file: st.file.clone(),
                    line: st.line as u32,
                    items: st
                        .conditions
                        .iter()
                        .map(|c| RawItem {
                            name: if c.negated { format!("!{}", c.name) } else { c.name.clone() },
                            value: c.value.clone(),
                            file: c.file.clone(),
                            line: c.line as u32,
                        })
                        .collect(),
                })
                .collect();
            store.add(&acl.name, &raw)?;
        }
        Ok(store)
    }

    pub fn from_section(text: &str, file: &str) -> Result<AclStore, AclError> {
        let mut store = AclStore::new();
        // Each ACL's body keeps blank lines in place of the lines before
        // it so that line numbers stay those of the file.
        let mut current: Option<(String, String)> = None;
        let mut blank = String::new();
        for line in text.split('\n') {
            let t = line.trim_end();
            if !t.starts_with(char::is_whitespace) && t.ends_with(':') && !t.starts_with('#') {
                if let Some((n, body)) = current.take() {
                    store.add(&n, &statement::read_text(&body, file)?)?;
                }
                current = Some((t[..t.len() - 1].trim().to_string(), blank.clone() + "\n"));
            } else if let Some((_, body)) = current.as_mut() {
                body.push_str(line);
                body.push('\n');
            } else if !t.trim().is_empty() && !t.trim_start().starts_with('#') {
                return Err(AclError::config(file, 0, format!("text outside any ACL: \"{t}\"")));
            }
            blank.push('\n');
        }
        if let Some((n, body)) = current.take() {
            store.add(&n, &statement::read_text(&body, file)?)?;
        }
        Ok(store)
    }

    /// Conditions and modifiers of ACL `name` that cannot be used in hook
    /// `place`, with Exim's texts and their lines. Exim 4.96 finds these
    /// only when the ACL runs (the command then gets a 451); a
    /// configuration reader can call this to warn when the configuration
    /// is read.
    pub fn forbidden_uses(&self, name: &str, place: Where) -> Vec<AclError> {
        let Some(acl) = self.named.get(name) else { return Vec::new() };
        let mut out = Vec::new();
        for st in &acl.statements {
            for it in &st.items {
                if let Some(m) = conditions::forbidden(it.id, place) {
                    out.push(AclError::config(&st.file, st.line, m));
                }
            }
        }
        out
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.named.keys().map(String::as_str)
    }
}

impl AclSource for AclStore {
    fn named_acl(&self, name: &str) -> Option<Arc<Acl>> {
        self.named.get(name).cloned()
    }
}
