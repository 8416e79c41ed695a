//! xtext (RFC 3461) properties: round trip, canonical output, no panic.

use proptest::prelude::*;
use rexim::dsn::xtext::{decode, encode};

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let e = encode(&bytes);
        prop_assert!(e.bytes().all(|b| (33..=126).contains(&b) && b != b'='));
        prop_assert_eq!(decode(&e).unwrap(), bytes);
    }

    #[test]
    fn decode_never_panics(s in "\\PC{0,100}", raw in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = decode(&s);
        let _ = decode(&String::from_utf8_lossy(&raw));
    }

    /// Whatever decodes, encodes back to the same text (the encoding is
    /// canonical: upper-case hex, and only where needed).
    #[test]
    fn canonical(s in "([!-*,-<>-~]|\\+[0-9A-F]{2}){0,40}") {
        if let Ok(d) = decode(&s) {
            let again = encode(&d);
            prop_assert_eq!(decode(&again).unwrap(), d);
        }
    }
}
