//! Extracting the address from a MAIL/RCPT argument, with Exim's error
//! texts (parse_extract_address for the route-addr forms SMTP allows).

/// A parsed address: the address without angle brackets, and whether it
/// had a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub address: String,
    pub has_domain: bool,
}

fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&c) || c >= 0x80
}

/// Exim's text for trailing junk: at most 32 bytes of it, then what came
/// before it (white space included).
fn junk_error(after: &str, prefix: &str) -> String {
    let mut end = after.len().min(32);
    while !after.is_char_boundary(end) {
        end -= 1;
    }
    format!("malformed address: {} may not follow {prefix}", &after[..end])
}

/// Parse `<local@domain>`, `local@domain`, `<>` (when `allow_empty`),
/// source routes `<@a,@b:x@y>` (dropped as Exim does).
pub fn parse(arg: &str, allow_empty: bool) -> Result<Parsed, String> {
    let s = arg.trim();
    let (inner, bracketed) = match s.strip_prefix('<') {
        Some(rest) => match rest.find('>') {
            Some(end) => {
                let after = rest[end + 1..].trim_start();
                if !after.is_empty() {
                    let prefix = &s[..s.len() - after.len()];
                    return Err(junk_error(after, prefix));
                }
                (&rest[..end], true)
            }
            None => {
                // Exim reports a fault in the address before the missing '>'.
                let p = parse(rest, allow_empty)?;
                if !p.has_domain {
                    let last = p.address.rsplit('.').next().unwrap_or(&p.address).to_string();
                    return Err(format!("\"@\" or \".\" expected after \"{last}\""));
                }
                return Err("'>' missing at end of address".into());
            }
        },
        None => (s, false),
    };
    let _ = bracketed;
    let mut inner = inner.trim();
    if inner.is_empty() {
        if allow_empty {
            return Ok(Parsed { address: String::new(), has_domain: false });
        }
        return Err("missing or malformed local part".into());
    }
    // Source route: skip up to the colon.
    if inner.starts_with('@') {
        match inner.find(':') {
            Some(i) => inner = &inner[i + 1..],
            None => return Err("colon expected after route".into()),
        }
    }
    let b = inner.as_bytes();
    let mut i = 0;
    // Local part: dot-atoms or a quoted string.
    let mut local = String::new();
    loop {
        if i < b.len() && b[i] == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= b.len() {
                return Err("missing or malformed local part".into());
            }
            i += 1;
            local.push_str(&inner[start..i]);
        } else {
            let start = i;
            while i < b.len() && is_atext(b[i]) {
                i += 1;
            }
            if i == start {
                return Err("missing or malformed local part".into());
            }
            local.push_str(&inner[start..i]);
        }
        if i < b.len() && b[i] == b'.' {
            local.push('.');
            i += 1;
            continue;
        }
        break;
    }
    if i == b.len() {
        return Ok(Parsed { address: local, has_domain: false });
    }
    if b[i] != b'@' {
        let last = local.rsplit('.').next().unwrap_or(&local).to_string();
        return Err(format!("\"@\" or \".\" expected after \"{last}\""));
    }
    i += 1;
    let domain_start = i;
    if i < b.len() && b[i] == b'[' {
        while i < b.len() && b[i] != b']' {
            i += 1;
        }
        if i >= b.len() {
            return Err("domain missing or malformed".into());
        }
        i += 1;
    } else {
        loop {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            if i == start {
                return Err("domain missing or malformed".into());
            }
            if i < b.len() && b[i] == b'.' {
                i += 1;
                continue;
            }
            break;
        }
    }
    if i != b.len() {
        let after = inner[i..].trim_start();
        return Err(junk_error(after, &inner[..inner.len() - after.len()]));
    }
    Ok(Parsed { address: format!("{local}@{}", &inner[domain_start..]), has_domain: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exim_texts() {
        assert_eq!(parse("<a@b.c>", false).unwrap().address, "a@b.c");
        assert_eq!(parse("<>", true).unwrap().address, "");
        assert_eq!(parse("<>", false).unwrap_err(), "missing or malformed local part");
        assert_eq!(parse("<a b>", false).unwrap_err(), "\"@\" or \".\" expected after \"a\"");
        assert_eq!(
            parse("<x@y.z> FOO=bar", false).unwrap_err(),
            "malformed address: FOO=bar may not follow <x@y.z> "
        );
        assert_eq!(parse("<postmaster>", false).unwrap(), Parsed { address: "postmaster".into(), has_domain: false });
        assert_eq!(parse("<@r1,@r2:u@d>", false).unwrap().address, "u@d");
    }
}
