//! The ACL list conditions through the lists layer (src/lists): what a
//! session's `ListMatcher` calls. The list text arrives expanded; named
//! lists are fetched and expanded through the `ListContext`.

use crate::expand::ListKind;
use crate::lists::{self, HostSubject, ListContext, ListMatch};

/// Match `subject` against `list` as the ACL conditions do: `hosts`
/// against the client's address (and name, through the context), the
/// others caselessly, as Exim's acl.c asks of match_isinlist and
/// match_address_list. A deferral (or a list error Exim would die on)
/// is an error with its text.
pub fn match_list(ctx: &mut dyn ListContext, kind: ListKind, subject: &str, list: &str) -> Result<bool, String> {
    let m = match kind {
        ListKind::Host => {
            let host = HostSubject { address: subject.parse().ok(), name: None, ip_only: false };
            lists::match_host(ctx, &host, list)
        }
        ListKind::Domain => lists::match_domain(ctx, subject, list),
        ListKind::LocalPart => lists::match_local_part(ctx, subject, list, true),
        ListKind::Address => lists::match_address(ctx, subject, list, true),
    };
    match m {
        ListMatch::Match(_) => Ok(true),
        ListMatch::NoMatch => Ok(false),
        ListMatch::Defer(m) => Err(m.unwrap_or_else(|| "NULL".to_string())),
        ListMatch::Panic(m) => Err(m),
    }
}
