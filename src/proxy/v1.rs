//! PROXY v1: `PROXY TCP4 src dst sport dport\r\n`, read field by field the
//! way Exim 4.96's setup_proxy_protocol_host does.

use super::error::{ErrorKind, ProxyError};
use super::header::{Command, Endpoints, Family, Header, Version};
use super::ip_text::is_ip_address;
use super::parse::{NeedMore, ParseError, Parsed, Policy, SHORTEST_HEADER};
use super::tlv::Tlvs;

/// C's isspace in the "C" locale.
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C's strtol(s, &end, 10) assigned to an int: the value (saturated to a
/// long, then truncated to 32 bits as the assignment does) and whether
/// *end is the terminating NUL.
fn strtol_int(s: &[u8]) -> (i32, bool) {
    let mut i = 0;
    while i < s.len() && c_isspace(s[i]) {
        i += 1;
    }
    let neg = i < s.len() && s[i] == b'-';
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        i += 1;
    }
    let digits_start = i;
    let mut v: i64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        let d = (s[i] - b'0') as i64;
        match v.checked_mul(10).and_then(|x| x.checked_add(d)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        // No digits: strtol gives 0 and leaves end at the start.
        return (0, s.is_empty());
    }
    let long = match (overflow, neg) {
        (true, false) => i64::MAX,
        (true, true) => i64::MIN,
        (false, false) => v,
        (false, true) => -v,
    };
    (long as i32, i == s.len())
}

pub fn parse(buf: &[u8], policy: &Policy) -> Result<Parsed, ParseError> {
    let limit = buf.len().min(policy.v1_max);
    let cr = match buf[..limit].iter().position(|&b| b == b'\r') {
        Some(cr) => cr,
        None if limit >= policy.v1_max => return Err(ProxyError::new(ErrorKind::V1TooLong).into()),
        None => {
            let more = SHORTEST_HEADER.saturating_sub(buf.len()).max(2);
            let more = more.min(policy.v1_max - buf.len());
            return Err(ParseError::NeedMore(NeedMore(more)));
        }
    };
    if cr + 1 == policy.v1_max {
        // No room left for the LF.
        return Err(ProxyError::new(ErrorKind::V1TooLong).into());
    }
    if cr + 1 == buf.len() {
        return Err(ParseError::NeedMore(NeedMore(1)));
    }
    if buf[cr + 1] != b'\n' {
        return Err(ProxyError::new(ErrorKind::V1BadLineEnd).into());
    }
    // Exim copies the line as a C string: a NUL ends it early.
    let line = &buf[..cr];
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let header = fields(line)?;
    if policy.strict {
        strict_check(&buf[..cr], &header)?;
    }
    Ok(Parsed { header, consumed: cr + 2 })
}

