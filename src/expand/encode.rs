//! Hashes and encodings: md5, sha*, base64, base32, base62, RFC 2047.

use base64::Engine as _;
use sha2::Digest as _;

use super::error::ExpandError;

fn fail<T>(msg: impl Into<String>) -> Result<T, ExpandError> {
    Err(ExpandError::Failed(msg.into()))
}

fn hex(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    // Bytes first: a String's push encodes each char as UTF-8.
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 15)]);
    }
    String::from_utf8(out).unwrap_or_default()
}

pub fn md5_hex(data: &[u8]) -> String {
    hex(&md5::Md5::digest(data), false)
}

pub fn sha1_hex(data: &[u8]) -> String {
    hex(&sha1::Sha1::digest(data), true)
}

pub fn sha2_hex(bits: Option<&str>, data: &[u8]) -> Result<String, ExpandError> {
    Ok(match bits.unwrap_or("256") {
        "256" => hex(&sha2::Sha256::digest(data), true),
        "384" => hex(&sha2::Sha384::digest(data), true),
        "512" => hex(&sha2::Sha512::digest(data), true),
        _ => return fail("unrecognised sha2 variant"),
    })
}

pub fn sha3_hex(bits: Option<&str>, data: &[u8]) -> Result<String, ExpandError> {
    Ok(match bits.unwrap_or("256") {
        "224" => hex(&sha3::Sha3_224::digest(data), true),
        "256" => hex(&sha3::Sha3_256::digest(data), true),
        "384" => hex(&sha3::Sha3_384::digest(data), true),
        "512" => hex(&sha3::Sha3_512::digest(data), true),
        _ => return fail("unrecognised sha3 variant"),
    })
}

/// HMAC with md5 or sha1, as `${hmac{md5}{secret}{string}}`.
pub fn hmac_hex(hash: &str, secret: &[u8], data: &[u8]) -> Result<String, ExpandError> {
    use hmac::{Hmac, Mac};
    Ok(match hash {
        "md5" => {
            let mut m = Hmac::<md5::Md5>::new_from_slice(secret).expect("any key length");
            m.update(data);
            hex(&m.finalize().into_bytes(), false)
        }
        "sha1" => {
            let mut m = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("any key length");
            m.update(data);
            hex(&m.finalize().into_bytes(), false)
        }
        other => return fail(format!("hmac algorithm \"{other}\" is not recognised")),
    })
}

pub fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub fn base64d(s: &str) -> Result<String, ExpandError> {
    // Exim ignores trailing garbage after the padding but fails on bad input.
    let cleaned: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
        Ok(mut bytes) => {
            // Exim adds the result as a C string.
            if let Some(i) = bytes.iter().position(|&b| b == 0) {
                bytes.truncate(i);
            }
            Ok(crate::bytes::from_vec(bytes))
        }
        Err(_) => fail(format!("string \"{s}\" is not well-formed for \"base64d\" operator")),
    }
}

pub fn hex2b64(s: &str) -> Result<String, ExpandError> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return fail(format!("\"{s}\" contains an odd number of characters"));
    }
    if !b.iter().all(u8::is_ascii_hexdigit) {
        return fail(format!("\"{s}\" is not a hex string"));
    }
    let bytes: Vec<u8> = b
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0))
        .collect();
    Ok(base64(&bytes))
}

const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// strtoull(): a leading minus wraps round, as in C.
fn decimal(s: &str, op: &str) -> Result<u64, ExpandError> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    match digits.parse::<u64>() {
        Ok(n) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(if neg { n.wrapping_neg() } else { n })
        }
        _ => fail(format!("argument for {op} operator is \"{s}\", which is not a decimal number")),
    }
}

pub fn base32(s: &str) -> Result<String, ExpandError> {
    let mut n = decimal(s, "base32")?;
    let mut out = Vec::new();
    while n > 0 {
        out.push(BASE32[(n % 32) as usize]);
        n /= 32;
    }
    out.reverse();
    Ok(String::from_utf8(out).expect("ascii"))
}

pub fn base32d(s: &str) -> Result<String, ExpandError> {
    decode_digits(s, BASE32, "base32d")
}

