//! The SMTP server side: one state machine per connection, fed bytes and
//! answering with events (replies, log lines, actions), with no I/O of its
//! own. The daemon (`crate::daemon`), `-bs` and `-bh` drive it.
//!
//! What other layers supply comes in through small traits at this edge:
//! `SmtpConfig::from_lookup` (main options), `AclHooks` (the ACLs),
//! `HostMatcher` (host lists) and `crate::auth::Authenticator` (AUTH
//! mechanisms); the DSN parameters of MAIL and RCPT are read by
//! `crate::dsn`'s option loops.

pub mod acls;
pub mod caller;
pub mod address;
pub mod command;
pub mod config;
pub mod context;
pub mod data;
pub mod detached;
pub mod hooks;
pub mod hosts;
pub mod nonmail;
pub mod received;
pub mod session;
pub mod stdio;
pub mod submission;
pub mod texts;

pub use config::SmtpConfig;

/// The `-bh` trace and log lines of a session and its ACLs, in order.
pub type TraceBuf = std::sync::Arc<std::sync::Mutex<Vec<String>>>;
pub use hooks::{AclHooks, AclOutcome, AclVerdict, AclWhere, DefaultAcls, HostMatcher, LiteralAcls};
pub use hosts::ListsHostMatcher;
pub use session::{Event, Peer, Services, Session, SessionMode, SessionVars, TlsInfo};
#[cfg(test)]
mod tests;
