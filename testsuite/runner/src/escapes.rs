//! Backslash escapes of the client/server script languages and Perl's
//! double-quoted strings (the `:eval:` data-line directive).

/// Client/server escapes: \r, \n, \xHH, and \c for any other c.
pub fn unescape_script(s: &str) -> Vec<u8> {
    let b = crate::script::encode(s);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = b[i + 1];
            i += 2;
            match c {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b'x' if i + 2 <= b.len() && b[i..i + 2].iter().all(|d| d.is_ascii_hexdigit()) => {
                    out.push(u8::from_str_radix(std::str::from_utf8(&b[i..i + 2]).unwrap(), 16).unwrap());
                    i += 2;
                }
                other => out.push(other),
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// A Perl double-quoted string: \r \n \t \e \0, \xHH, \x{HHHH}, octal \NNN.
pub fn unescape_perl(s: &str) -> Vec<u8> {
    let b = crate::script::encode(s);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'e' => out.push(0x1b),
            b'a' => out.push(0x07),
            b'f' => out.push(0x0c),
            b'x' => {
                if b.get(i) == Some(&b'{') {
                    let end = b[i..].iter().position(|&d| d == b'}').map(|e| i + e).unwrap_or(b.len());
                    let v = u32::from_str_radix(&String::from_utf8_lossy(&b[i + 1..end]), 16).unwrap_or(0);
                    let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    i = (end + 1).min(b.len());
                } else {
                    let n = b[i..].iter().take(2).take_while(|d| d.is_ascii_hexdigit()).count();
                    let v = u8::from_str_radix(&String::from_utf8_lossy(&b[i..i + n]), 16).unwrap_or(0);
                    out.push(v);
                    i += n;
                }
            }
            b'0'..=b'7' => {
                let start = i - 1;
                let n = b[start..].iter().take(3).take_while(|d| (b'0'..=b'7').contains(d)).count();
                let v = u32::from_str_radix(&String::from_utf8_lossy(&b[start..start + n]), 8).unwrap_or(0);
                out.push(v as u8);
                i = start + n;
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_escapes() {
        assert_eq!(unescape_script(r"a\r\nb\x41\\\q"), b"a\r\nbA\\q".to_vec());
    }

    #[test]
    fn perl_escapes() {
        assert_eq!(unescape_perl(r"\x41\101\r\n\t"), b"AA\r\n\t".to_vec());
        assert_eq!(unescape_perl(r"\x{e9}"), "\u{e9}".as_bytes().to_vec());
    }
}
