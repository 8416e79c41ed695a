//! `control = submission`: Exim's fix-ups for a message an MUA submits
//! over SMTP (spec 48.1). Message-Id:, From: and Date: are added when
//! missing, as for local messages; without `/sender_retain` a Sender:
//! line from the client is marked deleted, and a client that
//! authenticated becomes the return path and, when the From: address is
//! not its own, the Sender:.

/// The options after `submission/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submission {
    /// `sender_retain`: the client's Sender: and the envelope sender stay.
    pub sender_retain: bool,
    /// `domain=`: the domain for the authenticated address (empty: none).
    pub domain: Option<String>,
    /// `name=`: the full name in a created From: or Sender:; the rest of
    /// the option text, slashes included.
    pub name: Option<String>,
}

impl Submission {
    pub fn parse(options: &str) -> Submission {
        let mut s = Submission::default();
        let mut rest = options;
        while !rest.is_empty() {
            if let Some(name) = rest.strip_prefix("name=") {
                s.name = Some(name.to_string()).filter(|n| !n.is_empty());
                break;
            }
            let (item, after) = rest.split_once('/').unwrap_or((rest, ""));
            if item == "sender_retain" {
                s.sender_retain = true;
            } else if let Some(d) = item.strip_prefix("domain=") {
                s.domain = Some(d.to_string());
            }
            rest = after;
        }
        s
    }

    /// The authenticated id as an address: qualified with `domain=`, or
    /// qualify_domain when that is not given; left bare for an empty one.
    pub fn authenticated_address(&self, id: &str, qualify_domain: &str) -> String {
        match self.domain.as_deref().unwrap_or(qualify_domain) {
            "" => id.to_string(),
            d => format!("{id}@{d}"),
        }
    }

    /// An address as a created header shows it: `Name <a@b>` with a name.
    pub fn mailbox(&self, address: &str) -> String {
        match &self.name {
            Some(n) => format!("{n} <{address}>"),
            None => address.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert_eq!(Submission::parse("sender_retain"), Submission { sender_retain: true, ..Default::default() });
        let s = Submission::parse("domain=/name=Humpty / Dumpty");
        assert_eq!(s.domain.as_deref(), Some(""));
        assert_eq!(s.name.as_deref(), Some("Humpty / Dumpty"));
        assert_eq!(s.authenticated_address("bigegg", "test.ex"), "bigegg");
        assert_eq!(Submission::parse("").authenticated_address("bigegg", "test.ex"), "bigegg@test.ex");
        assert_eq!(s.mailbox("bigegg"), "Humpty / Dumpty <bigegg>");
    }
}
