//! IP address text as Exim 4.96 checks and prints it in the PROXY code.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Exim 4.96's string_is_ip_address(s, NULL): 4, 6, or None. It is
/// inet_pton underneath, so no leading zeros in IPv4 octets, at most four
/// hex digits a group; a `%scope` suffix is allowed on IPv6; with no mask
/// pointer a `/mask` makes it not an address.
pub fn is_ip_address(s: &str) -> Option<u8> {
    if s.is_empty() || s.contains('/') {
        return None;
    }
    if s.contains(':') {
        let base = s.split('%').next().unwrap_or("");
        return base.parse::<Ipv6Addr>().ok().map(|_| 6);
    }
    s.parse::<Ipv4Addr>().ok().map(|_| 4)
}

/// glibc's inet_ntop(AF_INET6): like Rust's Display except that an address
/// whose longest zero run is exactly the first 96 bits (::a.b.c.d with a
/// nonzero seventh group) is printed with a dotted-quad tail, as glibc does.
pub fn inet_ntop6(a: &Ipv6Addr) -> String {
    let s = a.segments();
    let zero96 = s[..6].iter().all(|&x| x == 0);
    let v4compat = zero96 && s[6] != 0;
    if v4compat {
        let o = a.octets();
        return format!("::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    }
    a.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exim_isip_answers() {
        // Answers recorded from `exim -be '${if isip{...}}'`.
        for (s, want) in [
            ("1.2.3.4", Some(4)),
            ("127.000.0.02", None),
            ("01.2.3.4", None),
            ("+1.2.3.4", None),
            (" 1.2.3.4", None),
            ("1.2.3.4/24", None),
            ("::1/x", None),
            ("fe80::1%eth0", Some(6)),
            ("::ffff:1.2.3.4", Some(6)),
            ("1:2:3:4:5:6:1.2.3.4", Some(6)),
            ("1.2.3", None),
            ("::", Some(6)),
            (":::", None),
            ("1::2::3", None),
            ("00000::1", None),
            ("0001::1", Some(6)),
        ] {
            assert_eq!(is_ip_address(s), want, "{s}");
        }
    }

    #[test]
    fn ntop_forms() {
        let p = |s: &str| inet_ntop6(&s.parse().unwrap());
        assert_eq!(p("::2"), "::2"); // recorded: Exim logs [::2]
        assert_eq!(p("::1:2"), "::0.1.0.2");
        assert_eq!(p("::1"), "::1");
        assert_eq!(p("::"), "::");
        assert_eq!(p("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(p("2001:db8::2"), "2001:db8::2");
    }
}
