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
