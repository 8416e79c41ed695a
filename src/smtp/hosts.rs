//! A host-list matcher good enough for the `*_hosts` options until the
//! lists layer's is plugged in: `*`, IP addresses, CIDR networks, name
//! patterns (`*.example`), negation, `<;` separators; an empty item
//! matches local input (no host), as in Exim.

use super::hooks::HostMatcher;

#[derive(Debug, Default, Clone, Copy)]
pub struct SimpleHostMatcher;

fn items(list: &str) -> Vec<String> {
    let (sep, body) = match list.trim_start().strip_prefix('<') {
        Some(rest) if rest.starts_with(|c: char| !c.is_ascii_alphanumeric() && c != ' ') => {
            (rest.chars().next().unwrap_or(':'), &rest[1..])
        }
        _ => (':', list),
    };
    body.split(sep).map(|s| s.trim().to_string()).collect()
}

fn item_matches(item: &str, address: Option<&str>, name: Option<&str>) -> bool {
    if item == "*" {
        return true;
    }
    let Some(addr) = address else {
        return item.is_empty();
    };
    if item.is_empty() {
        return false;
    }
    if let Ok(ip) = addr.parse::<std::net::IpAddr>() {
        if let Ok(net) = item.parse::<ipnet::IpNet>() {
            return net.contains(&ip);
        }
        if let Ok(i) = item.parse::<std::net::IpAddr>() {
            return i == ip;
        }
    }
    match name {
        Some(n) => match item.strip_prefix('*') {
            Some(suffix) => n.to_ascii_lowercase().ends_with(&suffix.to_ascii_lowercase()),
            None => n.eq_ignore_ascii_case(item),
        },
        None => false,
    }
}

impl HostMatcher for SimpleHostMatcher {
    fn matches(&self, list: &str, address: Option<&str>, name: Option<&str>) -> bool {
        // As in Exim, a list that ends with a negative item matches what
        // no item matched.
        let mut last_negative = false;
        for item in items(list) {
            let (neg, it) = match item.strip_prefix('!') {
                Some(r) => (true, r.trim()),
                None => (false, item.as_str()),
            };
            if item.is_empty() && address.is_some() {
                continue;
            }
            last_negative = neg;
            if item_matches(it, address, name) {
                return !neg;
            }
        }
        last_negative
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        let m = SimpleHostMatcher;
        assert!(m.matches("*", Some("10.0.0.1"), None));
        assert!(m.matches("*", None, None));
        assert!(m.matches("10.0.0.0/8", Some("10.1.2.3"), None));
        assert!(!m.matches("!10.0.0.0/8 : *", Some("10.1.2.3"), None));
        assert!(m.matches("!10.0.0.0/8 : *", Some("127.0.0.1"), None));
        assert!(m.matches("<; ::1 ; 127.0.0.1", Some("127.0.0.1"), None));
        assert!(m.matches(": 1.2.3.4", None, None));
        assert!(!m.matches("1.2.3.4", None, None));
        assert!(m.matches("*.example", Some("1.1.1.1"), Some("a.example")));
        assert!(m.matches("!10.0.0.1", Some("10.0.0.2"), None));
        assert!(m.matches("!10.0.0.1", None, None));
        assert!(!m.matches("!10.0.0.1", Some("10.0.0.1"), None));
    }
}
