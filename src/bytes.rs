//! Exim's strings are bytes; rexim's are `String`s. A byte that is not
//! part of valid UTF-8 is carried as one reserved character, so that any
//! input survives to the output unchanged and the operators that work on
//! bytes (`${length}`, `${escape}`, hashes...) see the bytes Exim sees.
//!
//! The reserved characters are U+10FF80 to U+10FFFF (the end of the last
//! private-use plane), standing for the bytes 0x80 to 0xFF. A genuine
//! character of that range in the input is itself carried byte by byte,
//! so the mapping round-trips: `to_bytes(&from_bytes(b)) == b` for any `b`.
//! Valid UTF-8 (the common case) is borrowed, not copied, both ways.
//!
//! Several strings can stand for the same bytes (two reserved characters
//! for 0xC3 0xA4 and the character "ä"): `from_bytes` gives the one
//! without needless reserved characters, and `push_str` keeps a string in
//! that form when it joins two pieces. Code that compares or cuts strings
//! as Exim does works on `to_bytes`.

use std::borrow::Cow;

/// The reserved character for byte 0x80 (0xFF is U+10FFFF).
const BASE: u32 = 0x10FF00;

/// The UTF-8 of the reserved characters is F4 8F BE xx or F4 8F BF xx.
const LEAD: u8 = 0xF4;

/// The character that stands for `b`: itself for ASCII.
#[inline]
pub fn byte_char(b: u8) -> char {
    if b < 0x80 {
        b as char
    } else {
        char::from_u32(BASE + u32::from(b)).expect("reserved range")
    }
}

/// The byte a reserved character stands for.
#[inline]
pub fn reserved_byte(c: char) -> Option<u8> {
    let n = c as u32;
    (n >= BASE + 0x80).then(|| (n - BASE) as u8)
}

/// Whether the UTF-8 at `b` starts a reserved character.
#[inline]
fn reserved_at(b: &[u8]) -> bool {
    b.len() >= 4 && b[0] == LEAD && b[1] == 0x8F && (b[2] == 0xBE || b[2] == 0xBF)
}

/// Whether `s` holds any reserved character (it then differs from its bytes).
#[inline]
pub fn has_raw(s: &str) -> bool {
    // Most strings are short and ASCII: a word-at-a-time test, inlined,
    // costs less than a call to memchr.
    !s.is_ascii() && raw_in(s.as_bytes())
}

fn raw_in(b: &[u8]) -> bool {
    memchr::memchr_iter(LEAD, b).any(|i| reserved_at(&b[i..]))
}

/// Push one byte's character.
#[inline]
pub fn push_byte(out: &mut String, b: u8) {
    out.push(byte_char(b));
}

/// The string that stands for `b`.
#[inline]
pub fn from_bytes(b: &[u8]) -> Cow<'_, str> {
    if b.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(b) });
    }
    from_non_ascii(b)
}

fn from_non_ascii(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) if !raw_in(b) => Cow::Borrowed(s),
        _ => Cow::Owned(decode(b)),
    }
}

/// `from_bytes` of an owned buffer, without a copy when it is valid UTF-8.
pub fn from_vec(v: Vec<u8>) -> String {
    match String::from_utf8(v) {
        Ok(s) if !has_raw(&s) => s,
        Ok(s) => decode(s.as_bytes()),
        Err(e) => decode(e.as_bytes()),
    }
}

fn decode(mut b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 8);
    while !b.is_empty() {
        let (valid, bad) = match std::str::from_utf8(b) {
            Ok(s) => (s, 0),
            Err(e) => {
                let n = e.valid_up_to();
                let s = std::str::from_utf8(&b[..n]).expect("valid prefix");
                (s, e.error_len().unwrap_or(b.len() - n))
            }
        };
        push_valid(&mut out, valid);
        let rest = &b[valid.len()..];
        for &byte in &rest[..bad] {
            push_byte(&mut out, byte);
        }
        b = &rest[bad..];
    }
    out
}

