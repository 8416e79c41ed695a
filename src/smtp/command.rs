//! SMTP command words, matched as Exim does: case-blind, the word followed
//! by a space or the end of the line; `MAIL FROM:` and `RCPT TO:` are
//! matched whole.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Auth,
    Bdat,
    Data,
    Ehlo,
    Etrn,
    Expn,
    Helo,
    Help,
    Mail,
    Noop,
    Quit,
    Rcpt,
    Rset,
    Starttls,
    Vrfy,
    Unknown,
}

/// The command table, in Exim's order of testing.
static COMMANDS: &[(&str, Verb)] = &[
    ("rset", Verb::Rset),
    ("helo", Verb::Helo),
    ("ehlo", Verb::Ehlo),
    ("auth", Verb::Auth),
    ("starttls", Verb::Starttls),
    ("mail from:", Verb::Mail),
    ("rcpt to:", Verb::Rcpt),
    ("data", Verb::Data),
    ("bdat", Verb::Bdat),
    ("quit", Verb::Quit),
    ("noop", Verb::Noop),
    ("etrn", Verb::Etrn),
    ("vrfy", Verb::Vrfy),
    ("expn", Verb::Expn),
    ("help", Verb::Help),
];

/// Split a command line (CR LF already removed) into its verb and the
/// argument with surrounding white space removed.
pub fn parse(line: &str) -> (Verb, &str) {
    for (name, verb) in COMMANDS {
        let n = name.len();
        if line.len() >= n && line.as_bytes()[..n].eq_ignore_ascii_case(name.as_bytes()) {
            let rest = &line[n..];
            if name.ends_with(':') || rest.is_empty() || rest.starts_with([' ', '\t']) {
                return (*verb, rest.trim_matches([' ', '\t']));
            }
        }
    }
    (Verb::Unknown, line)
}

/// Exim's names for the connection history (`C=` in drop messages).
pub fn history_name(v: Verb) -> &'static str {
    match v {
        Verb::Auth => "AUTH",
        Verb::Bdat => "BDAT",
        Verb::Data => "DATA",
        Verb::Ehlo => "EHLO",
        Verb::Etrn => "ETRN",
        Verb::Expn => "EXPN",
        Verb::Helo => "HELO",
        Verb::Help => "HELP",
        Verb::Mail => "MAIL",
        Verb::Noop => "NOOP",
        Verb::Quit => "QUIT",
        Verb::Rcpt => "RCPT",
        Verb::Rset => "RSET",
        Verb::Starttls => "STARTTLS",
        Verb::Vrfy => "VRFY",
        Verb::Unknown => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs() {
        assert_eq!(parse("mail FROM:<a@b>"), (Verb::Mail, "<a@b>"));
        assert_eq!(parse("RCPT TO: <x> "), (Verb::Rcpt, "<x>"));
        assert_eq!(parse("RCPT TO <x>"), (Verb::Unknown, "RCPT TO <x>"));
        assert_eq!(parse("HELOx"), (Verb::Unknown, "HELOx"));
        assert_eq!(parse("QUIT"), (Verb::Quit, ""));
        assert_eq!(parse("ehlo  a.b "), (Verb::Ehlo, "a.b"));
    }
}
