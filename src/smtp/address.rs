//! Extracting the address from a MAIL/RCPT argument, with Exim's error
//! texts (parse_extract_address for the route-addr forms SMTP allows).

/// A parsed address: the address without angle brackets, comments and
/// white space (quotes and backslashes kept, as Exim keeps them), and
/// whether it had a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub address: String,
    pub has_domain: bool,
}

/// RFC 822 specials, which end an atom.
const SPECIALS: &[u8] = b"()<>@,;:\\\".[]";

fn ends_atom(c: u8) -> bool {
    c <= b' ' || c == 0x7f || SPECIALS.contains(&c)
}

/// Exim's text for trailing junk: at most 32 bytes of it, then what came
/// before it (white space included).
fn junk_error(s: &str, at: usize) -> String {
    let after = &s[at..];
    let mut end = after.len().min(32);
    while !after.is_char_boundary(end) {
        end -= 1;
    }
    format!("malformed address: {} may not follow {}", &after[..end], &s[..at])
}

/// A cursor over the argument; positions are byte offsets.
struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skip white space and (nested, possibly unterminated) comments.
    fn skip_comment(&mut self) {
        loop {
            while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                self.i += 1;
            }
            if self.peek() != Some(b'(') {
                return;
            }
            let mut level = 0;
            while let Some(c) = self.peek() {
                self.i += 1;
                match c {
                    b'\\' => self.i = (self.i + 1).min(self.b.len()),
                    b'(' => level += 1,
                    b')' => {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Copy from `start` to the cursor, whole characters.
    fn take(&self, start: usize, out: &mut String) {
        out.push_str(&self.s[start..self.i]);
    }

    /// Advance past one character (a multibyte one whole).
    fn bump(&mut self) {
        self.i += 1;
        while self.i < self.b.len() && !self.s.is_char_boundary(self.i) {
            self.i += 1;
        }
    }

    /// Exim's read_local_part(): words (atoms with quoted pairs, or quoted
    /// strings, both copied as written) joined by dots; empty words are
    /// allowed before a dot, and runs of dots are kept.
    fn local_part(&mut self, allow_null: bool) -> Result<String, String> {
        let mut out = String::new();
        loop {
            let before = out.len();
            self.skip_comment();
            let start = self.i;
            if self.peek() == Some(b'"') {
                self.i += 1;
                loop {
                    match self.peek() {
                        None => return Err("unmatched doublequote in local part".into()),
                        Some(b'"') => {
                            self.i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            self.i += 1;
                            if self.i < self.b.len() {
                                self.bump();
                            }
                        }
                        Some(_) => self.bump(),
                    }
                }
            } else {
                while let Some(c) = self.peek() {
                    if c == b'\\' {
                        self.i += 1;
                        if self.i < self.b.len() {
                            self.bump();
                        }
                    } else if ends_atom(c) {
                        break;
                    } else {
                        self.bump();
                    }
                }
            }
            self.take(start, &mut out);
            self.skip_comment();
            if out.len() == before && self.peek() != Some(b'.') {
                if before == 0 && !allow_null {
                    return Err("missing or malformed local part".into());
                }
                return Ok(out);
            }
            if self.peek() != Some(b'.') {
                return Ok(out);
            }
            while self.peek() == Some(b'.') {
                out.push('.');
                self.i += 1;
            }
        }
    }

    /// Exim's read_domain(): a domain literal, or words of letters, digits
    /// and hyphens (starting with a letter or digit) joined by single dots.
    fn domain(&mut self, literals: bool) -> Result<String, String> {
        self.skip_comment();
        let mut out = String::new();
        if self.peek() == Some(b'[') {
            if !literals {
                return Err("domain literals not allowed".into());
            }
            let start = self.i;
            while self.peek().is_some_and(|c| c != b']') {
                self.bump();
            }
            if self.peek().is_none() {
                return Err("malformed domain literal".into());
            }
            self.i += 1;
            self.take(start, &mut out);
            self.skip_comment();
            return Ok(out);
        }
        loop {
            self.skip_comment();
            let start = self.i;
            if !self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                return Err("domain missing or malformed".into());
            }
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-') {
                self.i += 1;
            }
            self.take(start, &mut out);
            self.skip_comment();
            if self.peek() != Some(b'.') {
                return Ok(out);
            }
            out.push('.');
            self.i += 1;
        }
    }

    /// A source route `@a,@b:` (Exim drops it): Exim's texts for a route
    /// that does not end in a colon.
    fn route(&mut self, literals: bool) -> Result<(), String> {
        let mut listed = false;
        while self.peek() == Some(b'@') {
            self.i += 1;
            self.domain(literals)?;
            if self.peek() != Some(b',') {
                break;
            }
            listed = true;
            self.i += 1;
            self.skip_comment();
        }
        match self.peek() {
            Some(b':') => {
                self.i += 1;
                Ok(())
            }
            _ if listed => Err("colon expected after route list".into()),
            _ => Err("no local part".into()),
        }
    }
}

/// Parse `<local@domain>`, `local@domain`, `<>` (when `allow_empty`),
/// source routes `<@a,@b:x@y>` (dropped as Exim does), with comments and
/// white space between the words.
pub fn parse(arg: &str, allow_empty: bool, domain_literals: bool) -> Result<Parsed, String> {
    let s = arg.trim();
    let mut r = Reader { s, b: s.as_bytes(), i: 0 };
    r.skip_comment();
    let bracketed = r.peek() == Some(b'<');
    if bracketed {
        r.i += 1;
        r.skip_comment();
        if allow_empty && r.peek() == Some(b'>') {
            r.i += 1;
            r.skip_comment();
            if r.i < s.len() {
                return Err(junk_error(s, r.i));
            }
            return Ok(Parsed { address: String::new(), has_domain: false });
        }
    }
    if r.peek() == Some(b'@') {
        r.route(domain_literals)?;
    }
    let local = r.local_part(allow_empty && !bracketed)?;
    let (address, has_domain) = match r.peek() {
        Some(b'@') => {
            r.i += 1;
            let domain = r.domain(domain_literals)?;
            (format!("{local}@{domain}"), true)
        }
        None if !bracketed => (local, false),
        Some(b'>') if bracketed => (local, false),
        _ => return Err(format!("\"@\" or \".\" expected after \"{local}\"")),
    };
    if bracketed {
        match r.peek() {
            None => return Err("'>' missing at end of address".into()),
            Some(b'>') => {
                r.i += 1;
                r.skip_comment();
            }
            Some(_) => return Err(junk_error(s, r.i)),
        }
    }
    if r.i < s.len() {
        return Err(junk_error(s, r.i));
    }
    Ok(Parsed { address, has_domain })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(a: &str) -> String {
        parse(a, false, false).unwrap_err()
    }

    fn ok(a: &str) -> String {
        parse(a, false, false).unwrap().address
    }

    /// Recorded from Exim 4.96 (`exim -bh`, RCPT TO:).
    #[test]
    fn exim_texts() {
        assert_eq!(ok("<a@b.c>"), "a@b.c");
        assert_eq!(parse("<>", true, false).unwrap().address, "");
        assert_eq!(err("<>"), "missing or malformed local part");
        assert_eq!(err("<a b>"), "\"@\" or \".\" expected after \"a\"");
        assert_eq!(err("<x@y.z> FOO=bar"), "malformed address: FOO=bar may not follow <x@y.z> ");
        assert_eq!(parse("<postmaster>", false, false).unwrap(), Parsed { address: "postmaster".into(), has_domain: false });
        assert_eq!(ok("<@r1,@r2:u@d>"), "u@d");
        assert_eq!(ok("<.dot@test.ex>"), ".dot@test.ex");
        assert_eq!(ok("<a. .b@test.ex>"), "a..b@test.ex");
        assert_eq!(ok("<a.@test.ex>"), "a.@test.ex");
        assert_eq!(ok("<...@d>"), "...@d");
        assert_eq!(ok("<x@ d(c) . e>"), "x@d.e");
        assert_eq!(ok("<(c)x(c)@d(c)>"), "x@d");
        assert_eq!(ok("<@ a , @b : x@d>"), "x@d");
        assert_eq!(ok("<@a,:x@d>"), "x@d");
        assert_eq!(ok("<x@d>(c"), "x@d");
        assert_eq!(ok("<x@a--b>"), "x@a--b");
        assert_eq!(err("<@test.ex>"), "no local part");
        assert_eq!(err("<@a@b:x@d>"), "no local part");
        assert_eq!(err("<@a,b:x@d>"), "colon expected after route list");
        assert_eq!(err("<@a,@b x@d>"), "colon expected after route list");
        assert_eq!(err("<@:x@d>"), "domain missing or malformed");
        assert_eq!(err("<x@.d>"), "domain missing or malformed");
        assert_eq!(err("<x@d.>"), "domain missing or malformed");
        assert_eq!(err("<x@-d>"), "domain missing or malformed");
        assert_eq!(parse("<a@[127.0.0.1>", false, true).unwrap_err(), "malformed domain literal");
        assert_eq!(err("<x@é.d>"), "domain missing or malformed");
        assert_eq!(err("<x@[1.2>"), "domain literals not allowed");
        assert_eq!(err("<x@a_b.c>"), "malformed address: _b.c> may not follow <x@a");
        assert_eq!(err("<x@d e>"), "malformed address: e> may not follow <x@d ");
        assert_eq!(err("<a@b@c>"), "malformed address: @c> may not follow <a@b");
        assert_eq!(err("x@d junk"), "malformed address: junk may not follow x@d ");
        assert_eq!(err("x@d>"), "malformed address: > may not follow x@d");
        assert_eq!(err("<x@d>>"), "malformed address: > may not follow <x@d>");
        assert_eq!(err("<x@d"), "'>' missing at end of address");
        assert_eq!(err("<x@d(unterminated>"), "'>' missing at end of address");
        assert_eq!(err("<.x"), "\"@\" or \".\" expected after \".x\"");
        assert_eq!(err("<x.y z@d>"), "\"@\" or \".\" expected after \"x.y\"");
        assert_eq!(err("<\"a\"b@d>"), "\"@\" or \".\" expected after \"\"a\"\"");
        assert_eq!(err("<a\\>"), "\"@\" or \".\" expected after \"a\\>\"");
        assert_eq!(err("<\"unterminated@d>"), "unmatched doublequote in local part");
        assert_eq!(err("<<x@d>>"), "missing or malformed local part");
        assert_eq!(err("<(c>"), "missing or malformed local part");
    }
}
