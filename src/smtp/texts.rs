//! The SMTP layer's fixed reply and log texts (Exim 4.96's wording).

pub const UNRECOGNIZED: &str = "unrecognized command";
pub const TOO_MANY_SYNPROT: &str = "Too many syntax or protocol errors";
pub const NUL_PRESENT: &str = "NUL characters are not allowed in SMTP commands";
pub const COMMAND_TOO_LONG: &str = "500 Command line too long\r\n";
pub const SYNC_ERROR_REPLY: &str = "554 SMTP synchronization error\r\n";
pub const INVALID_HELO: &str = "Syntactically invalid";
pub const SENDER_ALREADY: &str = "sender already given";
pub const MAIL_NO_ADDRESS: &str = "MAIL must have an address operand";
pub const RCPT_NO_SENDER: &str = "sender not yet given";
pub const RCPT_NO_ADDRESS: &str = "RCPT must have an address operand";
pub const SIZE_EXCEEDED: &str = "552 Message size exceeds maximum permitted\r\n";
pub const INVALID_BODY: &str = "invalid data for BODY";
pub const TOO_MANY_RCPTS: &str = "452 too many recipients\r\n";
pub const TOO_MANY_RCPTS_REJECT: &str = "552 too many recipients\r\n";
pub const ADMIN_PROHIBITION: &str = "Administrative prohibition";
pub const TEMP_PROBLEM: &str = "Temporary local problem - please try later";
pub const ENTER_MESSAGE: &str = "Enter message, ending with \".\" on a line by itself";
pub const RESET_OK: &str = "250 Reset OK\r\n";
pub const NOOP_OK: &str = "250 OK\r\n";
pub const MAIL_OK_PRDR: &str = "OK, PRDR Requested";
pub const PRDR_BEGIN: &str = "353 PRDR content analysis beginning\r\n";

/// A recipient's reply under PRDR, when its ACL gave no message.
pub fn prdr_recipient(address: &str, word: &str) -> String {
    format!("PRDR R=<{address}> {word}")
}

/// The reply to the data of a PRDR message that some recipient kept
/// (sent once the DATA ACL accepts), or that none did.
pub fn prdr_final(all_failed: bool, all_passed: bool, id: &str) -> String {
    let (code, how) = match (all_failed, all_passed) {
        (true, _) => ("550", "rejected for all recipients"),
        (false, true) => ("250", "accepted"),
        (false, false) => ("250", "accepted for some recipients"),
    };
    format!("{code} id={id} message {how}")
}
pub const ETRN_HASH: &str = "argument must begin with #";
pub const ETRN_FAILED: &str = "458 Internal failure\r\n";
pub const UNEXPECTED_ARG: &str = "unexpected argument data";
pub const BDAT_NOT_ADVERTISED: &str = "BDAT command used when CHUNKING not advertised";
pub const BDAT_ONLY: &str = "only BDAT permissible after non-LAST BDAT";
pub const BDAT_BAD: &str = "missing size for BDAT command";
pub const HEADER_NOT_CRLF: &str = "552 Message header not CRLF terminated\r\n";
pub const BDAT_ZERO: &str = "zero size for BDAT command";
pub const SPOOL_ERROR: &str = "451 Error while writing spool file\r\n";
pub const AUTH_NOT_ADVERTISED: &str = "AUTH command used when not advertised";
pub const AUTH_ALREADY: &str = "already authenticated";
pub const AUTH_OK: &str = "235 Authentication succeeded\r\n";
pub const AUTH_FAILED: &str = "535 Incorrect authentication data\r\n";
pub const AUTH_DEFER: &str = "435 Unable to authenticate at present\r\n";
pub const AUTH_CANCELLED: &str = "Authentication cancelled";
pub const AUTH_BAD64: &str = "Invalid base64 data";
pub const TLS_ALREADY: &str = "STARTTLS command used when not advertised";
pub const TLS_GO_AHEAD: &str = "220 TLS go ahead\r\n";
pub const TOO_MANY_MESSAGES: &str = "421 too many messages in this connection\r\n";
pub const TLS_UNAVAILABLE: &str = "454 TLS currently unavailable\r\n";