/// Push valid UTF-8, carrying genuine reserved-range characters byte by byte.
fn push_valid(out: &mut String, s: &str) {
    let b = s.as_bytes();
    let mut start = 0;
    for i in memchr::memchr_iter(LEAD, b) {
        if i >= start && reserved_at(&b[i..]) {
            out.push_str(&s[start..i]);
            for &byte in &b[i..i + 4] {
                push_byte(out, byte);
            }
            start = i + 4;
        }
    }
    out.push_str(&s[start..]);
}

/// The bytes `s` stands for.
#[inline]
pub fn to_bytes(s: &str) -> Cow<'_, [u8]> {
    if s.is_ascii() {
        return Cow::Borrowed(s.as_bytes());
    }
    non_ascii_bytes(s)
}

fn non_ascii_bytes(s: &str) -> Cow<'_, [u8]> {
    if !raw_in(s.as_bytes()) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    push_bytes(&mut out, s);
    Cow::Owned(out)
}

/// `to_bytes` of an owned string, without a copy in the common case.
pub fn into_bytes(s: String) -> Vec<u8> {
    match to_bytes(&s) {
        Cow::Borrowed(_) => s.into_bytes(),
        Cow::Owned(v) => v,
    }
}

/// Append the bytes `s` stands for.
pub fn push_bytes(out: &mut Vec<u8>, s: &str) {
    if !has_raw(s) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    let mut buf = [0u8; 4];
    for c in s.chars() {
        match reserved_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
}

/// Append `s` to `out`; where reserved characters meet at the join and
/// together make valid UTF-8 (`\xc3` then `\xa4`), they become the character.
#[inline]
pub fn push_str(out: &mut String, s: &str) {
    let joins = s.as_bytes().first() == Some(&LEAD) && out.as_bytes().last().is_some_and(|&b| b >= 0x80);
    if !joins {
        out.push_str(s);
        return;
    }
    // The run of reserved characters at the end of `out`.
    let mut tail = out.len();
    while let Some(c) = out[..tail].chars().next_back() {
        if reserved_byte(c).is_none() {
            break;
        }
        tail -= c.len_utf8();
    }
    let mut raw = to_bytes(&out[tail..]).into_owned();
    push_bytes(&mut raw, s);
    out.truncate(tail);
    out.push_str(&from_vec(raw));
}

/// For readers that copy a string's UTF-8 into a buffer and interpret
/// backslash escapes on the way: push the byte `c` that the escape
/// `after` (the text after the backslash) stood for. An escaped ASCII
/// letter or digit gives a byte, carried as its character; a backslash
/// before a multibyte character leaves its first byte, whose
/// continuation bytes the reader copies next. `utf8_buffer` makes the string.
pub fn push_escaped(out: &mut Vec<u8>, after: &[u8], c: u8) {
    if after.first().is_some_and(|&a| a >= 0x80) {
        out.push(c);
    } else {
        let mut buf = [0u8; 4];
        out.extend_from_slice(byte_char(c).encode_utf8(&mut buf).as_bytes());
    }
}

/// The string in a buffer that `push_escaped` filled.
pub fn utf8_buffer(out: Vec<u8>) -> String {
    match String::from_utf8(out) {
        Ok(s) => normalise(s),
        Err(e) => from_vec(e.into_bytes()),
    }
}

/// The bytes of `s` in the form `from_bytes` gives (see `push_str`).
pub fn normalise(s: String) -> String {
    if has_raw(&s) {
        from_bytes(&to_bytes(&s)).into_owned()
    } else {
        s
    }
}

/// Whether a NUL can have entered a value (see `note_nul`).
static NUL_MADE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called where a NUL enters a string without being cut there at once
/// (`\x00` in an expansion string, `${from_utf8}`): until then no string
/// needs to be searched for one.
pub fn note_nul() {
    NUL_MADE.store(true, std::sync::atomic::Ordering::Relaxed);
}

#[inline]
pub fn nul_made() -> bool {
    NUL_MADE.load(std::sync::atomic::Ordering::Relaxed)
}

/// A C string ends at its first NUL: Exim's values stop there.
#[inline]
pub fn until_nul(s: &str) -> &str {
    match memchr::memchr(0, s.as_bytes()) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// `until_nul` in place.
#[inline]
pub fn cut_at_nul(s: &mut String) {
    if let Some(i) = memchr::memchr(0, s.as_bytes()) {
        s.truncate(i);
    }
}

/// Text as Exim's cat_file() reads it (`${readfile}`, `${run}` and
/// `${readsocket}` output): in fgets() pieces of up to 1023 bytes, each a
/// C string, so a NUL drops the rest of its piece, newline included.
pub fn fgets_text(v: Vec<u8>) -> String {
    if memchr::memchr(0, &v).is_none() {
        return from_vec(v);
    }
    let mut out = Vec::with_capacity(v.len());
    let mut rest = &v[..];
    while !rest.is_empty() {
        let window = &rest[..rest.len().min(1023)];
        let piece = memchr::memchr(b'\n', window).map_or(window, |i| &window[..=i]);
        let kept = memchr::memchr(0, piece).map_or(piece, |i| &piece[..i]);
        out.extend_from_slice(kept);
        rest = &rest[piece.len()..];
    }
    from_vec(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(b: &[u8]) {
        let s = from_bytes(b);
        assert_eq!(&*to_bytes(&s), b, "{b:?}");
        assert_eq!(from_vec(b.to_vec()), s);
    }

    #[test]
    fn valid_utf8_is_borrowed() {
        assert!(matches!(from_bytes("abc ä €".as_bytes()), Cow::Borrowed(_)));
        assert!(matches!(to_bytes("abc ä €"), Cow::Borrowed(_)));
    }

    #[test]
    fn any_bytes_round_trip() {
        round_trip(b"");
        round_trip(b"a\xffb\xc3");
        round_trip(b"\xe2\x82");
        round_trip(b"\xc3\xa4\xc3");
        round_trip(b"\x80\x80\xf4\x8f\xbf\xbf\xf4\x8f\xbe\x80x");
        round_trip("\u{10FFFF}\u{10FF80}\u{10FF7F}".as_bytes());
        let all: Vec<u8> = (0..=255).collect();
        round_trip(&all);
    }

    #[test]
    fn bytes_are_reserved_characters() {
        assert_eq!(from_bytes(b"a\xff"), "a\u{10FFFF}");
        assert_eq!(byte_char(b'a'), 'a');
        assert_eq!(reserved_byte(byte_char(0x80)), Some(0x80));
        assert_eq!(reserved_byte('\u{10FF7F}'), None);
        // A genuine reserved-range character is carried as its 4 bytes.
        assert_eq!(from_bytes("\u{10FFFF}".as_bytes()).chars().count(), 4);
    }

    #[test]
    fn joining_bytes_makes_characters() {
        let mut s = String::from("x");
        push_byte(&mut s, 0xC3);
        let mut t = String::new();
        push_byte(&mut t, 0xA4);
        push_str(&mut s, &t);
        assert_eq!(s, "xä");
        let mut s = String::from("\u{10FFC3}");
        push_str(&mut s, "b");
        assert_eq!(s, "\u{10FFC3}b");
        assert_eq!(normalise("\u{10FFC3}\u{10FFA4}".into()), "ä");
    }

    #[test]
    fn nul_ends_a_value() {
        assert_eq!(until_nul("a\0b"), "a");
        let mut s = String::from("ab\0");
        cut_at_nul(&mut s);
        assert_eq!(s, "ab");
        // Recorded from Exim 4.96: ${readfile} of "a\0b\nc\n" is "ac\n".
        assert_eq!(fgets_text(b"a\0b\nc\n".to_vec()), "ac\n");
        assert_eq!(fgets_text(b"a\xff\n".to_vec()), "a\u{10FFFF}\n");
    }
}
