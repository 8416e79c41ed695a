//! The DSN layer's one error type: an SMTP reply the session sends through
//! its protocol-error path (Exim's synprot_error, which also counts towards
//! smtp_max_synprot_errors and logs under +smtp_syntax_error).

use super::texts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnError {
    RetTwice,
    RetInvalid,
    EnvidTwice,
    NotifyTwice,
    NotifyInvalid,
    OrcptTwice,
}

impl DsnError {
    /// The reply code (always 501 in Exim 4.96).
    pub fn code(&self) -> u16 {
        501
    }

    pub fn text(&self) -> &'static str {
        texts::error_text(*self)
    }
}

impl std::fmt::Display for DsnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code(), self.text())
    }
}

impl std::error::Error for DsnError {}
