//! What a PROXY header says, once parsed.

use super::tlv::Tlvs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// v2's command nibble; v1's `UNKNOWN` protocol is `Local` (the proxy's
/// own connection: keep the real peer's address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Proxy,
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Unspec,
    Tcp4,
    Tcp6,
}

/// The proxied connection: `source` is the real client, `destination` the
/// address it connected to on the proxy. Addresses are text as Exim keeps
/// them (v1: as sent; v2: inet_ntop's form); ports are C ints because
/// Exim's strtol-and-truncate reading of v1 ports can give any int.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub source: String,
    pub source_port: i32,
    pub destination: String,
    pub destination_port: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: Version,
    pub command: Command,
    pub family: Family,
    /// None for LOCAL and UNKNOWN.
    pub endpoints: Option<Endpoints>,
    /// v2 only; empty for v1.
    pub tlvs: Tlvs,
}
