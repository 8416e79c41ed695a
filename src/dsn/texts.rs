//! User-visible texts of the DSN layer (Exim 4.96's replies).

use super::error::DsnError;

pub fn error_text(e: DsnError) -> &'static str {
    match e {
        DsnError::RetTwice => "RET can be specified once only",
        DsnError::RetInvalid => "Value for RET is invalid",
        DsnError::EnvidTwice => "ENVID can be specified once only",
        DsnError::NotifyTwice => "NOTIFY can be specified once only",
        DsnError::NotifyInvalid => "Invalid value for NOTIFY parameter",
        DsnError::OrcptTwice => "ORCPT can be specified once only",
    }
}

/// The EHLO keyword advertised when dsn_advertise_hosts matches.
pub const EHLO_KEYWORD: &str = "DSN";
