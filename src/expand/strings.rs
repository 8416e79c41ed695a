//! String operators that work on bytes as Exim does.

use super::error::ExpandError;

fn fail<T>(msg: impl Into<String>) -> Result<T, ExpandError> {
    Err(ExpandError::Failed(msg.into()))
}

use crate::bytes::{from_bytes, from_vec, to_bytes};

/// Exim's extract_substr: a negative start counts from the right; a
/// negative length means "unset".
pub fn extract_substr(subject: &str, start: i64, len: i64) -> String {
    let subject = to_bytes(subject);
    let sublen = subject.len() as i64;
    let (mut v1, mut v2) = (start, len);
    if v1 < 0 {
        v1 += sublen;
        if v1 < 0 {
            v2 += v1;
            if v2 < 0 {
                v2 = 0;
            }
            v1 = 0;
        } else if v2 < 0 {
            v2 = v1;
            v1 = 0;
        }
    } else if v1 > sublen {
        v1 = sublen;
        v2 = 0;
    } else if v2 < 0 {
        v2 = sublen;
    }
    if v1 + v2 > sublen {
        v2 = sublen - v1;
    }
    from_bytes(&subject[v1 as usize..(v1 + v2) as usize]).into_owned()
}

const HASHCODES: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Exim's textual hash (`${hash_N_M:...}`).
pub fn compute_hash(subject: &str, len: i64, modulus: i64) -> Result<String, ExpandError> {
    let modulus = if modulus < 0 { 26 } else { modulus };
    if modulus > HASHCODES.len() as i64 {
        return fail(format!("hash count \"{modulus}\" too big"));
    }
    let mut b = to_bytes(subject).into_owned();
    if len < 0 || len as usize >= b.len() {
        return Ok(subject.to_string());
    }
    let v1 = len as usize;
    if v1 == 0 {
        return Ok(String::new());
    }
    let (mut i, mut j) = (0usize, v1);
    while j < b.len() {
        let c = u32::from(b[j]);
        let shift = (c + j as u32) & 7;
        j += 1;
        b[i] ^= (((c << shift) | (c >> (8 - shift))) & 0xff) as u8;
        i += 1;
        if i >= v1 {
            i = 0;
        }
    }
    if modulus == 0 {
        // Exim divides by zero here (SIGFPE); we report it.
        return fail("hash count \"0\" too small");
    }
    Ok(b[..v1].iter().map(|&c| HASHCODES[(c as i64 % modulus) as usize] as char).collect())
}

const PRIMES: [u64; 30] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101,
    103, 107, 109, 113,
];

/// Exim's numeric hash (`${nhash_N[_M]:...}`). Exim divides by zero
/// (SIGFPE) on a zero count; we report it instead.
pub fn compute_nhash(subject: &str, v1: i64, v2: i64) -> Result<String, ExpandError> {
    if v1 <= 0 || v2 == 0 {
        return fail("nhash value is zero");
    }
    let mut total: u64 = 0;
    let mut i = 0usize;
    for &c in to_bytes(subject).iter() {
        if i == 0 {
            i = PRIMES.len() - 1;
        }
        total = total.wrapping_add(PRIMES[i] * u64::from(c));
        i -= 1;
    }
    let (v1, v2) = (v1 as u64, v2);
    Ok(if v2 < 0 {
        (total % v1).to_string()
    } else {
        let v2 = v2 as u64;
        let t = total % (v1 * v2);
        format!("{}/{}", t / v2, t % v2)
    })
}

/// `${escape:...}`: non-printing characters as C-style escapes; with
/// `top_bit` (print_topbitchars) bytes above 0x7f count as printing.
pub fn string_printing(s: &str, allow_tab: bool, top_bit: bool) -> String {
    let b = to_bytes(s);
    let mut out = Vec::with_capacity(b.len());
    for &b in b.iter() {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' if !allow_tab => out.extend_from_slice(b"\\t"),
            0x20..=0x7e | b'\t' => out.push(b),
            0x80..=0xff if top_bit => out.push(b),
            _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
        }
    }
    from_vec(out)
}

