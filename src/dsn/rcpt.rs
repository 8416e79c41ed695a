//! RCPT TO's NOTIFY= and ORCPT=, as Exim 4.96's RCPT option loop.

use super::error::DsnError;
use super::option::extract_option;
use super::{RF_NOTIFY_DELAY, RF_NOTIFY_FAILURE, RF_NOTIFY_MASK, RF_NOTIFY_NEVER, RF_NOTIFY_SUCCESS};

/// One recipient's DSN values. `orcpt` is kept as sent (addr-type;xtext,
/// undecoded and unchecked, as Exim does); `dsn_flags` has Exim's bits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcptDsn {
    pub dsn_flags: u32,
    pub orcpt: Option<String>,
}

/// NOTIFY's keywords, sorted, with their flag bits (NEVER only alone).
const NOTIFY_KEYWORDS: &[(&str, u32)] =
    &[("DELAY", RF_NOTIFY_DELAY), ("FAILURE", RF_NOTIFY_FAILURE), ("SUCCESS", RF_NOTIFY_SUCCESS)];

/// NOTIFY=NEVER, or a comma list of SUCCESS/FAILURE/DELAY (any case;
/// repeats and a trailing comma pass, an empty item does not; an empty
/// value sets nothing - all as recorded from Exim).
fn notify_flags(value: &str) -> Result<u32, DsnError> {
    if value.eq_ignore_ascii_case("NEVER") {
        return Ok(RF_NOTIFY_NEVER);
    }
    let mut flags = 0;
    let mut p = value;
    while !p.is_empty() {
        let (item, next) = p.split_once(',').unwrap_or((p, ""));
        let bit = NOTIFY_KEYWORDS.iter().find(|(k, _)| k.eq_ignore_ascii_case(item));
        flags |= bit.ok_or(DsnError::NotifyInvalid)?.1;
        p = next;
    }
    Ok(flags)
}

/// Exim's RCPT loop: only when DSN was advertised (otherwise the whole
/// text goes to the address parser). Parameters are taken from the right;
/// the first that is neither NOTIFY nor ORCPT stops the loop and stays in
/// the returned text for the address parser to reject.
pub fn parse_rcpt_params(data: &str, advertised: bool) -> Result<(&str, RcptDsn), DsnError> {
    let mut dsn = RcptDsn::default();
    let mut rest = data;
    if !advertised {
        return Ok((rest, dsn));
    }
    while let Some(x) = extract_option(rest) {
        if x.name.eq_ignore_ascii_case("ORCPT") {
            if dsn.orcpt.is_some() {
                return Err(DsnError::OrcptTwice);
            }
            dsn.orcpt = Some(x.value.to_string());
        } else if x.name.eq_ignore_ascii_case("NOTIFY") {
            if dsn.dsn_flags & RF_NOTIFY_MASK != 0 {
                return Err(DsnError::NotifyTwice);
            }
            dsn.dsn_flags |= notify_flags(x.value)?;
        } else {
            break;
        }
        rest = x.before;
    }
    Ok((rest, dsn))
}
