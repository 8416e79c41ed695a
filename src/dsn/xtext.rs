//! xtext (RFC 3461 section 4): printable ASCII other than `+` and `=` as
//! itself, any other byte as `+` and two upper-case hex digits. ENVID and
//! ORCPT's address travel in it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XtextError {
    /// A byte outside xchar (33..126 less `+` and `=`) at this offset.
    BadChar(usize),
    /// A `+` not followed by two upper-case hex digits, at this offset.
    BadHex(usize),
}

fn is_xchar(b: u8) -> bool {
    (33..=126).contains(&b) && b != b'+' && b != b'='
}

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if is_xchar(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

fn upper_hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

pub fn decode(text: &str) -> Result<Vec<u8>, XtextError> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                let hi = b.get(i + 1).copied().and_then(upper_hex);
                let lo = b.get(i + 2).copied().and_then(upper_hex);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(XtextError::BadHex(i)),
                }
                i += 3;
            }
            c if is_xchar(c) => {
                out.push(c);
                i += 1;
            }
            _ => return Err(XtextError::BadChar(i)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_examples() {
        assert_eq!(encode(b"a+b=c d"), "a+2Bb+3Dc+20d");
        assert_eq!(decode("a+2Bb+3Dc+20d").unwrap(), b"a+b=c d");
        assert_eq!(decode("a+ZZ"), Err(XtextError::BadHex(1)));
        assert_eq!(decode("a+2b"), Err(XtextError::BadHex(1)));
        assert_eq!(decode("a+2"), Err(XtextError::BadHex(1)));
        assert_eq!(decode("a=b"), Err(XtextError::BadChar(1)));
    }
}