/// `${escape8bit:...}`: DEL, bytes with the top bit set and the
/// backslash itself (so that the result can be unescaped) become octal.
pub fn escape8bit(s: &str) -> String {
    let mut out = String::new();
    for &b in to_bytes(s).iter() {
        if b >= 0x7f || b == b'\\' {
            out.push_str(&format!("\\{b:03o}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

pub fn hexquote(s: &str) -> String {
    let mut out = String::new();
    for &b in to_bytes(s).iter() {
        if (0x21..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `${quote:...}`: quoted when anything but alphanumerics, `_`, `.`, `-`.
/// Other bytes pass through as they are.
pub fn quote(s: &str) -> String {
    let plain = s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if plain && !s.is_empty() {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `${rxquote:...}`: a backslash before every byte that is not
/// alphanumeric (each byte of a multibyte character).
pub fn rxquote(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() * 2);
    for &b in to_bytes(s).iter() {
        if !b.is_ascii_alphanumeric() {
            out.push(b'\\');
        }
        out.push(b);
    }
    from_vec(out)
}

pub fn quote_redis(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c == ' ' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `${from_utf8:...}`: each UTF-8 sequence becomes the byte of its code
/// point, or `_` above 255. Exim decodes without checking (its GETUTF8INC):
/// a lead byte takes as many following bytes as it announces, whatever
/// they are, and an 0xFE or 0xFF announces five.
pub fn from_utf8(s: &str) -> String {
    // How many bytes follow lead bytes 0xC0 to 0xFF, and the bits of the
    // lead byte kept for each count.
    const MORE: [u8; 64] = [
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5,
    ];
    const KEEP: [u32; 6] = [0xff, 0x1f, 0x0f, 0x07, 0x03, 0x01];
    let b = to_bytes(s);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let mut c = u32::from(b[i]);
        i += 1;
        if c & 0xc0 == 0xc0 {
            let more = usize::from(MORE[(c & 0x3f) as usize]);
            let mut shift = 6 * more;
            c = (c & KEEP[more]) << shift;
            for _ in 0..more {
                shift -= 6;
                // Past the end Exim reads the terminating NUL (and beyond).
                c |= (u32::from(b.get(i).copied().unwrap_or(0)) & 0x3f) << shift;
                i += 1;
            }
        }
        out.push(if c > 255 { b'_' } else { c as u8 });
    }
    // Exim adds the bytes one by one, a NUL too: it ends the string
    // this is part of, not just this result.
    if out.contains(&0) {
        crate::bytes::note_nul();
    }
    from_vec(out)
}

/// `${utf8clean:...}`: each invalid UTF-8 sequence becomes `?`, as
/// Exim's checker finds them: a sequence broken by a byte that is not a
/// continuation loses that byte too, unless it is ASCII; overlong
/// sequences other than 0xC0/0xC1 pass; surrogates and code points
/// beyond U+10FFFF do not.
pub fn utf8clean(s: &str) -> String {
    let b = to_bytes(s);
    let mut out = Vec::with_capacity(b.len());
    let mut seq = [0u8; 4];
    let (mut len, mut index, mut left) = (0usize, 0usize, 0usize);
    let mut codepoint: u32 = 0;
    for &c in b.iter() {
        let mut bad = false;
        let mut broken = false;
        if left > 0 {
            if c & 0xc0 != 0x80 {
                broken = true;
            } else {
                codepoint = (codepoint << 6) | u32::from(c & 0x3f);
                seq[index] = c;
                index += 1;
                left -= 1;
                if left == 0 {
                    if codepoint > 0x10FFFF || codepoint & 0x1FF800 == 0xD800 {
                        bad = true;
                    } else {
                        out.extend_from_slice(&seq[..len]);
                        index = 0;
                    }
                }
            }
        } else {
            if c & 0x80 == 0 {
                out.push(c);
                continue;
            }
            if c & 0xe0 == 0xc0 {
                if c == 0xc0 || c == 0xc1 {
                    bad = true;
                } else {
                    left = 1;
                    codepoint = u32::from(c & 0x1f);
                }
            } else if c & 0xf0 == 0xe0 {
                left = 2;
                codepoint = u32::from(c & 0x0f);
            } else if c & 0xf8 == 0xf0 {
                left = 3;
                codepoint = u32::from(c & 0x07);
            } else {
                bad = true;
            }
            len = left + 1;
            seq[0] = c;
            index = 1;
        }
        if bad || broken {
            out.push(b'?');
            index = 0;
            left = 0;
        }
        if broken && c & 0x80 == 0 {
            out.push(c);
        }
    }
    if left > 0 {
        out.push(b'?');
    }
    from_vec(out)
}

/// strtol() of the whole string, which must not be negative; empty is 0.
pub fn parse_decimal(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() {
        return Some(0);
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(t.parse().unwrap_or(i64::MAX))
}

pub fn randint(s: &str) -> Result<String, ExpandError> {
    let max = super::eval::expanded_string_integer(s, false)?;
    if max < 0 {
        return fail(format!("non-negative integer expected but \"{s}\" found"));
    }
    if max == 0 {
        return Ok("0".into());
    }
    let mut buf = [0u8; 8];
    let seed = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .map(|_| u64::from_ne_bytes(buf))
        .unwrap_or_else(|_| std::process::id() as u64);
    Ok((seed % max as u64).to_string())
}

pub fn stat(path: &str) -> Result<String, ExpandError> {
    use std::os::unix::fs::MetadataExt;
    let md = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return fail(format!("stat({path}) failed: {}", crate::texts::errno_text(&e))),
    };
    let mode = md.mode();
    let kind = match mode & 0o170000 {
        0o140000 => 's',
        0o120000 => 'l',
        0o100000 => '-',
        0o060000 => 'b',
        0o040000 => 'd',
        0o020000 => 'c',
        0o010000 => 'p',
        _ => '?',
    };
    let mut smode = String::new();
    smode.push(kind);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        smode.push(if bits & 4 != 0 { 'r' } else { '-' });
        smode.push(if bits & 2 != 0 { 'w' } else { '-' });
        smode.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    Ok(format!(
        "mode={:04o} smode={} inode={} device={} links={} uid={} gid={} size={} atime={} mtime={} ctime={}",
        mode,
        smode,
        md.ino(),
        md.dev(),
        md.nlink(),
        md.uid(),
        md.gid(),
        md.size(),
        md.atime(),
        md.mtime(),
        md.ctime()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_rules() {
        assert_eq!(extract_substr("abcdef", 1, 2), "bc");
        assert_eq!(extract_substr("abcdef", -2, -1), "abcd");
        assert_eq!(extract_substr("abcdef", -3, 2), "de");
        assert_eq!(extract_substr("abcdef", 10, -1), "");
    }

    #[test]
    fn hashes_agree_with_exim() {
        assert_eq!(compute_hash("hello world", 3, -1).unwrap(), "jmf");
        assert_eq!(compute_hash("hello world", 3, 4).unwrap(), "bab");
        assert_eq!(compute_nhash("abc", 8, -1).unwrap(), "4");
        assert_eq!(compute_nhash("supercalifragilistic", 8, 64).unwrap(), "4/47");
        assert_eq!(compute_nhash("hello world", 100, -1).unwrap(), "50");
        assert!(compute_nhash("abc", 0, -1).is_err());
    }
}

/// `${imapfolder{name}{sep}{specials}}`: a UTF-8 folder name in IMAP's
/// modified UTF-7, with the separator `sep` turned into ".".
pub fn imapfolder(name: &str, sep: char, specials: &str) -> Result<String, ExpandError> {
    use base64::Engine as _;
    // Exim converts with iconv(), which stops at bytes that are not UTF-8.
    if crate::bytes::has_raw(name) {
        return fail("imapfolder: iconv() failed to convert from UTF-8: Invalid or incomplete multibyte or wide character");
    }
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |out: &mut String, pending: &mut Vec<u16>| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes).replace('/', ",");
        out.push('&');
        out.push_str(&b64);
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if c == sep {
            flush(&mut out, &mut pending);
            out.push('.');
        } else if c == '.' {
            return fail("imapfolder: illegal character '.'");
        } else if c == '&' {
            flush(&mut out, &mut pending);
            out.push_str("&-");
        } else if (' '..='~').contains(&c) && !specials.contains(c) {
            flush(&mut out, &mut pending);
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut pending);
    Ok(out)
}
