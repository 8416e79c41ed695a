//! Exim's parse.c: RFC 2822 addresses in header lines. A header's value is
//! cut into addresses where a comma is outside quotes, comments and angle
//! brackets (`find_address_end`), and each is read as a mailbox or a bare
//! address (`Parser::extract_address`), with Exim's error texts. This is
//! what `verify = header_syntax` checks (`check_headers`).
//!
//! The parser works on bytes, as Exim's does: a header may hold any byte.

/// Exim's ADDRESS_MAXLENGTH.
const ADDRESS_MAXLENGTH: usize = 512;

/// The header lines `verify = header_syntax` reads (Exim's header types
/// from, sender, reply-to, to, cc and bcc; Resent- forms of all but
/// Reply-To count as the same types). Sorted.
const ADDRESS_HEADERS: &[&str] =
    &["bcc", "cc", "from", "reply-to", "resent-bcc", "resent-cc", "resent-from", "resent-sender", "resent-to", "sender", "to"];

/// Exim's mac_iscntrl_or_special(): what ends an atom. The NUL of Exim's
/// C strings is the end of the slice here.
fn is_special(c: u8) -> bool {
    c < b' ' || c == 0x7f || b" ()<>@,;:\\\".[]".contains(&c)
}

/// C's isspace().
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Where the address that starts `s` ends: at a comma outside quotes,
/// comments and angle brackets (a source route's commas are inside its
/// route), or at the end; at a newline too when `nl_ends`.
pub fn find_address_end(s: &[u8], nl_ends: bool) -> usize {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut source_routing = at(0) == b'@';
    let mut no_term: i32 = if source_routing { 1 } else { 0 };
    let mut i = 0;
    while i < s.len() && (s[i] != b',' || no_term > 0) && (s[i] != b'\n' || !nl_ends) {
        match s[i] {
            b'\\' if i + 1 < s.len() => i += 2,
            b'"' => {
                i += 1;
                while i < s.len() && (s[i] != b'\n' || !nl_ends) {
                    if s[i] == b'\\' && i + 1 < s.len() {
                        i += 1;
                    } else if s[i] == b'"' {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            b'(' => {
                let mut level = 1;
                i += 1;
                while i < s.len() && (s[i] != b'\n' || !nl_ends) {
                    if s[i] == b'\\' && i + 1 < s.len() {
                        i += 1;
                    } else if s[i] == b'(' {
                        level += 1;
                    } else if s[i] == b')' {
                        level -= 1;
                        if level <= 0 {
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
            }
            c => {
                if c == b'<' {
                    source_routing = at(i + 1) == b'@';
                    no_term = if source_routing { 2 } else { 1 };
                } else if c == b'>' || (source_routing && c == b':') {
                    no_term -= 1;
                }
                i += 1;
            }
        }
    }
    i
}

/// An address read from a mailbox: the address, where it was in the
/// mailbox, and where its domain starts in it (0: no domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub address: Vec<u8>,
    pub start: usize,
    pub end: usize,
    pub domain: usize,
}

/// One reading of a mailbox; Exim's parse_allow_group and
/// parse_found_group flags live across the addresses of one header.
#[derive(Debug, Default)]
pub struct Parser<'a> {
    s: &'a [u8],
    /// Exim's last_comment_position: where the last skip_comment began.
    last_comment: usize,
    pub allow_group: bool,
    pub found_group: bool,
    /// The allow_domain_literals option.
    pub allow_domain_literals: bool,
}

type Step<T> = Result<T, String>;

impl<'a> Parser<'a> {
    /// A parser for one header's addresses (groups allowed).
    pub fn new(allow_domain_literals: bool) -> Parser<'a> {
        Parser { allow_group: true, allow_domain_literals, ..Default::default() }
    }

    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    /// White space and comments (nested, with quoted pairs).
    fn skip_comment(&mut self, mut i: usize) -> usize {
        self.last_comment = i;
        while i < self.s.len() {
            while i < self.s.len() && is_space(self.s[i]) {
                i += 1;
            }
            if self.at(i) != b'(' {
                break;
            }
            let mut level = 1;
            i += 1;
            while i < self.s.len() {
                match self.s[i] {
                    b'(' => level += 1,
                    b')' => {
                        level -= 1;
                        if level <= 0 {
                            i += 1;
                            break;
                        }
                    }
                    b'\\' if i + 1 < self.s.len() => i += 1,
                    _ => {}
                }
                i += 1;
            }
        }
        i
    }

    /// Dot-separated words (atoms or quoted strings) into `t`. Empty words
    /// are let through (".bob", "bob.", "a..b" are seen in the wild); an
    /// empty local part only when `allow_null`.
    fn read_local_part(&mut self, mut i: usize, t: &mut Vec<u8>, allow_null: bool) -> Step<usize> {
        let whole = t.len();
        loop {
            i = self.skip_comment(i);
            if self.at(i) == b'"' {
                t.push(b'"');
                i += 1;
                loop {
                    if i >= self.s.len() {
                        return Err("unmatched doublequote in local part".into());
                    }
                    let c = self.s[i];
                    if c == b'"' {
                        break;
                    }
                    t.push(c);
                    if c == b'\\' && i + 1 < self.s.len() {
                        i += 1;
                        t.push(self.s[i]);
                    }
                    i += 1;
                }
                i += 1;
                t.push(b'"');
            } else {
                // A quoted pair may be part of an atom (RFC 821 local parts).
                while i < self.s.len() && (!is_special(self.s[i]) || self.s[i] == b'\\') {
                    t.push(self.s[i]);
                    if self.s[i] == b'\\' && i + 1 < self.s.len() {
                        i += 1;
                        t.push(self.s[i]);
                    }
                    i += 1;
                }
            }
            i = self.skip_comment(i);
            if t.len() == whole && self.at(i) != b'.' && !allow_null {
                return Err("missing or malformed local part".into());
            }
            if self.at(i) != b'.' {
                return Ok(i);
            }
            t.push(b'.');
            i += 1;
        }
    }

    /// A domain: dot-separated labels of letters, digits and hyphens (not
    /// starting with a hyphen), or a domain literal in brackets: relaxed
    /// (any printing characters but brackets, as Exim reads the domain of
    /// a bare addr-spec) or strict (dotted numbers or an IPv6 address, and
    /// only with allow_domain_literals).
    fn read_domain(&mut self, mut i: usize, t: &mut Vec<u8>, relaxed: bool) -> Step<usize> {
        let whole = t.len();
        i = self.skip_comment(i);
        if self.at(i) == b'[' {
            t.push(b'[');
            i += 1;
            let mut error = None;
            if relaxed {
                while matches!(self.at(i), 33..=90 | 94..=126) {
                    t.push(self.s[i]);
                    i += 1;
                }
            } else {
                if self.s.len() >= i + 5 && self.s[i..i + 5].eq_ignore_ascii_case(b"IPv6:") {
                    t.extend_from_slice(b"IPv6:");
                    i += 5;
                }
                while matches!(self.at(i), b'.' | b':') || self.at(i).is_ascii_hexdigit() {
                    t.push(self.s[i]);
                    i += 1;
                }
            }
            if self.at(i) == b']' {
                t.push(b']');
                i += 1;
            } else {
                error = Some("malformed domain literal");
            }
            if !relaxed && !self.allow_domain_literals {
                error = Some("domain literals not allowed");
            }
            if let Some(e) = error {
                t.truncate(whole);
                return Err(e.into());
            }
            return Ok(self.skip_comment(i));
        }
        loop {
            i = self.skip_comment(i);
            let label = t.len();
            if self.at(i).is_ascii_alphanumeric() {
                while self.at(i).is_ascii_alphanumeric() || self.at(i) == b'-' {
                    t.push(self.s[i]);
                    i += 1;
                }
            }
            if t.len() == label {
                t.truncate(whole);
                return Err("domain missing or malformed".into());
            }
            i = self.skip_comment(i);
            if self.at(i) != b'.' {
                return Ok(i);
            }
            t.push(b'.');
            i += 1;
        }
    }

    /// A source route (`@a,@b:`), which is read and dropped.
    fn read_route(&mut self, mut i: usize) -> Step<usize> {
        let mut commas = false;
        let mut route = Vec::new();
        while self.at(i) == b'@' {
            route.clear();
            i = self.read_domain(i + 1, &mut route, false)?;
            if self.at(i) != b',' {
                break;
            }
            commas = true;
            i = self.skip_comment(i + 1);
        }
        if self.at(i) == b':' {
            i += 1;
        } else if commas {
            return Err("colon expected after route list".into());
        } else {
            return Err("no local part".into());
        }
        Ok(self.skip_comment(i))
    }

    /// local-part@domain, ended by `term` (0: the end); the domain's
    /// offset in `t` goes to `domain`.
    fn read_addr_spec(&mut self, i: usize, t: &mut Vec<u8>, term: u8, domain: &mut usize) -> Step<usize> {
        let i = self.read_local_part(i, t, false)?;
        if self.at(i) == term && (term != 0 || i >= self.s.len()) {
            return Ok(i);
        }
        if self.at(i) != b'@' || i >= self.s.len() {
            return Err(format!("\"@\" or \".\" expected after \"{}\"", crate::bytes::from_bytes(t)));
        }
        t.push(b'@');
        *domain = t.len();
        self.read_domain(i + 1, t, false)
    }

    /// Exim's parse_extract_address(): the address in `mailbox` (`Name
    /// <a@b>`, `a@b (comment)`, a group's `name: a@b;`...), or Exim's text
    /// for what is wrong with it.
    pub fn extract_address(&mut self, mailbox: &'a [u8], allow_null: bool) -> Step<Extracted> {
        self.s = mailbox;
        let mut i = 0;
        let mut t = Vec::new();
        let r = self.extract_inner(&mut i, &mut t, allow_null);
        if r.is_err() && self.found_group && self.at(i) == b';' {
            self.found_group = false;
            self.allow_group = true;
        }
        let (start, end, domain) = r?;
        if end.saturating_sub(start) > ADDRESS_MAXLENGTH {
            let shown: Vec<u8> = t.iter().copied().take(64).collect();
            return Err(format!("address is ridiculously long: {}...", crate::bytes::from_bytes(&shown)));
        }
        Ok(Extracted { address: t, start, end, domain })
    }

    fn extract_inner(&mut self, i: &mut usize, t: &mut Vec<u8>, allow_null: bool) -> Step<(usize, usize, usize)> {
        let mut domain = 0;
        let (start, end);
        loop {
            *i = self.skip_comment(*i);
            let addr_spec_start = *i;
            t.clear();
            *i = self.read_local_part(*i, t, true)?;
            let c = self.at(*i);
            if c != b'@' && c != b'<' {
                if *i >= self.s.len() || c == b';' {
                    if t.is_empty() {
                        return Err("empty address".into());
                    }
                    start = addr_spec_start;
                    end = self.last_comment;
                    break;
                }
                // A phrase before <route-addr>, or a group's name before ':'.
                let mut phrase = Vec::new();
                while self.at(*i) != b'<' && (!self.allow_group || self.at(*i) != b':') {
                    phrase.clear();
                    *i = self.read_local_part(*i, &mut phrase, false).map_err(|e| format!("{e} (expected word or \"<\")"))?;
                }
                if self.at(*i) == b':' {
                    self.found_group = true;
                    self.allow_group = false;
                    *i += 1;
                    continue;
                }
            }
            if self.at(*i) == b'<' {
                *i += 1;
                t.clear();
                start = *i;
                *i = self.skip_comment(*i);
                let source_routed = self.at(*i) == b'@';
                if source_routed {
                    *i = self.read_route(*i)?;
                }
                if allow_null && !source_routed && self.at(*i) == b'>' {
                    t.clear();
                } else {
                    *i = self.read_addr_spec(*i, t, b'>', &mut domain)?;
                    if source_routed && domain == 0 {
                        return Err("domain missing in source-routed address".into());
                    }
                }
                end = *i;
                if self.at(*i) != b'>' {
                    return Err(if *i >= self.s.len() {
                        "'>' missing at end of address".to_string()
                    } else {
                        self.may_not_follow(*i)
                    });
                }
                *i = self.skip_comment(*i + 1);
            } else if t.is_empty() {
                // `@route:local@domain` without brackets; the route is dropped.
                *i = self.read_route(*i)?;
                *i = self.read_addr_spec(*i, t, 0, &mut domain)?;
                if domain == 0 {
                    return Err("domain missing in source-routed address".into());
                }
                start = addr_spec_start;
                end = self.last_comment;
            } else {
                t.push(b'@');
                domain = t.len();
                *i = self.read_domain(*i + 1, t, true)?;
                start = addr_spec_start;
                end = self.last_comment;
            }
            break;
        }
        // A group's ';' ends it, and what follows is not looked at.
        if *i < self.s.len() {
            if !(self.found_group && self.at(*i) == b';') {
                return Err(self.may_not_follow(*i));
            }
            self.found_group = false;
            self.allow_group = true;
        }
        let mut end = end;
        while end > start && is_space(self.s[end - 1]) {
            end -= 1;
        }
        Ok((start, end, domain))
    }

    /// Exim's "malformed address: %.32s may not follow %.*s".
    fn may_not_follow(&self, i: usize) -> String {
        let rest = &self.s[i..self.s.len().min(i + 32)];
        format!("malformed address: {} may not follow {}", crate::bytes::from_bytes(rest), crate::bytes::from_bytes(&self.s[..i]))
    }
}

/// Exim's verify_check_headers(): every address in the message's address
/// headers must parse, and have a domain unless the host may send
/// unqualified addresses (`sender_ok` for From: and Sender:,
/// `recipient_ok` for the others). `Err` is $acl_verify_message.
pub fn check_headers(headers: &[String], sender_ok: bool, recipient_ok: bool, allow_domain_literals: bool) -> Result<(), String> {
    for h in headers {
        let Some((name, _)) = h.split_once(':') else { continue };
        let lower = name.trim_end().to_ascii_lowercase();
        if ADDRESS_HEADERS.binary_search(&lower.as_str()).is_err() {
            continue;
        }
        let is_sender = matches!(lower.trim_start_matches("resent-"), "from" | "sender");
        let text = crate::bytes::to_bytes(h);
        let mut parser = Parser::new(allow_domain_literals);
        for piece in address_pieces(&text, name.len() + 1) {
            let piece = &text[piece];
            let error = match parser.extract_address(piece, false) {
                Ok(a) if a.domain == 0 && !(if is_sender { sender_ok } else { recipient_ok }) => {
                    Some("unqualified address not permitted".to_string())
                }
                Ok(_) => None,
                Err(e) if e == "empty address" => None,
                Err(e) => Some(e),
            };
            if let Some(e) = error {
                let mut t = piece.len();
                while t > 0 && is_space(piece[t - 1]) {
                    t -= 1;
                }
                let (verb, shown) = if t > 1024 { ("begins", &piece[..1024]) } else { ("is", &piece[..t]) };
                let message = format!(
                    "{e}: failing address in \"{}:\" header {verb}: {}",
                    name.trim_end(),
                    crate::bytes::from_bytes(shown)
                );
                return Err(crate::expand::printing(&message));
            }
        }
    }
    Ok(())
}

/// Where the addresses of a header line's value lie (Exim's loop over
/// parse_find_address_end()): `text` from `start`, white space around
/// each piece left out.
pub fn address_pieces(text: &[u8], start: usize) -> Vec<std::ops::Range<usize>> {
    let skip_space = |mut s: usize| {
        while s < text.len() && is_space(text[s]) {
            s += 1;
        }
        s
    };
    let mut pieces = Vec::new();
    let mut s = skip_space(start);
    while s < text.len() {
        let end = s + find_address_end(&text[s..], false);
        pieces.push(s..end);
        s = skip_space(end + usize::from(end < text.len()));
    }
    pieces
}

/// The addresses of a header line that can be read, in order (one
/// parser for the line, so that groups work).
pub fn header_addresses(header: &str, allow_domain_literals: bool) -> Vec<Extracted> {
    let text = crate::bytes::to_bytes(header);
    let Some(colon) = text.iter().position(|&c| c == b':') else { return Vec::new() };
    let mut parser = Parser::new(allow_domain_literals);
    address_pieces(&text, colon + 1).into_iter().filter_map(|piece| parser.extract_address(&text[piece], false).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(s: &str) -> Result<String, String> {
        let mut p = Parser::new(false);
        p.extract_address(s.as_bytes(), false).map(|a| String::from_utf8(a.address).unwrap())
    }

    #[test]
    fn header_types_are_sorted() {
        assert!(ADDRESS_HEADERS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn mailboxes() {
        assert_eq!(extract("Name <a@b.c>"), Ok("a@b.c".into()));
        assert_eq!(extract("a@b.c (comment)"), Ok("a@b.c".into()));
        assert_eq!(extract("<@r.s,@t.u:a@b.c>"), Ok("a@b.c".into()));
        assert_eq!(extract("\"a b\"@c.d"), Ok("\"a b\"@c.d".into()));
        assert_eq!(extract("<a@b.c"), Err("'>' missing at end of address".into()));
        assert_eq!(extract("a@b c.d"), Err("malformed address: c.d may not follow a@b ".into()));
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for s in ["", "<", "\"", "(", "@", "<@", "<@a", "@a,", "\\", "a@[", "a@[x", ";", ":", "<>", "a:b;c"] {
            let mut p = Parser::new(false);
            let _ = p.extract_address(s.as_bytes(), true);
            let _ = find_address_end(s.as_bytes(), true);
        }
    }
}
