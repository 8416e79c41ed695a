//! ACLs run from an expansion outside any session: `${acl{name}{args}}`
//! and the `acl` condition under `-be`, where Exim runs the ACLs of the
//! configuration (Exim's test 0002). The expansion's own context supplies
//! the variables, lists and lookups.

use super::env::*;
use super::eval::acl_expansion;
use super::statement::Acl;
use super::{AclState, AclStore, Where};
use crate::expand::{Context, ExpandError, Found, ListKind};
use std::sync::Arc;

/// An `AclEnv` over an expansion context.
pub struct ExpansionEnv<'a> {
    pub store: &'a AclStore,
    pub ctx: &'a mut dyn Context,
    /// Log lines the ACLs wrote (`logwrite`, warn); the caller writes them
    /// to the main log.
    pub logged: Vec<String>,
}

impl AclSource for ExpansionEnv<'_> {
    fn named_acl(&self, name: &str) -> Option<Arc<Acl>> {
        self.store.named_acl(name)
    }
}

impl SessionVars for ExpansionEnv<'_> {
    fn variable(&self, name: &str) -> Option<String> {
        self.ctx.variable(name)
    }
    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)> {
        self.ctx.named_list(kind, name)
    }
}

impl ListMatcher for ExpansionEnv<'_> {
    fn match_list(&mut self, kind: ListKind, subject: &str, list: &str) -> Result<Option<crate::lists::MatchData>, String> {
        self.ctx
            .match_list(kind, subject, list)
            .map(|f| f.map(|f| crate::lists::MatchData { value: f.value, numeric: f.numeric }))
            .map_err(|e| e.message().to_string())
    }
    fn lookup(&mut self, key: Option<&str>, search_type: &str, query: &str) -> Result<Option<Found>, ExpandError> {
        self.ctx.lookup(key, search_type, query)
    }
}

impl AclLog for ExpansionEnv<'_> {
    fn log(&mut self, _targets: &[&str], line: &str) {
        self.logged.push(line.to_string());
    }
}

impl Resolver for ExpansionEnv<'_> {}
impl Verifier for ExpansionEnv<'_> {}
impl AclEnv for ExpansionEnv<'_> {}

/// `${acl{name}{args}}` outside a session: the message, or Exim's error.
/// Returns the log lines written too.
/// `state` carries `$acl_c*` and `$acl_m*` from one use to the next.
pub fn acl_item(
    store: &AclStore,
    state: &mut AclState,
    ctx: &mut dyn Context,
    name: &str,
    args: &[String],
) -> (Result<(bool, String), ExpandError>, Vec<String>) {
    let mut env = ExpansionEnv { store, ctx, logged: Vec::new() };
    let r = acl_expansion(&mut env, state, Where::Expansion, name, args);
    (r, env.logged)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bare;
    impl Context for Bare {
        fn variable(&self, name: &str) -> Option<String> {
            (name == "primary_hostname").then(|| "myhost.test.ex".to_string())
        }
        fn match_list(&mut self, _k: ListKind, s: &str, l: &str) -> Result<Option<Found>, ExpandError> {
            Ok((s == l).then(Found::default))
        }
    }

    #[test]
    fn runs_configuration_acls_from_an_expansion() {
        let store = AclStore::from_section("a_ret:\n  accept message = ($acl_narg) [$acl_arg1] $primary_hostname\n         logwrite = ran\n", "c").unwrap();
        let mut state = AclState::new();
        let (r, logged) = acl_item(&store, &mut state, &mut Bare, "a_ret", &["x".to_string()]);
        assert_eq!(r, Ok((true, "(1) [x] myhost.test.ex".to_string())));
        assert_eq!(logged, vec!["ran".to_string()]);
        let (r, _) = acl_item(&store, &mut state, &mut Bare, "a_nosuch", &[]);
        assert_eq!(r, Err(ExpandError::Failed("ERROR from acl \"a_nosuch\"".into())));
    }
}
