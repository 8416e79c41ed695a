//! PROXY v2: the 12-byte signature, version/command, family, length, then
//! addresses and TLVs, checked in Exim 4.96's order.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::error::{ErrorKind, ProxyError};
use super::header::{Command, Endpoints, Family, Header, Version};
use super::ip_text::inet_ntop6;
use super::parse::{NeedMore, ParseError, Parsed, Policy};
use super::tlv::{parse_tlvs, TlvError, Tlvs};

const FIXED: usize = 16;

fn err(k: ErrorKind) -> ParseError {
    ProxyError::new(k).into()
}

/// Size of the address block for a family byte (what precedes the TLVs).
fn address_block(fam: u8) -> usize {
    match fam >> 4 {
        1 => 12,
        2 => 36,
        3 => 216,
        _ => 0,
    }
}

pub fn parse(buf: &[u8], policy: &Policy) -> Result<Parsed, ParseError> {
    if buf.len() < FIXED {
        return Err(ParseError::NeedMore(NeedMore(FIXED - buf.len())));
    }
    let ver = buf[12] >> 4;
    if ver != 2 {
        return Err(err(ErrorKind::V2BadVersion(ver)));
    }
    let len = u16::from_be_bytes([buf[14], buf[15]]) as usize;
    let size = FIXED + len;
    if size > policy.v2_max {
        return Err(err(ErrorKind::V2TooLarge(size)));
    }
    if buf.len() < size {
        return Err(ParseError::NeedMore(NeedMore(size - buf.len())));
    }
    let hdr = &buf[..size];
    let fam = hdr[13];
    let (command, family, endpoints) = match hdr[12] & 0x0f {
        0x01 => {
            let (family, e) = proxied(hdr, fam, len)?;
            (Command::Proxy, family, Some(e))
        }
        0x00 => (Command::Local, Family::Unspec, None),
        c => return Err(err(ErrorKind::V2BadCommand(c))),
    };
    let tlv_start = FIXED + address_block(fam);
    let tlvs = if tlv_start < size {
        match parse_tlvs(hdr, tlv_start) {
            Ok(t) => t,
            Err(TlvError::Crc { sent, computed }) => {
                return Err(err(ErrorKind::V2BadCrc { sent, computed }))
            }
            // Exim never looks at TLVs: a malformed area only loses them.
            Err(TlvError::Malformed(why)) if policy.strict => return Err(err(ErrorKind::V2BadTlv(why))),
            Err(TlvError::Malformed(_)) => Tlvs::default(),
        }
    } else {
        Tlvs::default()
    };
    let header = Header { version: Version::V2, command, family, endpoints, tlvs };
    Ok(Parsed { header, consumed: size })
}

/// The PROXY command's addresses; only TCP over IPv4/IPv6 is supported,
/// as in Exim (UNSPEC, UDP and UNIX fail the negotiation).
fn proxied(hdr: &[u8], fam: u8, len: usize) -> Result<(Family, Endpoints), ParseError> {
    let a = &hdr[FIXED..];
    let port = |i: usize| u16::from_be_bytes([a[i], a[i + 1]]) as i32;
    match fam {
        0x11 => {
            if len < 12 {
                return Err(err(ErrorKind::V2ShortAddresses { family: "TCPv4", len }));
            }
            let ip = |i: usize| Ipv4Addr::new(a[i], a[i + 1], a[i + 2], a[i + 3]).to_string();
            let e = Endpoints { source: ip(0), destination: ip(4), source_port: port(8), destination_port: port(10) };
            Ok((Family::Tcp4, e))
        }
        0x21 => {
            if len < 36 {
                return Err(err(ErrorKind::V2ShortAddresses { family: "TCPv6", len }));
            }
            let ip = |i: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&a[i..i + 16]);
                inet_ntop6(&Ipv6Addr::from(o))
            };
            let e = Endpoints { source: ip(0), destination: ip(16), source_port: port(32), destination_port: port(34) };
            Ok((Family::Tcp6, e))
        }
        f => Err(err(ErrorKind::V2BadFamily(f))),
    }
}
