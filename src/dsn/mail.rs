//! MAIL FROM's RET= and ENVID=, inside Exim 4.96's MAIL option loop.

use super::error::DsnError;
use super::option::extract_option;

/// RET=: what a failure DSN returns. Numbers as Exim's dsn_ret (spool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Full = 1,
    Hdrs = 2,
}

/// The message's DSN envelope values, kept as the client sent them
/// (ENVID stays in xtext form: Exim does not decode or check it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailDsn {
    pub ret: Option<Ret>,
    pub envid: Option<String>,
}

/// Exim's env_mail_type_list: the MAIL parameters it knows and whether
/// each needs a value. Sorted by name.
const MAIL_OPTIONS: &[(&str, bool)] = &[
    ("AUTH", true),
    ("BODY", true),
    ("ENVID", true),
    ("PRDR", false),
    ("RET", true),
    ("SIZE", true),
    ("SMTPUTF8", false),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailParamError<E> {
    Dsn(DsnError),
    /// From the session's handler of the other parameters.
    Other(E),
}

impl MailDsn {
    /// Apply RET or ENVID (value non-empty). When DSN was not advertised
    /// Exim drops them silently (recorded: off-mail-ret, off-mail-envid).
    fn option(&mut self, name: &str, value: &str, advertised: bool) -> Result<(), DsnError> {
        if !advertised {
            return Ok(());
        }
        if name.eq_ignore_ascii_case("RET") {
            if self.ret.is_some() {
                return Err(DsnError::RetTwice);
            }
            self.ret = Some(if value.eq_ignore_ascii_case("HDRS") {
                Ret::Hdrs
            } else if value.eq_ignore_ascii_case("FULL") {
                Ret::Full
            } else {
                return Err(DsnError::RetInvalid);
            });
        } else {
            if self.envid.is_some() {
                return Err(DsnError::EnvidTwice);
            }
            self.envid = Some(value.to_string());
        }
        Ok(())
    }
}

/// Exim's MAIL option loop (ESMTP sessions only): parameters are taken
/// from the right; RET and ENVID are handled here, the other known ones
/// (SIZE, BODY, AUTH, PRDR, SMTPUTF8) go to `other` in the same order so
/// that errors come out in Exim's order; `other` returns Ok(false) to end
/// the loop with its parameter dropped (Exim's arg_error, for a SIZE that
/// is not a number). A known parameter that needs a
/// value and has an empty one ends the loop, dropped; an unknown one ends
/// it too but stays in the returned text, where the address parser then
/// reports it ("malformed address: FOO=BAR may not follow <a@b>").
/// Returns the text left for the address parser and the DSN values.
pub fn parse_mail_params<E>(
    data: &str,
    advertised: bool,
    mut other: impl FnMut(&str, &str) -> Result<bool, E>,
) -> Result<(&str, MailDsn), MailParamError<E>> {
    let mut dsn = MailDsn::default();
    let mut rest = data;
    while let Some(x) = extract_option(rest) {
        let Some(&(known, need_value)) =
            MAIL_OPTIONS.iter().find(|(n, _)| n.eq_ignore_ascii_case(x.name))
        else {
            break; // unknown: left in place for the address parser
        };
        rest = x.before;
        if need_value && x.value.is_empty() {
            break;
        }
        match known {
            "RET" | "ENVID" => dsn.option(known, x.value, advertised).map_err(MailParamError::Dsn)?,
            _ => {
                if !other(known, x.value).map_err(MailParamError::Other)? {
                    break;
                }
            }
        }
    }
    Ok((rest, dsn))
}
