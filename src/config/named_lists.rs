//! Named lists: `domainlist`, `hostlist`, `addresslist`, `localpartlist`
//! (with `_cache` forms), Exim's read_named_list().

/// The four kinds of named list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Address,
    Domain,
    Host,
    LocalPart,
}

impl ListKind {
    pub fn from_keyword(k: &str) -> Option<ListKind> {
        Some(match k {
            "addresslist" => ListKind::Address,
            "domainlist" => ListKind::Domain,
            "hostlist" => ListKind::Host,
            "localpartlist" => ListKind::LocalPart,
            _ => return None,
        })
    }

    /// The word before "list" in `-bP` output ("domain" ...).
    pub fn prefix(self) -> &'static str {
        match self {
            ListKind::Address => "address",
            ListKind::Domain => "domain",
            ListKind::Host => "host",
            ListKind::LocalPart => "localpart",
        }
    }

    /// The name used in error messages ("domain list" ...).
    pub fn type_name(self) -> &'static str {
        match self {
            ListKind::Address => "address list",
            ListKind::Domain => "domain list",
            ListKind::Host => "host list",
            ListKind::LocalPart => "local part list",
        }
    }

    /// Exim searches the kinds in this order for `-bP +name`.
    pub const ALL: [ListKind; 4] = [ListKind::Address, ListKind::Domain, ListKind::Host, ListKind::LocalPart];
}

/// A named list as written (after unquoting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedList {
    pub kind: ListKind,
    pub name: String,
    pub value: String,
    /// Defined with `hide`.
    pub hide: bool,
    /// Results may be cached: no `$` in it, or defined with `_cache`.
    pub cacheable: bool,
    pub file: String,
    pub line: usize,
}
