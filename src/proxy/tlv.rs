//! PROXY v2 TLVs (type-length-value records after the addresses).
//! Exim 4.96 skips them all; rexim reads the registered ones into
//! variables, checks a CRC32C when one is sent, and bounds every length.

use super::crc32c::crc32c;

pub const PP2_TYPE_ALPN: u8 = 0x01;
pub const PP2_TYPE_AUTHORITY: u8 = 0x02;
pub const PP2_TYPE_CRC32C: u8 = 0x03;
pub const PP2_TYPE_NOOP: u8 = 0x04;
pub const PP2_TYPE_UNIQUE_ID: u8 = 0x05;
pub const PP2_TYPE_SSL: u8 = 0x20;
pub const PP2_SUBTYPE_SSL_VERSION: u8 = 0x21;
pub const PP2_SUBTYPE_SSL_CN: u8 = 0x22;
pub const PP2_SUBTYPE_SSL_CIPHER: u8 = 0x23;
pub const PP2_SUBTYPE_SSL_SIG_ALG: u8 = 0x24;
pub const PP2_SUBTYPE_SSL_KEY_ALG: u8 = 0x25;
pub const PP2_TYPE_NETNS: u8 = 0x30;

/// HAProxy's spec caps the unique ID at 128 bytes.
const UNIQUE_ID_MAX: usize = 128;

/// PP2_TYPE_SSL: `client` bits (0x01 SSL, 0x02 cert in connection, 0x04
/// cert in session) and `verify` (0 = client cert verified).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ssl {
    pub client: u8,
    pub verify: u32,
    pub version: Option<String>,
    pub cn: Option<String>,
    pub cipher: Option<String>,
    pub sig_alg: Option<String>,
    pub key_alg: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tlvs {
    pub alpn: Option<Vec<u8>>,
    pub authority: Option<String>,
    pub crc32c: Option<u32>,
    pub unique_id: Option<Vec<u8>>,
    pub ssl: Option<Ssl>,
    pub netns: Option<String>,
    /// Unregistered types (custom 0xE0-0xEF, experimental 0xF0-0xF7...).
    pub others: Vec<(u8, Vec<u8>)>,
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// Split `area` into (type, value) records; a length running past the end
/// is an error.
fn records(mut area: &[u8]) -> Result<Vec<(u8, &[u8])>, &'static str> {
    let mut out = Vec::new();
    while !area.is_empty() {
        if area.len() < 3 {
            return Err("truncated TLV header");
        }
        let len = u16::from_be_bytes([area[1], area[2]]) as usize;
        if area.len() < 3 + len {
            return Err("TLV length runs past the header");
        }
        out.push((area[0], &area[3..3 + len]));
        area = &area[3 + len..];
    }
    Ok(out)
}

fn ssl(v: &[u8]) -> Result<Ssl, &'static str> {
    if v.len() < 5 {
        return Err("PP2_TYPE_SSL shorter than 5 bytes");
    }
    let mut s = Ssl {
        client: v[0],
        verify: u32::from_be_bytes([v[1], v[2], v[3], v[4]]),
        ..Ssl::default()
    };
    for (t, val) in records(&v[5..])? {
        let slot = match t {
            PP2_SUBTYPE_SSL_VERSION => &mut s.version,
            PP2_SUBTYPE_SSL_CN => &mut s.cn,
            PP2_SUBTYPE_SSL_CIPHER => &mut s.cipher,
            PP2_SUBTYPE_SSL_SIG_ALG => &mut s.sig_alg,
            PP2_SUBTYPE_SSL_KEY_ALG => &mut s.key_alg,
            _ => continue,
        };
        *slot = Some(text(val));
    }
    Ok(s)
}

/// Read the TLV area of a v2 header. `header` is the whole header (for the
/// CRC, computed with the CRC value itself taken as zero); `area_start` is
/// where the TLVs begin in it.
pub fn parse_tlvs(header: &[u8], area_start: usize) -> Result<Tlvs, TlvError> {
    let mut t = Tlvs::default();
    let mut crc_at = None;
    let mut pos = area_start;
    for (ty, v) in records(&header[area_start..]).map_err(TlvError::Malformed)? {
        let value_at = pos + 3;
        pos = value_at + v.len();
        match ty {
            PP2_TYPE_ALPN => t.alpn = Some(v.to_vec()),
            PP2_TYPE_AUTHORITY => t.authority = Some(text(v)),
            PP2_TYPE_CRC32C => {
                if v.len() != 4 {
                    return Err(TlvError::Malformed("PP2_TYPE_CRC32C is not 4 bytes"));
                }
                t.crc32c = Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
                crc_at = Some(value_at);
            }
            PP2_TYPE_NOOP => {}
            PP2_TYPE_UNIQUE_ID => {
                if v.len() > UNIQUE_ID_MAX {
                    return Err(TlvError::Malformed("PP2_TYPE_UNIQUE_ID longer than 128 bytes"));
                }
                t.unique_id = Some(v.to_vec());
            }
            PP2_TYPE_SSL => t.ssl = Some(ssl(v).map_err(TlvError::Malformed)?),
            PP2_TYPE_NETNS => t.netns = Some(text(v)),
            _ => t.others.push((ty, v.to_vec())),
        }
    }
    if let (Some(sent), Some(at)) = (t.crc32c, crc_at) {
        let computed = crc32c(&[&header[..at], &[0; 4], &header[at + 4..]]);
        if computed != sent {
            return Err(TlvError::Crc { sent, computed });
        }
    }
    Ok(t)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlvError {
    Malformed(&'static str),
    Crc { sent: u32, computed: u32 },
}
