//! SMTP replies for ACL outcomes: Exim's default codes and texts per hook
//! (recorded from Exim 4.96), and a `message` that starts with its own
//! code ("550 5.7.1 text"), as `smtp_message_code()` reads it.

use super::eval::{AclOutcome, Rc};
use super::hooks::Where;

pub const ADMIN_PROHIBITION: &str = "Administrative prohibition";
pub const TEMP_PROBLEM: &str = "Temporary local problem - please try later";

/// Exim's default reply for a refusal or deferral in `place`; None for
/// accept and discard, whose reply is the command's own success reply.
pub fn default_reply(place: Where, rc: Rc) -> Option<(u16, &'static str)> {
    match rc {
        Rc::Ok | Rc::Discard => None,
        Rc::Fail | Rc::FailDrop => Some((
            match place {
                Where::Vrfy => 252,
                Where::Etrn => 458,
                _ => 550,
            },
            ADMIN_PROHIBITION,
        )),
        Rc::Defer | Rc::Error => Some((451, TEMP_PROBLEM)),
    }
}

/// A reply: code, optional extended code, and lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub extended: Option<String>,
    pub lines: Vec<String>,
}

impl Reply {
    /// The reply as sent: "550-line\r\n550 last\r\n".
    pub fn wire(&self) -> String {
        let mut out = String::new();
        let n = self.lines.len();
        for (i, l) in self.lines.iter().enumerate() {
            let sep = if i + 1 == n { ' ' } else { '-' };
            match &self.extended {
                Some(x) => out.push_str(&format!("{}{sep}{x} {l}\r\n", self.code)),
                None => out.push_str(&format!("{}{sep}{l}\r\n", self.code)),
            }
        }
        out
    }
}

/// The reply for an outcome (None when the command's own success reply
/// applies and no `message` changes it). A `message` may set the code if
/// its first digit is the default's.
pub fn reply(place: Where, out: &AclOutcome, success: (u16, &str)) -> Reply {
    let (code, text) = default_reply(place, out.rc).unwrap_or(success);
    // Errors never show their (internal) text to the client.
    let msg = if out.rc == Rc::Error { None } else { out.user_message.as_deref() };
    let Some(msg) = msg else {
        return Reply { code, extended: None, lines: vec![text.to_string()] };
    };
    // Exim does not insist on the class of a code given for VRFY.
    let (code, extended, msg) = if place == Where::Vrfy { message_code_any(msg, code) } else { message_code(msg, code) };
    Reply { code, extended, lines: msg.split('\n').map(str::to_string).collect() }
}

/// "550 5.7.1 text" → (550, Some("5.7.1"), "text") when the first digit
/// matches the default code; a code of the wrong class is replaced by the
/// default (Exim logs `wrong_code_log`); no code: the default and the
/// whole text.
pub fn message_code(msg: &str, default: u16) -> (u16, Option<String>, &str) {
    let b = msg.as_bytes();
    if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' ' && b[0] != b'0' + (default / 100) as u8 {
        return (default, None, &msg[4..]);
    }
    if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' ' {
        let code: u16 = msg[..3].parse().unwrap_or(default);
        let rest = &msg[4..];
        let ext_end = rest.find(' ').unwrap_or(rest.len());
        let ext = &rest[..ext_end];
        let parts: Vec<&str> = ext.split('.').collect();
        if parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())) && ext.starts_with(&msg[..1]) {
            return (code, Some(ext.to_string()), rest[ext_end..].trim_start());
        }
        return (code, None, rest);
    }
    (default, None, msg)
}

/// A leading code of any class is taken as it is (VRFY).
pub fn message_code_any(msg: &str, default: u16) -> (u16, Option<String>, &str) {
    let b = msg.as_bytes();
    if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' ' {
        return message_code(msg, msg[..3].parse().unwrap_or(default));
    }
    (default, None, msg)
}

/// What Exim logs when a `message` starts with a code of the wrong class.
pub fn wrong_code_log(msg: &str, default: u16) -> Option<String> {
    let b = msg.as_bytes();
    let expected = b'0' + (default / 100) as u8;
    (b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' ' && b[0] != expected)
        .then(|| format!("configured error code starts with incorrect digit (expected {}) in \"{msg}\"", expected as char))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_per_hook() {
        assert_eq!(default_reply(Where::Vrfy, Rc::Fail), Some((252, ADMIN_PROHIBITION)));
        assert_eq!(default_reply(Where::Etrn, Rc::Fail), Some((458, ADMIN_PROHIBITION)));
        assert_eq!(default_reply(Where::Rcpt, Rc::Defer), Some((451, TEMP_PROBLEM)));
        assert_eq!(default_reply(Where::Rcpt, Rc::Ok), None);
    }

    #[test]
    fn codes_in_messages() {
        assert_eq!(message_code("550 5.7.1 go away", 550), (550, Some("5.7.1".into()), "go away"));
        assert_eq!(message_code("554 no", 550), (554, None, "no"));
        assert_eq!(message_code("450 no", 550), (550, None, "no"));
        assert_eq!(message_code("no code", 550), (550, None, "no code"));
        let out = AclOutcome { rc: Rc::Fail, user_message: Some("a\nb".into()), log_message: None };
        assert_eq!(reply(Where::Rcpt, &out, (250, "Accepted")).wire(), "550-a\r\n550 b\r\n");
    }
}
