//! Parsing a lookup type specification such as `partial2(*.)lsearch*@,ret=key`
//! (Exim's search_findtype_partial()).

use super::{lookup_type, Lookup, LookupError, LookupKind};

/// Partial matching: the minimum number of non-wild components and the
/// affix put in front of shortened keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partial {
    pub min: u32,
    pub affix: String,
}

/// A parsed lookup type with its modifiers.
#[derive(Clone)]
pub struct LookupSpec {
    pub lookup: &'static dyn Lookup,
    pub partial: Option<Partial>,
    /// `*` suffix: look up "*" as a last resort.
    pub star: bool,
    /// `*@` suffix: look up "*@domain", then "*".
    pub star_at: bool,
    /// The comma-separated `name=value` options after the type name.
    pub opts: Vec<(String, String)>,
    raw_opts: String,
}

impl std::fmt::Debug for LookupSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupSpec")
            .field("lookup", &self.lookup.name())
            .field("partial", &self.partial)
            .field("star", &self.star)
            .field("star_at", &self.star_at)
            .field("opts", &self.opts)
            .finish()
    }
}

impl LookupSpec {
    /// Parse a full type specification.
    pub fn parse(name: &str) -> Result<LookupSpec, LookupError> {
        let bad = || LookupError::Syntax(format!("format error in lookup type \"{name}\""));
        let mut ss = name;
        let mut partial = None;
        if let Some(rest) = name.strip_prefix("partial") {
            let digits = rest.bytes().take_while(|c| c.is_ascii_digit()).count();
            let min = if digits > 0 { rest[..digits].parse::<u32>().map_err(|_| bad())? } else { 2 };
            let rest = &rest[digits..];
            if let Some(r) = rest.strip_prefix('(') {
                let n = r.bytes().take_while(|&c| c.is_ascii_punctuation() && c != b')').count();
                if r.as_bytes().get(n) != Some(&b')') {
                    return Err(bad());
                }
                partial = Some(Partial { min, affix: r[..n].to_string() });
                ss = &r[n + 1..];
            } else if let Some(r) = rest.strip_prefix('-') {
                partial = Some(Partial { min, affix: "*.".to_string() });
                ss = r;
            } else {
                return Err(bad());
            }
        }
        let mut len = ss.len();
        let (mut star, mut star_at) = (false, false);
        let mut from = 0;
        if let Some(t) = ss.find('*') {
            len = t;
            from = t;
            if ss.as_bytes().get(t + 1) == Some(&b'@') {
                star_at = true;
            } else {
                star = true;
            }
        }
        let mut raw_opts = String::new();
        if let Some(c) = ss[from..].find(',').map(|c| c + from) {
            len = len.min(c);
            raw_opts = ss[c + 1..].to_string();
        }
        let tname = &ss[..len];
        let lookup = lookup_type(tname).ok_or_else(|| LookupError::Syntax(format!("unknown lookup type \"{tname}\"")))?;
        if lookup.kind() == LookupKind::QueryStyle {
            if partial.is_some() {
                return Err(LookupError::Syntax(format!("\"partial\" is not permitted for lookup type \"{ss}\"")));
            }
            if star || star_at {
                return Err(LookupError::Syntax(format!("defaults using \"*\" or \"*@\" are not permitted for lookup type \"{ss}\"")));
            }
        }
        let opts = raw_opts
            .split(',')
            .filter(|o| !o.is_empty())
            .map(|o| match o.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
                None => (o.trim().to_string(), String::new()),
            })
            .collect();
        Ok(LookupSpec { lookup, partial, star, star_at, opts, raw_opts })
    }

    pub fn is_query_style(&self) -> bool {
        self.lookup.kind() == LookupKind::QueryStyle
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        self.opts.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// `ret=key`: the value of a successful lookup is the key.
    pub fn ret_key(&self) -> bool {
        self.opt("ret") == Some("key")
    }

    /// `cache=no_rd`: do not use cached results (but do store them).
    pub fn no_cache_read(&self) -> bool {
        self.opt("cache") == Some("no_rd")
    }

    /// What distinguishes cached results of this spec from another's.
    pub(crate) fn cache_key(&self) -> String {
        let opts: Vec<&str> = self.raw_opts.split(',').filter(|o| *o != "cache=no_rd").collect();
        format!("{},{}", self.lookup.name(), opts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        LookupSpec::parse(s).unwrap_err().to_string()
    }

    // Error texts recorded from Exim 4.96.
    #[test]
    fn exim_errors() {
        assert_eq!(err("partialx-lsearch"), "format error in lookup type \"partialx-lsearch\"");
        assert_eq!(err("partial-nosuch"), "unknown lookup type \"nosuch\"");
        assert_eq!(err("nosuch"), "unknown lookup type \"nosuch\"");
        assert_eq!(err("partial-dnsdb"), "\"partial\" is not permitted for lookup type \"dnsdb\"");
        assert_eq!(err("dnsdb*"), "defaults using \"*\" or \"*@\" are not permitted for lookup type \"dnsdb*\"");
        assert_eq!(err("partial(ab)lsearch"), "format error in lookup type \"partial(ab)lsearch\"");
    }

    #[test]
    fn forms() {
        let s = LookupSpec::parse("partial3(.)lsearch*@,ret=key,cache=no_rd").unwrap();
        assert_eq!(s.partial, Some(Partial { min: 3, affix: ".".into() }));
        assert!(s.star_at && !s.star && s.ret_key() && s.no_cache_read());
        assert_eq!(s.lookup.name(), "lsearch");
        // Exim ignores anything between "*" and "," (recorded: lsearch*x works).
        assert!(LookupSpec::parse("lsearch*x").unwrap().star);
        assert_eq!(LookupSpec::parse("partial0()lsearch").unwrap().partial, Some(Partial { min: 0, affix: String::new() }));
        assert_eq!(LookupSpec::parse("dsearch,ret=full,filter=file").unwrap().opt("filter"), Some("file"));
    }
}
