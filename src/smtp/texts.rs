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
