//! What `${lookup}` needs from this layer, with Exim's expansion-level
//! messages, so that the expansion engine only maps the result.

use super::{LookupEnv, LookupError, LookupKind, LookupOutcome, LookupSpec, Lookups};

/// A `${lookup}` that did not fail: the value (None = not found) and the
/// $1/$2 a partial or default match sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpansionLookup {
    pub value: Option<String>,
    pub numeric: Option<(String, String)>,
}

/// `${lookup{key}type{file}}` (key Some) or `${lookup type{query}}`.
/// Err is Exim's expansion failure text (printed after "Failed: " by -be).
pub fn expansion_lookup(l: &mut Lookups, env: &mut dyn LookupEnv, key: Option<&str>, search_type: &str, query: &str) -> Result<ExpansionLookup, String> {
    let spec = LookupSpec::parse(search_type).map_err(|e| e.to_string())?;
    let single = spec.lookup.kind() == LookupKind::SingleKey;
    let found = match (key, single) {
        (Some(_), false) => {
            return Err(format!("a single key was given for lookup type \"{search_type}\", which is not a single-key lookup type"));
        }
        (None, true) => return Err(format!("missing {{key}} for single-key \"{search_type}\" lookup")),
        (Some(k), true) => match l.find(&spec, query, k, env) {
            Ok(f) => f,
            Err(LookupError::Open(m)) | Err(LookupError::Syntax(m)) => return Err(m),
        },
        (None, false) => l.query(&spec, query, env),
    };
    match found.outcome {
        LookupOutcome::Found(v) => Ok(ExpansionLookup { value: Some(v), numeric: found.numeric }),
        LookupOutcome::NotFound => Ok(ExpansionLookup { value: None, numeric: None }),
        LookupOutcome::Defer(m) => Err(format!("lookup of \"{}\" gave DEFER: {m}", key.unwrap_or(query))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fake::FakeResolver;
    use crate::lookups::NoExpand;
    use std::sync::Arc;

    fn run(key: Option<&str>, t: &str, q: &str) -> Result<Option<String>, String> {
        let mut l = Lookups::new(Arc::new(FakeResolver::default()));
        expansion_lookup(&mut l, &mut NoExpand, key, t, q).map(|r| r.value)
    }

    // Messages recorded from Exim 4.96 -be.
    #[test]
    fn exim_messages() {
        assert_eq!(run(None, "dnsdb", "defer_foo,a=b"), Err("lookup of \"defer_foo,a=b\" gave DEFER: unsupported dnsdb defer behaviour".into()));
        assert_eq!(run(None, "dnsdb", "xx=b"), Err("lookup of \"xx=b\" gave DEFER: unsupported DNS record type".into()));
        assert_eq!(run(Some("a.b"), "dnsdb", "a=b"), Err("a single key was given for lookup type \"dnsdb\", which is not a single-key lookup type".into()));
        assert_eq!(run(None, "lsearch", "/x"), Err("missing {key} for single-key \"lsearch\" lookup".into()));
        assert_eq!(run(Some("abc"), "lsearch", ""), Err("failed to open  for linear search: No such file or directory".into()));
        assert_eq!(run(Some("abc"), "dsearch", "/etc/passwd"), Err("failed to open /etc/passwd for directory search: Not a directory".into()));
        assert_eq!(run(Some("passwd"), "dsearch", "/etc"), Ok(Some("passwd".into())));
    }
}
