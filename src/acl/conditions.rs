//! Exim's table of ACL conditions and modifiers (`conditions[]` in acl.c),
//! sorted by name for binary search. Each entry says whether it is a
//! modifier, whether its value is expanded before use, and the ACLs in
//! which it may not be used (recorded from Exim 4.96 with a `warn` of each
//! in every hook; the message is "cannot test/use NAME condition in WHERE
//! ACL"). `bmi_optin`, `dcc` and `dmarc_status` are not in the table:
//! the reference build (Debian's exim4-daemon-heavy) has none of them and
//! calls them unknown.

use super::hooks::Where;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CondId {
    Acl,
    AddHeader,
    Authenticated,
    Condition,
    Continue,
    Control,
    Decode,
    Delay,
    DkimSigners,
    DkimStatus,
    Dnslists,
    Domains,
    Encrypted,
    Endpass,
    Hosts,
    LocalParts,
    LogMessage,
    LogRejectTarget,
    Logwrite,
    Malware,
    Message,
    MimeRegex,
    Queue,
    Ratelimit,
    Recipients,
    Regex,
    RemoveHeader,
    Seen,
    SenderDomains,
    Senders,
    Set,
    Spam,
    Spf,
    SpfGuess,
    Udpsend,
    Verify,
}

pub struct CondDef {
    pub name: &'static str,
    pub id: CondId,
    pub modifier: bool,
    /// False for `message` and `log_message` (expanded only when used)
    /// and `endpass` (no value).
    pub expand_at_top: bool,
    pub forbids: u32,
}

const fn bits(list: &[Where]) -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < list.len() {
        m |= list[i].bit();
        i += 1;
    }
    m
}

use Where::*;

/// Hooks without a message on the way (nothing to add headers to).
const NO_MESSAGE: u32 = bits(&[Connect, Helo, Vrfy, Expn, Etrn, Quit, NotQuit]);
/// Everything but the MIME ACLs.
const ONLY_MIME: u32 = !bits(&[Mime, NotSmtpMime]);
/// Everything but the DATA-time ACLs that have the message body.
const ONLY_BODY: u32 = !bits(&[Data, Mime, Prdr, NotSmtp, NotSmtpMime, Dkim]);
const ONLY_DKIM: u32 = !bits(&[Dkim]);
/// Before any recipient: connection and command ACLs.
const NO_RECIPIENT: u32 = bits(&[Connect, Helo, Mail, Predata, Expn, Etrn, Quit, NotQuit, NotSmtp, NotSmtpStart]);
const NO_SENDER: u32 = bits(&[Connect, Helo, Vrfy, Expn, Etrn]);

const fn c(name: &'static str, id: CondId, forbids: u32) -> CondDef {
    CondDef { name, id, modifier: false, expand_at_top: true, forbids }
}
/// List conditions: the list is expanded by the list matcher, where a
/// forced failure means "not in the list".
const fn l(name: &'static str, id: CondId, forbids: u32) -> CondDef {
    CondDef { name, id, modifier: false, expand_at_top: false, forbids }
}
const fn m(name: &'static str, id: CondId, forbids: u32) -> CondDef {
    CondDef { name, id, modifier: true, expand_at_top: true, forbids }
}

pub static CONDITIONS: &[CondDef] = &[
    c("acl", CondId::Acl, 0),
    m("add_header", CondId::AddHeader, NO_MESSAGE),
    l("authenticated", CondId::Authenticated, bits(&[Connect, Helo])),
    c("condition", CondId::Condition, 0),
    m("continue", CondId::Continue, 0),
    m("control", CondId::Control, 0),
    c("decode", CondId::Decode, ONLY_MIME),
    m("delay", CondId::Delay, bits(&[NotQuit])),
    c("dkim_signers", CondId::DkimSigners, ONLY_DKIM),
    c("dkim_status", CondId::DkimStatus, ONLY_DKIM),
    c("dnslists", CondId::Dnslists, 0),
    l("domains", CondId::Domains, NO_RECIPIENT),
    l("encrypted", CondId::Encrypted, bits(&[Helo])),
    CondDef { name: "endpass", id: CondId::Endpass, modifier: true, expand_at_top: false, forbids: 0 },
    l("hosts", CondId::Hosts, 0),
    l("local_parts", CondId::LocalParts, NO_RECIPIENT),
    CondDef { name: "log_message", id: CondId::LogMessage, modifier: true, expand_at_top: false, forbids: 0 },
    m("log_reject_target", CondId::LogRejectTarget, 0),
    m("logwrite", CondId::Logwrite, 0),
    c("malware", CondId::Malware, ONLY_BODY & !bits(&[Dkim])),
    CondDef { name: "message", id: CondId::Message, modifier: true, expand_at_top: false, forbids: 0 },
    c("mime_regex", CondId::MimeRegex, ONLY_MIME),
    m("queue", CondId::Queue, 0),
    c("ratelimit", CondId::Ratelimit, 0),
    l("recipients", CondId::Recipients, NO_RECIPIENT | bits(&[Vrfy])),
    c("regex", CondId::Regex, ONLY_BODY),
    m("remove_header", CondId::RemoveHeader, NO_MESSAGE),
    c("seen", CondId::Seen, 0),
    l("sender_domains", CondId::SenderDomains, NO_SENDER),
    l("senders", CondId::Senders, NO_SENDER),
    m("set", CondId::Set, 0),
    c("spam", CondId::Spam, ONLY_BODY & !bits(&[Dkim])),
    c("spf", CondId::Spf, NO_SENDER),
    c("spf_guess", CondId::SpfGuess, NO_SENDER),
    m("udpsend", CondId::Udpsend, 0),
    c("verify", CondId::Verify, 0),
];

pub fn find(name: &str) -> Option<CondId> {
    CONDITIONS.binary_search_by(|d| d.name.cmp(name)).ok().map(|i| CONDITIONS[i].id)
}

pub fn def(id: CondId) -> &'static CondDef {
    CONDITIONS.iter().find(|d| d.id == id).expect("every CondId is in the table")
}

/// Exim's text for a condition or modifier used where it is forbidden,
/// or None when it is allowed there.
pub fn forbidden(id: CondId, place: Where) -> Option<String> {
    let d = def(id);
    if d.forbids & place.bit() == 0 {
        return None;
    }
    Some(super::texts::forbidden(d.modifier, d.name, place.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert!(CONDITIONS.windows(2).all(|w| w[0].name < w[1].name));
        for d in CONDITIONS {
            assert_eq!(find(d.name), Some(d.id));
        }
        assert_eq!(find("dmarc_status"), None);
    }

    #[test]
    fn forbidden_texts_are_exims() {
        assert_eq!(forbidden(CondId::Recipients, Where::Connect).unwrap(), "cannot test recipients condition in connection ACL");
        assert_eq!(forbidden(CondId::LocalParts, Where::Helo).unwrap(), "cannot test local_parts condition in EHLO or HELO ACL");
        assert_eq!(forbidden(CondId::AddHeader, Where::Etrn).unwrap(), "cannot use add_header condition in ETRN ACL");
        assert!(forbidden(CondId::Domains, Where::Vrfy).is_none());
        assert!(forbidden(CondId::Hosts, Where::Connect).is_none());
    }
}
