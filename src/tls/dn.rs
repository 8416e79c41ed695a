//! The subject DN of a peer certificate, as Exim built with GnuTLS shows
//! it in $tls_in_peerdn and `DN=`: the RDNs in certificate order,
//! comma-separated, `CN=...`. A minimal DER walk, enough for the subject.

/// One DER element: tag, contents, and the rest of the input.
fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((tag, b.get(start..end)?, b.get(end..)?))
}

fn oid_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "EMAIL".into(),
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC".into(),
        _ => {
            // Dotted form for the rest.
            let mut parts = Vec::new();
            if let Some(first) = oid.first() {
                parts.push((first / 40) as u64);
                parts.push((first % 40) as u64);
            }
            let mut v = 0u64;
            for b in oid.iter().skip(1) {
                v = (v << 7) | (b & 0x7f) as u64;
                if b & 0x80 == 0 {
                    parts.push(v);
                    v = 0;
                }
            }
            parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(".")
        }
    }
}

fn escape(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') || (i == 0 && (c == '#' || c == ' ')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The subject DN of a DER certificate, or `None` if it does not parse.
pub fn subject_dn(cert: &[u8]) -> Option<String> {
    let (_, certificate, _) = element(cert)?;
    let (_, mut tbs, _) = element(certificate)?;
    // Optional [0] version.
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs)?.2;
    }
    let rest = element(tbs)?.2; // serial
    let rest = element(rest)?.2; // signature algorithm
    let rest = element(rest)?.2; // issuer
    let rest = element(rest)?.2; // validity
    let (_, mut name, _) = element(rest)?; // subject
    let mut rdns = Vec::new();
    while !name.is_empty() {
        let (_, set, after) = element(name)?;
        name = after;
        let mut set = set;
        let mut parts = Vec::new();
        while !set.is_empty() {
            let (_, atv, after) = element(set)?;
            set = after;
            let (_, oid, value) = element(atv)?;
            let (_, val, _) = element(value)?;
            parts.push(format!("{}={}", oid_name(oid), escape(&String::from_utf8_lossy(val))));
        }
        rdns.push(parts.join("+"));
    }
    Some(rdns.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_subject() {
        // A minimal certificate skeleton: subject O=Example, CN=a.b
        let name = [
            0x30, 0x1e, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x07, b'E', b'x', b'a', b'm', b'p', b'l',
            b'e', 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, b'a',
        ];
        let mut tbs = vec![0x02, 0x01, 0x01, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00];
        tbs.extend_from_slice(&name);
        let mut seq = vec![0x30, tbs.len() as u8];
        seq.extend_from_slice(&tbs);
        let mut cert = vec![0x30, seq.len() as u8];
        cert.extend_from_slice(&seq);
        assert_eq!(subject_dn(&cert).as_deref(), Some("O=Example,CN=a"));
        assert_eq!(subject_dn(&[0x30, 0x85]), None);
    }
}
