//! Delivery Status Notification parameters (RFC 3461) on MAIL and RCPT, as
//! Exim 4.96 reads them when DSN was advertised (dsn_advertise_hosts), the
//! values it keeps, and how it writes them to the spool -H file.
//! docs/dsn.md says how the SMTP session calls this.

pub mod error;
pub mod mail;
pub mod option;
pub mod rcpt;
pub mod spool;
pub mod texts;
pub mod xtext;

pub use error::DsnError;
pub use mail::{parse_mail_params, MailDsn, MailParamError, Ret};
pub use option::{extract_option, Extracted};
pub use rcpt::{parse_rcpt_params, RcptDsn};
pub use spool::{parse_recipient_line, recipient_line, RecipientLine};

/// Exim's recipient dsn_flags bits (as written, in decimal, to the spool).
pub const RF_DSNLASTHOP: u32 = 0x01;
pub const RF_NOTIFY_NEVER: u32 = 0x02;
pub const RF_NOTIFY_SUCCESS: u32 = 0x04;
pub const RF_NOTIFY_FAILURE: u32 = 0x08;
pub const RF_NOTIFY_DELAY: u32 = 0x10;
pub const RF_NOTIFY_MASK: u32 = RF_NOTIFY_NEVER | RF_NOTIFY_SUCCESS | RF_NOTIFY_FAILURE | RF_NOTIFY_DELAY;

/// The SMTP session's DSN hook: one parameter at a time, with Exim's
/// "once only" and value checks, the values kept in the session's `dsn`
/// map as Exim keeps them (ENVID and ORCPT as sent).
pub struct SessionDsn;

impl SessionDsn {
    fn store(
        v: &mut crate::smtp::session::SessionVars,
        key: &str,
        value: String,
        twice: DsnError,
    ) -> Option<Result<(), String>> {
        if v.dsn.contains_key(key) {
            return Some(Err(twice.text().to_string()));
        }
        v.dsn.insert(key.to_string(), value);
        Some(Ok(()))
    }
}

impl crate::smtp::DsnParams for SessionDsn {
    fn mail_param(&self, name: &str, value: &str, v: &mut crate::smtp::session::SessionVars) -> Option<Result<(), String>> {
        match name {
            "RET" => {
                if v.dsn.contains_key("ret") {
                    return Some(Err(DsnError::RetTwice.text().to_string()));
                }
                // An empty RET= is dropped without a word, as Exim does.
                if value.is_empty() {
                    return Some(Ok(()));
                }
                let ret = value.to_ascii_uppercase();
                if ret != "HDRS" && ret != "FULL" {
                    return Some(Err(DsnError::RetInvalid.text().to_string()));
                }
                Self::store(v, "ret", ret, DsnError::RetTwice)
            }
            "ENVID" => Self::store(v, "envid", value.to_string(), DsnError::EnvidTwice),
            _ => None,
        }
    }

    fn rcpt_param(&self, name: &str, value: &str, v: &mut crate::smtp::session::SessionVars) -> Option<Result<(), String>> {
        match name {
            "NOTIFY" => {
                if v.dsn.contains_key("notify") {
                    return Some(Err(DsnError::NotifyTwice.text().to_string()));
                }
                // NOTIFY= with nothing sets no flag (and is no repeat later).
                if value.is_empty() {
                    return Some(Ok(()));
                }
                let items: Vec<String> = value.split(',').map(|i| i.to_ascii_uppercase()).collect();
                let valid = if items.iter().any(|i| i == "NEVER") {
                    items.len() == 1
                } else {
                    items.iter().all(|i| matches!(i.as_str(), "SUCCESS" | "FAILURE" | "DELAY"))
                };
                if !valid {
                    return Some(Err(DsnError::NotifyInvalid.text().to_string()));
                }
                Self::store(v, "notify", items.join(","), DsnError::NotifyTwice)
            }
            "ORCPT" => Self::store(v, "orcpt", value.to_string(), DsnError::OrcptTwice),
            _ => None,
        }
    }
}
