//! Where an ACL runs: Exim's `ACL_WHERE_*` values, the names Exim prints
//! for them, the options that name them and what happens when unset.

/// The point in a session at which an ACL is run (Exim's `acl_where`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Where {
    Rcpt,
    Mail,
    Predata,
    Mime,
    Dkim,
    Data,
    Prdr,
    NotSmtp,
    NotSmtpMime,
    NotSmtpStart,
    Connect,
    Helo,
    Auth,
    Etrn,
    Expn,
    Vrfy,
    MailAuth,
    Starttls,
    Quit,
    NotQuit,
    /// `${acl}` and the `acl` expansion condition outside any hook.
    Expansion,
}

/// What happens when a hook's option is unset (spec "Unset ACL options").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsetDefault {
    Accept,
    Deny,
    /// QUIT, not-QUIT and not-SMTP-start ACLs are for side effects only.
    Nothing,
}

impl Where {
    pub const ALL: [Where; 21] = [
        Where::Rcpt,
        Where::Mail,
        Where::Predata,
        Where::Mime,
        Where::Dkim,
        Where::Data,
        Where::Prdr,
        Where::NotSmtp,
        Where::NotSmtpMime,
        Where::NotSmtpStart,
        Where::Connect,
        Where::Helo,
        Where::Auth,
        Where::Etrn,
        Where::Expn,
        Where::Vrfy,
        Where::MailAuth,
        Where::Starttls,
        Where::Quit,
        Where::NotQuit,
        Where::Expansion,
    ];

    /// A bit for the "forbidden in" masks of the condition table.
    pub const fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Exim's `acl_wherenames[]`, as used in error texts.
    pub fn name(self) -> &'static str {
        match self {
            Where::Rcpt => "RCPT",
            Where::Mail => "MAIL",
            Where::Predata => "PREDATA",
            Where::Mime => "MIME",
            Where::Dkim => "DKIM",
            Where::Data => "DATA",
            Where::Prdr => "PRDR",
            Where::NotSmtp => "non-SMTP",
            Where::NotSmtpMime => "non-SMTP MIME",
            Where::NotSmtpStart => "non-SMTP start",
            Where::Connect => "connection",
            Where::Helo => "EHLO or HELO",
            Where::Auth => "AUTH",
            Where::Etrn => "ETRN",
            Where::Expn => "EXPN",
            Where::Vrfy => "VRFY",
            Where::MailAuth => "MAILAUTH",
            Where::Starttls => "STARTTLS",
            Where::Quit => "QUIT",
            Where::NotQuit => "NOTQUIT",
            Where::Expansion => "expansion",
        }
    }

    /// The main option that names the ACL for this hook.
    pub fn option(self) -> Option<&'static str> {
        Some(match self {
            Where::Rcpt => "acl_smtp_rcpt",
            Where::Mail => "acl_smtp_mail",
            Where::Predata => "acl_smtp_predata",
            Where::Mime => "acl_smtp_mime",
            Where::Dkim => "acl_smtp_dkim",
            Where::Data => "acl_smtp_data",
            Where::Prdr => "acl_smtp_data_prdr",
            Where::NotSmtp => "acl_not_smtp",
            Where::NotSmtpMime => "acl_not_smtp_mime",
            Where::NotSmtpStart => "acl_not_smtp_start",
            Where::Connect => "acl_smtp_connect",
            Where::Helo => "acl_smtp_helo",
            Where::Auth => "acl_smtp_auth",
            Where::Etrn => "acl_smtp_etrn",
            Where::Expn => "acl_smtp_expn",
            Where::Vrfy => "acl_smtp_vrfy",
            Where::MailAuth => "acl_smtp_mailauth",
            Where::Starttls => "acl_smtp_starttls",
            Where::Quit => "acl_smtp_quit",
            Where::NotQuit => "acl_smtp_notquit",
            Where::Expansion => return None,
        })
    }

    /// What an unset option means for this hook.
    pub fn unset_default(self) -> UnsetDefault {
        match self {
            Where::Rcpt | Where::Etrn | Where::Expn | Where::Vrfy => UnsetDefault::Deny,
            Where::Quit | Where::NotQuit | Where::NotSmtpStart => UnsetDefault::Nothing,
            Where::Prdr => UnsetDefault::Accept,
            _ => UnsetDefault::Accept,
        }
    }

    /// ACLs run for a message (as opposed to a connection or a command):
    /// `warn message =` adds a header only in these.
    pub fn is_message_acl(self) -> bool {
        matches!(
            self,
            Where::Rcpt | Where::Mail | Where::Predata | Where::Mime | Where::Dkim | Where::Data | Where::Prdr | Where::NotSmtp
        )
    }

    /// Where the `discard` verb may be used (spec "ACL return codes").
    pub fn allows_discard(self) -> bool {
        matches!(
            self,
            Where::Mail | Where::Rcpt | Where::Data | Where::Mime | Where::Dkim | Where::Prdr | Where::NotSmtp | Where::NotSmtpMime | Where::Expansion
        )
    }
}