/// The log lines for TLS that could not be set up for the client `host`
/// (Exim's tls_server_start failing before the handshake).
pub fn tls_setup_error(host: &str, e: &crate::tls::SetupError) -> Vec<(crate::log::Targets, String)> {
    use crate::log::Targets;
    match e {
        // The expansion error first, then the connection's line.
        crate::tls::SetupError::Expansion(text) => {
            vec![(Targets::PANIC, text.clone()), (Targets::MAIN, format!("TLS error on connection from {host} Internal error"))]
        }
        crate::tls::SetupError::Files { cert, key, reason } => vec![(
            Targets::MAIN,
            format!("TLS error on connection from {host} (cert/key setup: cert={cert} key={key}): {reason}"),
        )],
    }
}

/// A failed lookup of the client's name (log selector `host_lookup_failed`).
pub fn no_host_name(ip: &str) -> String {
    format!("no host name found for IP address {ip}")
}
pub const SMTPUTF8_NOT_ADVERTISED: &str = "SMTPUTF8 used when not advertised";
pub const TOO_MANY_NONMAIL: &str = "554 Too many nonmail commands\r\n";
pub const SPACE_SHORTAGE: &str = "452 Space shortage, please try later\r\n";
pub const SERVICE_NOT_AVAILABLE: &str = "554 SMTP service not available\r\n";

/// Exim's string_split_message(), for the text of a fake rejection or
/// deferral: a line longer than 75 characters is broken at a space, the
/// last one within the 75 (after a colon if there is one there) but not
/// in the first 35, else the first space after them.
pub fn split_message(text: &str) -> String {
    const WIDTH: usize = 75;
    if text.len() <= WIDTH {
        return text.to_string();
    }
    let mut b = text.as_bytes().to_vec();
    let mut start = 0;
    let mut at = 0;
    loop {
        let mut i = 0;
        while i < WIDTH && at < b.len() && b[at] != b'\n' {
            at += 1;
            i += 1;
        }
        if at >= b.len() {
            break;
        }
        if b[at] == b'\n' {
            at += 1;
            start = at;
            continue;
        }
        // Backwards from the character after the limit, not into the
        // first 35 of the line; a space after a colon wins.
        let mut split = None;
        let mut t = at + 1;
        while t > start + 36 {
            t -= 1;
            if t < b.len() && b[t] == b' ' {
                if b[t - 1] == b':' {
                    split = Some(t);
                    break;
                }
                split.get_or_insert(t);
            }
        }
        let split = split.or_else(|| (at + 1..b.len()).find(|&t| b[t] == b' ' || b[t] == b'\n'));
        let Some(split) = split else { break };
        b[split] = b'\n';
        start = split + 1;
        at = start;
    }
    // Only ASCII spaces were replaced, so the text is still what it was.
    String::from_utf8(b).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_texts_split_as_exim_does() {
        // Exim's test 0555.
        assert_eq!(
            split_message("Your message has been rejected but is being kept for evaluation.\nIf it was a legitimate message, it may still be delivered to the target recipient(s)."),
            "Your message has been rejected but is being kept for evaluation.\nIf it was a legitimate message, it may still be delivered to the target\nrecipient(s)."
        );
        assert_eq!(
            split_message("This is a rather long customised message that should get automatically split up into more than one response line."),
            "This is a rather long customised message that should get automatically\nsplit up into more than one response line."
        );
        assert_eq!(split_message("short"), "short");
        let word = "x".repeat(100);
        assert_eq!(split_message(&word), word);
        assert_eq!(split_message(&format!("{word} y")), format!("{word}\ny"));
    }
}
