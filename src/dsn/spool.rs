//! How Exim 4.96 writes DSN values into the spool -H file.

use super::mail::MailDsn;
use super::rcpt::RcptDsn;

impl MailDsn {
    /// The header-section lines, `-dsn_envid` before `-dsn_ret`.
    pub fn spool_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.envid {
            out.push(format!("-dsn_envid {e}"));
        }
        if let Some(r) = self.ret {
            out.push(format!("-dsn_ret {}", r as u8));
        }
        out
    }
}

/// A recipient line: the bare address when there is nothing else to say
/// (no DSN flags, no errors_to, pno < 0 - an ORCPT alone is then not
/// kept, as recorded), else Exim's extended `#3` form:
/// `address orcpt orcpt_len,dsn_flags errors_to errors_to_len,pno#3`.
pub fn recipient_line(address: &str, dsn: &RcptDsn, errors_to: Option<&str>, pno: i32) -> String {
    if pno < 0 && errors_to.is_none() && dsn.dsn_flags == 0 {
        return address.to_string();
    }
    let orcpt = dsn.orcpt.as_deref().unwrap_or("");
    let errors_to = errors_to.unwrap_or("");
    format!(
        "{address} {orcpt} {},{} {errors_to} {},{pno}#3",
        orcpt.len(),
        dsn.dsn_flags,
        errors_to.len()
    )
}
