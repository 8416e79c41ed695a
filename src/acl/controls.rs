//! `control = ...`: Exim's controls table (sorted) with the ACLs each is
//! allowed in, and the controls in effect for a session.

use super::hooks::Where;
use super::texts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlId {
    AllowAuthUnadvertised,
    CasefulLocalPart,
    CaselowerLocalPart,
    CutthroughDelivery,
    Debug,
    DkimDisableVerify,
    DmarcDisableVerify,
    DmarcEnableForensic,
    Dscp,
    EnforceSync,
    Fakedefer,
    Fakereject,
    Freeze,
    NoCalloutFlush,
    NoDelayFlush,
    NoEnforceSync,
    NoMboxUnspool,
    NoMultilineResponses,
    NoPipelining,
    Queue,
    QueueOnly,
    Submission,
    SuppressLocalFixups,
    Utf8Downconvert,
}

use Where::*;

const fn only(list: &[Where]) -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < list.len() {
        m |= list[i].bit();
        i += 1;
    }
    !m
}

const MESSAGE: &[Where] = &[Mail, Rcpt, Predata, Data, Mime, Dkim, Prdr, NotSmtp, NotSmtpStart, NotSmtpMime, Expansion];
const BEFORE_DATA: &[Where] = &[Mail, Rcpt, Predata, NotSmtpStart, Expansion];

/// (name, id, forbidden-in mask, takes options after `/`).
static CONTROLS: &[(&str, ControlId, u32, bool)] = &[
    ("allow_auth_unadvertised", ControlId::AllowAuthUnadvertised, only(&[Connect, Helo, Expansion]), false),
    ("caseful_local_part", ControlId::CasefulLocalPart, only(&[Rcpt, Expansion]), false),
    ("caselower_local_part", ControlId::CaselowerLocalPart, only(&[Rcpt, Expansion]), false),
    ("cutthrough_delivery", ControlId::CutthroughDelivery, only(&[Rcpt, Expansion]), true),
    ("debug", ControlId::Debug, 0, true),
    ("dkim_disable_verify", ControlId::DkimDisableVerify, Dkim.bit() | Data.bit() | NotSmtp.bit() | Mime.bit(), false),
    ("dmarc_disable_verify", ControlId::DmarcDisableVerify, Dkim.bit() | Data.bit() | NotSmtp.bit() | Mime.bit(), false),
    ("dmarc_enable_forensic", ControlId::DmarcEnableForensic, Dkim.bit() | Data.bit() | NotSmtp.bit() | Mime.bit(), false),
    ("dscp", ControlId::Dscp, NotSmtp.bit() | NotSmtpStart.bit(), true),
    ("enforce_sync", ControlId::EnforceSync, NotSmtp.bit() | NotSmtpStart.bit(), false),
    ("fakedefer", ControlId::Fakedefer, only(&[Mail, Rcpt, Predata, Data, Mime, Dkim, Prdr, Expansion]), true),
    ("fakereject", ControlId::Fakereject, only(&[Mail, Rcpt, Predata, Data, Mime, Dkim, Prdr, Expansion]), true),
    ("freeze", ControlId::Freeze, only(MESSAGE), true),
    ("no_callout_flush", ControlId::NoCalloutFlush, NotSmtp.bit() | NotSmtpStart.bit(), false),
    ("no_delay_flush", ControlId::NoDelayFlush, NotSmtp.bit() | NotSmtpStart.bit(), false),
    ("no_enforce_sync", ControlId::NoEnforceSync, NotSmtp.bit() | NotSmtpStart.bit(), false),
    ("no_mbox_unspool", ControlId::NoMboxUnspool, only(MESSAGE), false),
    ("no_multiline_responses", ControlId::NoMultilineResponses, NotSmtp.bit() | NotSmtpStart.bit(), false),
    ("no_pipelining", ControlId::NoPipelining, only(&[Connect, Helo, Expansion]), false),
    ("queue", ControlId::Queue, only(MESSAGE), true),
    ("queue_only", ControlId::QueueOnly, only(MESSAGE), false),
    ("submission", ControlId::Submission, only(BEFORE_DATA), true),
    ("suppress_local_fixups", ControlId::SuppressLocalFixups, only(BEFORE_DATA), false),
    ("utf8_downconvert", ControlId::Utf8Downconvert, only(&[Mail, Rcpt, Predata, Data, Mime, Dkim, Prdr, NotSmtp, Expansion]), true),
];

