//! Parsing of DNS answer messages (RFC 1035 wire format), as returned by
//! res_query().

use super::{DnsType, Record, RecordData};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a message could not be parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct MalformedMessage;

struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, MalformedMessage> {
        let b = *self.msg.get(self.pos).ok_or(MalformedMessage)?;
        self.pos += 1;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, MalformedMessage> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Result<u32, MalformedMessage> {
        Ok(u32::from_be_bytes([self.u8()?, self.u8()?, self.u8()?, self.u8()?]))
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], MalformedMessage> {
        let s = self.msg.get(self.pos..self.pos + n).ok_or(MalformedMessage)?;
        self.pos += n;
        Ok(s)
    }

    /// A possibly compressed domain name, without the trailing dot.
    fn name(&mut self) -> Result<String, MalformedMessage> {
        let mut out = String::new();
        let mut pos = self.pos;
        let mut jumped = false;
        // Bounded: a pointer loop must not hang us.
        for _ in 0..128 {
            let len = *self.msg.get(pos).ok_or(MalformedMessage)? as usize;
            if len & 0xc0 == 0xc0 {
                let lo = *self.msg.get(pos + 1).ok_or(MalformedMessage)? as usize;
                if !jumped {
                    self.pos = pos + 2;
                }
                jumped = true;
                pos = ((len & 0x3f) << 8) | lo;
                continue;
            }
            if len == 0 {
                if !jumped {
                    self.pos = pos + 1;
                }
                return Ok(out);
            }
            let label = self.msg.get(pos + 1..pos + 1 + len).ok_or(MalformedMessage)?;
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&String::from_utf8_lossy(label));
            pos += 1 + len;
        }
        Err(MalformedMessage)
    }
}

/// The answer records of a response, with the AD flag.
pub fn parse_answers(msg: &[u8]) -> Result<(Vec<Record>, bool), MalformedMessage> {
    let mut r = Reader { msg, pos: 0 };
    let _id = r.u16()?;
    let flags = r.u16()?;
    let qd = r.u16()?;
    let an = r.u16()?;
    let _ns = r.u16()?;
    let _ar = r.u16()?;
    for _ in 0..qd {
        r.name()?;
        r.u32()?;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        let name = r.name()?;
        let rtype = r.u16()?;
        let _class = r.u16()?;
        let ttl = r.u32()?;
        let len = r.u16()? as usize;
        let start = r.pos;
        let end = start + len;
        if end > msg.len() {
            return Err(MalformedMessage);
        }
        let data = match DnsType::from_code(rtype) {
            Some(DnsType::A) if len == 4 => {
                let b = r.bytes(4)?;
                Some(RecordData::A(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
            }
            Some(DnsType::Aaaa) if len == 16 => {
                let b: [u8; 16] = r.bytes(16)?.try_into().map_err(|_| MalformedMessage)?;
                Some(RecordData::Aaaa(Ipv6Addr::from(b)))
            }
            Some(DnsType::Cname) => Some(RecordData::Cname(r.name()?)),
            Some(DnsType::Ns) => Some(RecordData::Ns(r.name()?)),
            Some(DnsType::Ptr) => Some(RecordData::Ptr(r.name()?)),
            Some(DnsType::Mx) => Some(RecordData::Mx { preference: r.u16()?, exchange: r.name()? }),
            Some(DnsType::Txt) | Some(DnsType::Spf) => {
                let mut parts = Vec::new();
                while r.pos < end {
                    let n = r.u8()? as usize;
                    parts.push(r.bytes(n)?.to_vec());
                }
                Some(RecordData::Txt(parts))
            }
            Some(DnsType::Soa) => Some(RecordData::Soa {
                mname: r.name()?,
                rname: r.name()?,
                serial: r.u32()?,
                refresh: r.u32()?,
                retry: r.u32()?,
                expire: r.u32()?,
                minimum: r.u32()?,
            }),
            Some(DnsType::Srv) => Some(RecordData::Srv {
                priority: r.u16()?,
                weight: r.u16()?,
                port: r.u16()?,
                target: r.name()?,
            }),
            Some(DnsType::Tlsa) if len >= 3 => Some(RecordData::Tlsa {
                usage: r.u8()?,
                selector: r.u8()?,
                mtype: r.u8()?,
                data: r.bytes(len - 3)?.to_vec(),
            }),
            _ => None,
        };
        r.pos = end;
        if let Some(data) = data {
            out.push(Record { name, ttl, data });
        }
    }
    Ok((out, flags & 0x0020 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compressed_mx_answer() {
        // Question example.com MX, one answer pointing back at the question name.
        let mut m = vec![0, 1, 0x81, 0xa0, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x07example\x03com\x00\x00\x0f\x00\x01");
        m.extend_from_slice(&[0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 7, 0, 10, 2, b'm', b'x', 0xc0, 12]);
        let (recs, ad) = parse_answers(&m).unwrap();
        assert!(ad);
        assert_eq!(recs[0].name, "example.com");
        assert_eq!(recs[0].data, RecordData::Mx { preference: 10, exchange: "mx.example.com".into() });
    }

    #[test]
    fn truncated_message_is_an_error_not_a_panic() {
        assert_eq!(parse_answers(&[0, 1, 0x81]), Err(MalformedMessage));
        let m = [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12];
        assert_eq!(parse_answers(&m), Err(MalformedMessage));
    }
}
