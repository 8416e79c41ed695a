//! The PROXY layer's one error type. Each kind's text (texts.rs) is Exim
//! 4.96's debug line for it where Exim has one.

use super::texts;

/// What Exim had already taken from a v1 header when it found the fault:
/// it assigns each field as it goes, so a failed session shows them in
/// $sender_host_address and friends (recorded: v1-bad-dst, v1-extra-field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partial {
    pub source: Option<String>,
    pub destination: Option<String>,
    pub source_port: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Neither a v1 nor a v2 signature.
    NotProxy,
    /// v1: CR not followed by LF.
    V1BadLineEnd,
    /// v1: no CRLF within the size limit.
    V1TooLong,
    V1NoSpaceAfterProxy,
    V1BadProtocol,
    V1NoSpaceAfterProtocol,
    V1NoSource(&'static str),
    V1BadSource(&'static str),
    V1NoDestination(&'static str),
    V1BadDestination(&'static str),
    V1NoSourcePort,
    V1BadSourcePort(String),
    V1BadDestinationPort(String),
    /// v1: a scoped IPv6 address (`fe80::1%eth0`): Exim 4.96 accepts it
    /// and then dies in its host lookup; rexim refuses it.
    V1ScopedAddress,
    /// Strict policy only: what HAProxy's spec forbids and Exim lets pass.
    V1NotStrict(&'static str),
    V2BadVersion(u8),
    V2TooLarge(usize),
    V2BadCommand(u8),
    V2BadFamily(u8),
    V2ShortAddresses { family: &'static str, len: usize },
    V2BadTlv(&'static str),
    V2BadCrc { sent: u32, computed: u32 },
    /// No complete header within proxy_protocol_timeout.
    Timeout,
    /// The client closed the connection inside the header.
    Eof,
    Io(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyError {
    pub kind: ErrorKind,
    pub partial: Partial,
}

impl ProxyError {
    pub fn new(kind: ErrorKind) -> Self {
        ProxyError { kind, partial: Partial::default() }
    }
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&texts::error_text(&self.kind))
    }
}

impl std::error::Error for ProxyError {}
