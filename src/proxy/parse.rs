//! Telling v1 from v2 and asking for no byte past the header.

use super::error::{ErrorKind, ProxyError};
use super::header::Header;
use super::{v1, v2};

pub const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
const V1_SIGNATURE: &[u8; 5] = b"PROXY";

/// The shortest valid header, `PROXY UNKNOWN\r\n`: reading this much from
/// a fresh connection cannot take a byte of what follows the header.
pub const SHORTEST_HEADER: usize = 15;

/// How closely to follow whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Also refuse what HAProxy's spec forbids but Exim 4.96 accepts (v1
    /// over 107 bytes, TCP4 with IPv6 addresses, ports outside 1..65535 or
    /// with signs or leading zeros, tabs, malformed TLVs).
    pub strict: bool,
    /// Longest v1 line, CRLF included.
    pub v1_max: usize,
    /// Longest v2 header, the 16 fixed bytes included.
    pub v2_max: usize,
}

impl Policy {
    /// Exim 4.96: both versions are read into a 232-byte buffer.
    pub const EXIM: Policy = Policy { strict: false, v1_max: 232, v2_max: 232 };
    /// HAProxy's spec: v1 is at most 107 bytes, v2 up to 16 + 65535.
    pub const STRICT: Policy = Policy { strict: true, v1_max: 107, v2_max: 16 + 65535 };
}

/// A complete header and how many bytes of the input it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub header: Header,
    pub consumed: usize,
}

/// The header is not complete: it is at least `0` more bytes long, so that
/// many may be read without reading past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedMore(pub usize);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    NeedMore(NeedMore),
    Invalid(ProxyError),
}

impl From<ProxyError> for ParseError {
    fn from(e: ProxyError) -> Self {
        ParseError::Invalid(e)
    }
}

/// Parse with Exim 4.96's rules (what the session uses).
pub fn parse(buf: &[u8]) -> Result<Parsed, ParseError> {
    parse_with(buf, &Policy::EXIM)
}

pub fn parse_with(buf: &[u8], policy: &Policy) -> Result<Parsed, ParseError> {
    if is_prefix_of(buf, V2_SIGNATURE) {
        return Err(ParseError::NeedMore(NeedMore(16 - buf.len())));
    }
    if buf.starts_with(V2_SIGNATURE) {
        return v2::parse(buf, policy);
    }
    if is_prefix_of(buf, V1_SIGNATURE) {
        return Err(ParseError::NeedMore(NeedMore(SHORTEST_HEADER - buf.len())));
    }
    if buf.starts_with(V1_SIGNATURE) {
        return v1::parse(buf, policy);
    }
    Err(ProxyError::new(ErrorKind::NotProxy).into())
}

/// `buf` is a proper beginning of `sig` (the empty input included).
fn is_prefix_of(buf: &[u8], sig: &[u8]) -> bool {
    buf.len() < sig.len() && sig.starts_with(buf)
}
