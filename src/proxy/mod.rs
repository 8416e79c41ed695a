//! Inbound PROXY protocol: HAProxy's v1 (text) and v2 (binary) headers, as
//! Exim 4.96 reads them for connections from `hosts_proxy`.
//!
//! `parse` is pure: it is fed the bytes read so far and never asks for a
//! byte past the header, because a TLS-on-connect client sends its handshake
//! right behind it. `read` drives it over a socket; `session` turns the
//! outcome into the variables and replies the SMTP session needs.
//! docs/proxy.md says how the session calls it.

pub mod crc32c;
pub mod error;
pub mod header;
pub mod ip_text;
pub mod parse;
pub mod read;
pub mod session;
pub mod texts;
pub mod tlv;
mod v1;
mod v2;

pub use error::{ErrorKind, Partial, ProxyError};
pub use header::{Command, Endpoints, Family, Header, Version};
pub use parse::{parse, parse_with, NeedMore, Parsed, ParseError, Policy};
pub use read::{read_header, read_header_fd, read_header_tcp};
pub use session::{ProxyOptions, ProxyState};
pub use tlv::{Ssl, Tlvs};
