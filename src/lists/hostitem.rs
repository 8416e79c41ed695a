//! Classifying a host list item (grammar/hostlist.pest).

use pest::Parser;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../grammar/hostlist.pest"]
struct HostListParser;

/// What kind of host list item a string is.
#[derive(Debug, PartialEq, Eq)]
pub enum HostItem<'a> {
    Any,
    LocalInterfaces,
    PrimaryHostname,
    /// `net[N]-type[,opts];data`: mask length (None for plain `net-`).
    NetLookup { mask: Option<u32>, ltype: &'a str, opts: &'a str, arg: &'a str },
    MalformedV4,
    /// `type[,opts];data` where `type` may include partial-/`*` decorations.
    Lookup { ltype: &'a str, opts: &'a str, arg: &'a str },
    Regex,
    Wildcard,
    /// Only letters, digits, dots, hyphens and underscores.
    DomainName,
    Other,
}

/// Classify an item that is not an IP address or network.
pub fn classify(item: &str) -> HostItem<'_> {
    let Ok(mut pairs) = HostListParser::parse(Rule::host_item, item) else { return HostItem::Other };
    let Some(p) = pairs.next() else { return HostItem::Other };
    let rule = p.as_rule();
    let mut mask = None;
    let (mut ltype, mut opts, mut arg) = ("", "", "");
    for inner in p.into_inner() {
        match inner.as_rule() {
            Rule::mask_len => mask = inner.as_str().parse().ok(),
            Rule::lookup_type => ltype = inner.as_str(),
            Rule::lookup_opts => opts = &inner.as_str()[1..],
            Rule::lookup_arg => arg = inner.as_str(),
            _ => {}
        }
    }
    match rule {
        Rule::any_host => HostItem::Any,
        Rule::local_ifaces => HostItem::LocalInterfaces,
        Rule::local_name => HostItem::PrimaryHostname,
        Rule::net_lookup => HostItem::NetLookup { mask, ltype, opts, arg },
        Rule::malformed_v4 => HostItem::MalformedV4,
        Rule::lookup => HostItem::Lookup { ltype, opts, arg },
        Rule::name_regex => HostItem::Regex,
        Rule::name_wild => HostItem::Wildcard,
        Rule::domain_name => HostItem::DomainName,
        _ => HostItem::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify("*"), HostItem::Any);
        assert_eq!(classify("@[]"), HostItem::LocalInterfaces);
        assert_eq!(classify("@"), HostItem::PrimaryHostname);
        assert_eq!(classify("net24-lsearch;/f"), HostItem::NetLookup { mask: Some(24), ltype: "lsearch", opts: "", arg: "/f" });
        assert_eq!(classify("net-iplsearch,ret=full;/f"), HostItem::NetLookup { mask: None, ltype: "iplsearch", opts: "ret=full", arg: "/f" });
        assert_eq!(classify("1.2.3"), HostItem::MalformedV4);
        assert_eq!(classify("1.2.3/24"), HostItem::MalformedV4);
        assert_eq!(classify("partial-lsearch;/f"), HostItem::Lookup { ltype: "partial-lsearch", opts: "", arg: "/f" });
        assert_eq!(classify("^a\\.b$"), HostItem::Regex);
        assert_eq!(classify("*.b.c"), HostItem::Wildcard);
        assert_eq!(classify("mail_1.example-x.com"), HostItem::DomainName);
        assert_eq!(classify("a+b"), HostItem::Other);
    }
}
