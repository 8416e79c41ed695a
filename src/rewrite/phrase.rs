//! The text around an address that a `w` rule puts into a header line:
//! Exim's parse_fix_phrase() makes it a valid phrase or comment again.

/// The replacement of a `w` rule as it goes into the header: the text
/// before and after the address (`start..end` in `new`, angle brackets
/// kept) fixed up. Returns it with where the address now lies.
pub fn whole_address(new: &str, start: usize, end: usize, charset: &str) -> (String, usize, usize) {
    let b = new.as_bytes();
    let open = if start > 0 && b[start - 1] == b'<' { start - 1 } else { start };
    let close = if end < b.len() && b[end] == b'>' { end + 1 } else { end };
    let before = fix_phrase(new[..open].trim_matches(is_space), charset);
    let after = fix_phrase(new[close..].trim_matches(is_space), charset);
    let mut out = String::new();
    if !before.is_empty() {
        out.push_str(&before);
        out.push(' ');
    }
    let address_at = out.len() + (start - open);
    out.push_str(&new[open..close]);
    if !after.is_empty() {
        out.push(' ');
        out.push_str(&after);
    }
    (out, address_at, address_at + (end - start))
}

fn is_space(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// Exim's parse_fix_phrase(): RFC 2047 encoding when a character is not
/// printable ASCII, else the whole phrase quoted when it has a special
/// character outside quotes, comments and escapes.
pub fn fix_phrase(phrase: &str, charset: &str) -> String {
    let bytes = crate::bytes::to_bytes(phrase);
    if bytes.iter().any(|&c| (c < 32 && c != b'\t') || c > 126) {
        return crate::expand::rfc2047(phrase, charset);
    }
    let mut out = String::with_capacity(phrase.len() + 2);
    let mut quoted = false;
    let mut chars = phrase.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(q) = chars.next() {
                    out.push(q);
                    if q == '"' {
                        break;
                    }
                    if q == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    }
                }
            }
            '\\' => {
                out.push('\\');
                if let Some(e) = chars.next() {
                    out.push(e);
                }
            }
            '(' => {
                out.push('(');
                let mut level = 1;
                while let Some(q) = chars.next() {
                    out.push(q);
                    match q {
                        '(' => level += 1,
                        ')' => {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                        }
                        '\\' => {
                            if let Some(e) = chars.next() {
                                out.push(e);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ if ")<>@,;:.[]".contains(c) => {
                if !quoted {
                    out.insert(0, '"');
                    quoted = true;
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if quoted {
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_as_exim_fixes_them() {
        assert_eq!(fix_phrase("a phrase", "UTF-8"), "a phrase");
        assert_eq!(fix_phrase("a 4. phrase", "UTF-8"), "\"a 4. phrase\"");
        assert_eq!(fix_phrase("(a comment AÄ)", "UTF-8"), "=?UTF-8?Q?=28a_comment_A=C3=84=29?=");
        assert_eq!(whole_address("a phrase <x@y> (c)", 10, 13, "UTF-8"), ("a phrase <x@y> (c)".into(), 10, 13));
        assert_eq!(whole_address("a.b <x@y>", 5, 8, "UTF-8"), ("\"a.b\" <x@y>".into(), 7, 10));
    }
}