/// Controls in effect. Options after `/` are kept as written for the
/// subsystem that acts on them.
#[derive(Debug, Default, Clone)]
pub struct Controls {
    pub set: Vec<(ControlId, String)>,
    /// Message from `fakedefer/` or `fakereject/`.
    pub fake_response: Option<(ControlId, String)>,
}

impl Controls {
    pub fn has(&self, id: ControlId) -> bool {
        self.set.iter().any(|(c, _)| *c == id)
    }

    /// The last of `enforce_sync` / `no_enforce_sync`, if either is set.
    pub fn enforce_sync(&self) -> Option<bool> {
        self.set.iter().rev().find_map(|(c, _)| match c {
            ControlId::EnforceSync => Some(true),
            ControlId::NoEnforceSync => Some(false),
            _ => None,
        })
    }

    pub fn options(&self, id: ControlId) -> Option<&str> {
        self.set.iter().rev().find(|(c, _)| *c == id).map(|(_, o)| o.as_str())
    }

    /// Connection-wide controls (sync, pipelining, debug, dscp...) stay;
    /// message controls go.
    pub fn reset_message(&mut self) {
        self.set.retain(|(c, _)| {
            matches!(
                c,
                ControlId::AllowAuthUnadvertised
                    | ControlId::Debug
                    | ControlId::Dscp
                    | ControlId::EnforceSync
                    | ControlId::NoEnforceSync
                    | ControlId::NoPipelining
                    | ControlId::NoMultilineResponses
                    | ControlId::NoDelayFlush
                    | ControlId::NoCalloutFlush
            )
        });
        self.fake_response = None;
    }

    /// Apply `control = text` in ACL `place`; Err carries Exim's text.
    pub fn apply(&mut self, text: &str, place: Where) -> Result<(), String> {
        let (name, opts) = match text.find('/') {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => (text, ""),
        };
        let i = CONTROLS.binary_search_by(|c| c.0.cmp(name)).map_err(|_| texts::unknown_control(text))?;
        let (cname, id, forbids, takes_opts) = CONTROLS[i];
        if !takes_opts && text.len() > name.len() {
            return Err(texts::unknown_control(text));
        }
        if forbids & place.bit() != 0 {
            return Err(texts::control_forbidden(cname, place.name()));
        }
        match id {
            ControlId::EnforceSync => self.set.retain(|(c, _)| *c != ControlId::NoEnforceSync),
            ControlId::NoEnforceSync => self.set.retain(|(c, _)| *c != ControlId::EnforceSync),
            ControlId::CasefulLocalPart => self.set.retain(|(c, _)| *c != ControlId::CaselowerLocalPart),
            ControlId::CaselowerLocalPart => self.set.retain(|(c, _)| *c != ControlId::CasefulLocalPart),
            ControlId::Fakedefer | ControlId::Fakereject => {
                let msg = if opts.is_empty() { "Your message has been rejected but is being kept for evaluation.\nIf it was a legitimate message, it may still be delivered to the target recipient(s).".to_string() } else { opts.to_string() };
                self.fake_response = Some((id, msg));
            }
            _ => {}
        }
        self.set.push((id, opts.to_string()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sorted() {
        assert!(CONTROLS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn where_and_unknown() {
        let mut c = Controls::default();
        assert!(c.apply("freeze/no_tell", Where::Rcpt).is_ok());
        assert!(c.has(ControlId::Freeze));
        assert_eq!(c.apply("no_pipelining", Where::Rcpt).unwrap_err(), "cannot use \"control=no_pipelining\" in RCPT ACL");
        assert_eq!(c.apply("frob", Where::Rcpt).unwrap_err(), "syntax error in \"control=frob\"");
        c.reset_message();
        assert!(!c.has(ControlId::Freeze));
    }
}
