//! IP address operators: mask, ipv6norm, ipv6denorm, reverse_ip.

use std::net::{IpAddr, Ipv6Addr};

use super::error::ExpandError;

fn fail<T>(msg: impl Into<String>) -> Result<T, ExpandError> {
    Err(ExpandError::Failed(msg.into()))
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// `${mask:ip/bits}`; IPv6 results use dots unless normalised (`mask_n`).
pub fn mask(s: &str, normalised: bool) -> Result<String, ExpandError> {
    let not_ip = || fail(format!("\"{s}\" is not an IP address"));
    let (addr, bits) = s.split_once('/').unwrap_or((s, ""));
    let Some(ip) = parse_ip(addr) else { return not_ip() };
    if !s.contains('/') {
        return fail(format!("missing mask value in \"{s}\""));
    }
    let bits: u32 = match bits.parse() {
        Ok(b) if bits.bytes().all(|c| c.is_ascii_digit()) => b,
        _ => return not_ip(),
    };
    match ip {
        IpAddr::V4(v4) => {
            if bits > 32 {
                return fail(format!("mask value too big in \"{s}\""));
            }
            let m = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            let masked = std::net::Ipv4Addr::from(u32::from(v4) & m);
            let mut out = String::with_capacity(18);
            push_ipv4(&mut out, masked.octets());
            out.push('/');
            push_decimal(&mut out, bits as u8);
            Ok(out)
        }
        IpAddr::V6(v6) => {
            if bits > 128 {
                return fail(format!("mask value too big in \"{s}\""));
            }
            let m = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            let masked = Ipv6Addr::from(u128::from(v6) & m);
            if normalised {
                Ok(format!("{}/{bits}", exim_ipv6(&masked)))
            } else {
                let mut out = String::with_capacity(43);
                for (i, g) in masked.segments().iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX_DIGITS[usize::from((g >> shift) & 0xf)] as char);
                    }
                }
                out.push('/');
                push_decimal(&mut out, bits as u8);
                Ok(out)
            }
        }
    }
}

/// Exim's compressed IPv6 text: hex groups without leading zeros, the
/// longest run of zero groups (the first of equals, even a single group)
/// written as "::", and no dotted-quad tail.
pub fn exim_ipv6(addr: &Ipv6Addr) -> String {
    let seg = addr.segments();
    let (mut best, mut best_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if seg[i] == 0 {
            let start = i;
            while i < 8 && seg[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    // Written into one string: this runs for every IPv6 address shown.
    fn push_hex(out: &mut String, r: &[u16]) {
        use std::fmt::Write;
        for (i, g) in r.iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            let _ = write!(out, "{g:x}");
        }
    }
    let mut out = String::with_capacity(40);
    if best_len == 0 {
        push_hex(&mut out, &seg);
        return out;
    }
    if best_len == 8 {
        // Exim's formatting leaves a single colon for the all-zero address.
        return ":".into();
    }
    push_hex(&mut out, &seg[..best]);
    out.push_str("::");
    push_hex(&mut out, &seg[best + best_len..]);
    out
}

pub fn ipv6norm(s: &str) -> Result<String, ExpandError> {
    match parse_ip(s) {
        Some(IpAddr::V6(v6)) => Ok(exim_ipv6(&v6)),
        Some(IpAddr::V4(v4)) => Ok(exim_ipv6(&v4.to_ipv6_mapped())),
        None => fail(format!("\"{s}\" is not an IP address")),
    }
}

pub fn ipv6denorm(s: &str) -> Result<String, ExpandError> {
    let v6 = match parse_ip(s) {
        Some(IpAddr::V6(v6)) => v6,
        Some(IpAddr::V4(v4)) => v4.to_ipv6_mapped(),
        None => return fail(format!("\"{s}\" is not an IP address")),
    };
    let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:04x}")).collect();
    Ok(groups.join(":"))
}

pub fn reverse_ip(s: &str) -> Result<String, ExpandError> {
    let ip = match parse_ip(s) {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => Some(IpAddr::V4(v4)),
            None => Some(IpAddr::V6(v6)),
        },
        other => other,
    };
    match ip {
        Some(IpAddr::V4(v4)) => {
            let mut o = v4.octets();
            o.reverse();
            let mut out = String::with_capacity(15);
            push_ipv4(&mut out, o);
            Ok(out)
        }
        Some(IpAddr::V6(v6)) => {
            let mut out = String::with_capacity(63);
            for b in v6.octets().iter().rev() {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push(HEX_DIGITS[usize::from(b & 0xf)] as char);
                out.push('.');
                out.push(HEX_DIGITS[usize::from(b >> 4)] as char);
            }
            Ok(out)
        }
        None => fail(format!("reverse_ip() not given an IP address [{s}]")),
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Written digit by digit: format! costs more than the rest of these
/// operators together.
fn push_decimal(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

/// Dotted-quad text of four octets, in the order given.
fn push_ipv4(out: &mut String, octets: [u8; 4]) {
    for (i, o) in octets.into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_decimal(out, o);
    }
}

/// `isip`, `isip4`, `isip6`: Exim's string_is_ip_address.
pub fn ip_version(s: &str) -> Option<u8> {
    match parse_ip(s)? {
        IpAddr::V4(_) => Some(4),
        IpAddr::V6(_) => Some(6),
    }
}
