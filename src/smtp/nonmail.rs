//! Exim's count of "non-mail" commands (`smtp_accept_max_nonmail`): every
//! command but MAIL, RCPT, DATA, BDAT and QUIT counts, except one RSET,
//! one HELO or EHLO and one STARTTLS each time a new message is expected,
//! another HELO/EHLO after STARTTLS, and the first AUTH of the connection
//! or after STARTTLS. Exim keeps this as the `is_mail_cmd` flags of its
//! command table.

use super::command::Verb;

#[derive(Debug, Default)]
pub struct NonMail {
    count: u32,
    /// Whether the client is in `smtp_accept_max_nonmail_hosts`; checked
    /// at the first counted command, as Exim does.
    pub applies: Option<bool>,
    free_rset: bool,
    free_helo: bool,
    free_starttls: bool,
    free_auth: bool,
}

impl NonMail {
    pub fn new() -> NonMail {
        let mut n = NonMail { free_auth: true, ..Default::default() };
        n.new_message();
        n
    }

    /// A new message is expected (session start, after each DATA).
    pub fn new_message(&mut self) {
        self.free_rset = true;
        self.free_helo = true;
        self.free_starttls = true;
    }

    /// TLS started: another EHLO and an AUTH are expected.
    pub fn tls_started(&mut self) {
        self.free_helo = true;
        self.free_auth = true;
    }

    /// Whether `verb` counts, using up the allowance it may have.
    pub fn counts(&mut self, verb: Verb) -> bool {
        let free = match verb {
            Verb::Mail | Verb::Rcpt | Verb::Data | Verb::Bdat | Verb::Quit | Verb::Unknown => return false,
            Verb::Rset => std::mem::take(&mut self.free_rset),
            Verb::Helo | Verb::Ehlo => std::mem::take(&mut self.free_helo),
            Verb::Starttls => std::mem::take(&mut self.free_starttls),
            Verb::Auth => std::mem::take(&mut self.free_auth),
            Verb::Noop | Verb::Vrfy | Verb::Expn | Verb::Etrn | Verb::Help => false,
        };
        !free
    }

    /// Count a command for a host the limit applies to; true when the
    /// count goes over `max`.
    pub fn too_many(&mut self, max: u32) -> bool {
        self.count += 1;
        self.count > max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequences of Exim's test 0034 (smtp_accept_max_nonmail = 3).
    fn dropped_at(cmds: &[Verb]) -> Option<usize> {
        let mut n = NonMail::new();
        for (i, v) in cmds.iter().enumerate() {
            if *v == Verb::Data {
                n.new_message();
                continue;
            }
            if n.counts(*v) && n.too_many(3) {
                return Some(i);
            }
        }
        None
    }

    #[test]
    fn allowances() {
        assert_eq!(dropped_at(&[Verb::Rset; 5]), Some(4));
        assert_eq!(dropped_at(&[Verb::Ehlo; 5]), Some(4));
        assert_eq!(dropped_at(&[Verb::Noop; 4]), Some(3));
        let per_message = [Verb::Rset, Verb::Mail, Verb::Rcpt, Verb::Data];
        let mut s = vec![Verb::Helo];
        for _ in 0..4 {
            s.extend_from_slice(&per_message);
        }
        s.push(Verb::Rset);
        s.push(Verb::Quit);
        assert_eq!(dropped_at(&s), None);
    }
}
