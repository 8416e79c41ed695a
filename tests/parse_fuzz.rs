//! Exim's RFC 2822 address parser (src/parse.rs, `verify = header_syntax`)
//! never panics and always ends, whatever bytes a header holds: random
//! bytes, and random sequences of the pieces addresses are made of.
//! Bounded: a few thousand cases.

use proptest::prelude::*;
use rexim::parse::{check_headers, find_address_end, header_addresses, Parser};

fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a", "b.c", "@", "<", ">", "\"", "\\", "(", ")", ",", ";", ":", ".", "[", "]", " ", "\t", "\n", "IPv6:", "1.2",
        "Name ", "g:", "@r.s,", "\u{fc}", "\r", "\0",
    ])
}

fn check(bytes: &[u8]) {
    let end = find_address_end(bytes, false);
    assert!(end <= bytes.len());
    let end = find_address_end(bytes, true);
    assert!(end <= bytes.len());
    for allow_null in [false, true] {
        let mut p = Parser::new(allow_null);
        if let Ok(a) = p.extract_address(bytes, allow_null) {
            assert!(a.start <= a.end && a.end <= bytes.len());
            assert!(a.domain <= a.address.len());
        }
    }
    let text = rexim::bytes::from_bytes(bytes).into_owned();
    for name in ["To", "From", "Resent-Cc"] {
        let _ = check_headers(&[format!("{name}: {text}\n")], false, false, false);
        // What verify = not_blind reads; a domain, when found, lies inside.
        for a in header_addresses(&format!("{name}: {text}\n"), true) {
            assert!(a.domain <= a.address.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check(&bytes);
    }

    #[test]
    fn address_pieces(pieces in prop::collection::vec(piece(), 0..40)) {
        check(pieces.concat().as_bytes());
    }
}
