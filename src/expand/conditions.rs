//! The table of expansion conditions (spec section "Expansion conditions").

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondId {
    NumLt,
    NumLe,
    NumEq,
    NumGt,
    NumGe,
    Bool,
    BoolLax,
    Crypteq,
    Eq,
    Eqi,
    Exists,
    FirstDelivery,
    Ge,
    Gei,
    Gt,
    Gti,
    InboundSrs,
    Inlist,
    Inlisti,
    Isip,
    Isip4,
    Isip6,
    Ldapauth,
    Le,
    Lei,
    Lt,
    Lti,
    Match,
    MatchAddress,
    MatchDomain,
    MatchIp,
    MatchLocalPart,
    Pam,
    Pwcheck,
    QueueRunning,
    Radius,
}

/// Name, id and the number of braced strings the condition takes.
pub static CONDITIONS: &[(&str, CondId, usize)] = &[
    ("<", CondId::NumLt, 2),
    ("<=", CondId::NumLe, 2),
    ("=", CondId::NumEq, 2),
    ("==", CondId::NumEq, 2),
    (">", CondId::NumGt, 2),
    (">=", CondId::NumGe, 2),
    ("bool", CondId::Bool, 1),
    ("bool_lax", CondId::BoolLax, 1),
    ("crypteq", CondId::Crypteq, 2),
    ("eq", CondId::Eq, 2),
    ("eqi", CondId::Eqi, 2),
    ("exists", CondId::Exists, 1),
    ("first_delivery", CondId::FirstDelivery, 0),
    ("ge", CondId::Ge, 2),
    ("gei", CondId::Gei, 2),
    ("gt", CondId::Gt, 2),
    ("gti", CondId::Gti, 2),
    ("inbound_srs", CondId::InboundSrs, 2),
    ("inlist", CondId::Inlist, 2),
    ("inlisti", CondId::Inlisti, 2),
    ("isip", CondId::Isip, 1),
    ("isip4", CondId::Isip4, 1),
    ("isip6", CondId::Isip6, 1),
    ("ldapauth", CondId::Ldapauth, 1),
    ("le", CondId::Le, 2),
    ("lei", CondId::Lei, 2),
    ("lt", CondId::Lt, 2),
    ("lti", CondId::Lti, 2),
    ("match", CondId::Match, 2),
    ("match_address", CondId::MatchAddress, 2),
    ("match_domain", CondId::MatchDomain, 2),
    ("match_ip", CondId::MatchIp, 2),
    ("match_local_part", CondId::MatchLocalPart, 2),
    ("pam", CondId::Pam, 1),
    ("pwcheck", CondId::Pwcheck, 1),
    ("queue_running", CondId::QueueRunning, 0),
    ("radius", CondId::Radius, 1),
];

pub fn find(name: &str) -> Option<(CondId, usize)> {
    CONDITIONS
        .binary_search_by(|(n, _, _)| n.cmp(&name))
        .ok()
        .map(|i| (CONDITIONS[i].1, CONDITIONS[i].2))
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_is_sorted() {
        assert!(super::CONDITIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