/// The field walk, in Exim's order and with its partial assignments.
fn fields(line: &[u8]) -> Result<Header, ProxyError> {
    let mut err = ProxyError::new(ErrorKind::NotProxy);
    let fail = |mut e: ProxyError, k: ErrorKind| {
        e.kind = k;
        e
    };
    if !line.get(5).is_some_and(|&b| c_isspace(b)) {
        return Err(fail(err, ErrorKind::V1NoSpaceAfterProxy));
    }
    let p = &line[6..];
    let (family, iptype) = if p.starts_with(b"TCP4") {
        (Family::Tcp4, "IPv4")
    } else if p.starts_with(b"TCP6") {
        (Family::Tcp6, "IPv6")
    } else if p.starts_with(b"UNKNOWN") {
        return Ok(Header {
            version: Version::V1,
            command: Command::Local,
            family: Family::Unspec,
            endpoints: None,
            tlvs: Tlvs::default(),
        });
    } else {
        return Err(fail(err, ErrorKind::V1BadProtocol));
    };
    if !p.get(4).is_some_and(|&b| c_isspace(b)) {
        return Err(fail(err, ErrorKind::V1NoSpaceAfterProtocol));
    }
    let p = &p[5..];
    let Some(sp) = p.iter().position(|&b| b == b' ') else {
        return Err(fail(err, ErrorKind::V1NoSource(iptype)));
    };
    let source = address(&p[..sp]).ok_or(ErrorKind::V1BadSource(iptype));
    let source = match source {
        Ok(a) => a,
        Err(k) => return Err(fail(err, k)),
    };
    err.partial.source = Some(source.clone());
    let p = &p[sp + 1..];
    let Some(sp) = p.iter().position(|&b| b == b' ') else {
        return Err(fail(err, ErrorKind::V1NoDestination(iptype)));
    };
    let destination = match address(&p[..sp]).ok_or(ErrorKind::V1BadDestination(iptype)) {
        Ok(a) => a,
        Err(k) => return Err(fail(err, k)),
    };
    err.partial.destination = Some(destination.clone());
    let p = &p[sp + 1..];
    let Some(sp) = p.iter().position(|&b| b == b' ') else {
        return Err(fail(err, ErrorKind::V1NoSourcePort));
    };
    let (source_port, whole) = strtol_int(&p[..sp]);
    if !whole || source_port == 0 {
        let shown = String::from_utf8_lossy(&p[..sp]).into_owned();
        return Err(fail(err, ErrorKind::V1BadSourcePort(shown)));
    }
    err.partial.source_port = Some(source_port);
    let p = &p[sp + 1..];
    let (destination_port, whole) = strtol_int(p);
    if !whole || destination_port == 0 {
        let shown = String::from_utf8_lossy(p).into_owned();
        return Err(fail(err, ErrorKind::V1BadDestinationPort(shown)));
    }
    // Exim 4.96 accepts fe80::1%eth0 here and then dies looking it up.
    if source.contains('%') || destination.contains('%') {
        return Err(fail(err, ErrorKind::V1ScopedAddress));
    }
    Ok(Header {
        version: Version::V1,
        command: Command::Proxy,
        family,
        endpoints: Some(Endpoints { source, source_port, destination, destination_port }),
        tlvs: Tlvs::default(),
    })
}

fn address(field: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(field).ok()?;
    is_ip_address(s).map(|_| s.to_string())
}

/// What HAProxy's spec requires beyond what Exim checks.
fn strict_check(line: &[u8], h: &Header) -> Result<(), ProxyError> {
    let bad = |why| Err(ProxyError::new(ErrorKind::V1NotStrict(why)));
    if line.contains(&0) {
        return bad("NUL byte");
    }
    if line.contains(&b'\t') || line.contains(&b'\n') || line.windows(2).any(|w| w == b"  ") {
        return bad("fields must be separated by single spaces");
    }
    let Some(e) = &h.endpoints else {
        let after = &line[13..];
        return if after.is_empty() || after[0] == b' ' { Ok(()) } else { bad("unknown protocol") };
    };
    let want = if h.family == Family::Tcp4 { 4 } else { 6 };
    for a in [&e.source, &e.destination] {
        if is_ip_address(a) != Some(want) {
            return bad("address does not match the protocol");
        }
    }
    let text = String::from_utf8_lossy(line);
    let fields: Vec<&str> = text.split(' ').collect();
    if fields.len() != 6 {
        return bad("wrong number of fields");
    }
    for port in &fields[4..] {
        let canonical = port.parse::<u16>().map(|n| n.to_string());
        if canonical.as_deref() != Ok(*port) {
            return bad("port not a decimal number in 0..65535");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::strtol_int;

    #[test]
    fn strtol_like_c() {
        assert_eq!(strtol_int(b"25"), (25, true));
        assert_eq!(strtol_int(b" 25"), (25, true));
        assert_eq!(strtol_int(b"+25"), (25, true));
        assert_eq!(strtol_int(b"-5"), (-5, true));
        assert_eq!(strtol_int(b"25 "), (25, false));
        assert_eq!(strtol_int(b"x"), (0, false));
        assert_eq!(strtol_int(b""), (0, true));
        assert_eq!(strtol_int(b"99999999999999999999"), (-1, true));
        assert_eq!(strtol_int(b"4294967297"), (1, true));
    }
}