pub fn base62(s: &str) -> Result<String, ExpandError> {
    let mut n = decimal(s, "base62")?;
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    Ok(String::from_utf8(out.to_vec()).expect("ascii"))
}

pub fn base62d(s: &str) -> Result<String, ExpandError> {
    decode_digits(s, BASE62, "base62d")
}

/// A number written in `alphabet`'s digits, wrapping at 64 bits and shown
/// signed, as Exim's C does.
fn decode_digits(s: &str, alphabet: &[u8], op: &str) -> Result<String, ExpandError> {
    let base = alphabet.len() as u64;
    let mut n: u64 = 0;
    for c in s.bytes() {
        match alphabet.iter().position(|&d| d == c) {
            Some(v) => n = n.wrapping_mul(base).wrapping_add(v as u64),
            None => {
                return fail(format!("argument for {op} operator is \"{s}\", which is not a base {base} number"))
            }
        }
    }
    Ok((n as i64).to_string())
}

/// RFC 2047 "Q" encoding of a header text (Exim's parse_quote_2047):
/// the original is returned when nothing needed an `=XX` escape.
pub fn rfc2047(s: &str, charset: &str) -> String {
    let prefix = format!("=?{charset}?Q?");
    let mut out = prefix.clone();
    let mut line_off = prefix.len();
    let mut coded = false;
    let mut first_byte = false;
    for &ch in crate::bytes::to_bytes(s).iter() {
        if out.len() - line_off > 67 && !first_byte {
            out.push_str("?= ");
            line_off = out.len();
            out.push_str(&prefix);
        }
        if ch < 33 || ch > 126 || b"?=()<>@,;:\\\".[]_".contains(&ch) {
            if ch == b' ' {
                out.push('_');
                first_byte = false;
            } else {
                out.push_str(&format!("={ch:02X}"));
                coded = true;
                first_byte = !first_byte;
            }
        } else {
            out.push(ch as char);
            first_byte = false;
        }
    }
    if !coded {
        return s.to_string();
    }
    out.push_str("?=");
    out
}

/// Decode RFC 2047 encoded words (Q and B encodings) into `charset`
/// (headers_charset).
pub fn rfc2047d(s: &str, charset: &str) -> Result<String, ExpandError> {
    rfc2047_decode(s, Some(charset))
}

/// Decode RFC 2047 encoded words; with `charset` None the decoded bytes
/// are kept in the word's own character set (`$bh_`).
pub fn rfc2047_decode(s: &str, charset: Option<&str>) -> Result<String, ExpandError> {
    let mut out = String::new();
    let mut rest = s;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let between = &rest[..start];
        let word = &rest[start + 2..];
        let parsed = (|| {
            let (word_charset, w) = word.split_once('?')?;
            let (enc, w) = w.split_once('?')?;
            let (text, after) = w.split_once("?=")?;
            let bytes = match enc {
                "Q" | "q" => q_decode(text),
                "B" | "b" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
                _ => return None,
            };
            Some((word_charset, bytes, after))
        })();
        match parsed {
            Some((word_charset, bytes, after)) => {
                let bytes = match charset {
                    Some(c) if !word_charset.eq_ignore_ascii_case(c) => {
                        super::iconv::convert(&bytes, word_charset, c).map_err(ExpandError::Failed)?
                    }
                    _ => bytes,
                };
                if !(last_was_word && between.trim().is_empty()) {
                    out.push_str(between);
                }
                out.push_str(&crate::bytes::from_bytes(&bytes));
                rest = after;
                last_was_word = true;
            }
            None => {
                out.push_str(&rest[..start + 2]);
                rest = &rest[start + 2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn q_decode(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'='),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_exim() {
        assert_eq!(sha1_hex(b"abc"), "A9993E364706816ABA3E25717850C26C9CD0D89D");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(base32("1234567").unwrap(), "bfvuh");
        assert_eq!(base62("1234567").unwrap(), "005BAN");
        assert_eq!(base62d("5BH").unwrap(), "19919");
        assert_eq!(base32d("bhm").unwrap(), "1260");
        assert_eq!(hex2b64("0102ff").unwrap(), "AQL/");
        assert_eq!(hmac_hex("md5", b"secret", b"abc").unwrap(), "d9bf7c3a63eae7031c4e6d7c9b78ba93");
    }
}
