//! The PROXY parser against headers built by the `ppp` crate, and
//! property tests: no panic on any input, no byte read past a header.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ppp::v2::{Builder, Command as PCommand, Protocol, Type, Version as PVersion};
use proptest::prelude::*;
use rexim::proxy::{parse, parse_with, Command, Family, ParseError, Policy};

fn ip_of(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| panic!("not an address: {s}"))
}

fn addr_pair() -> impl Strategy<Value = (SocketAddr, SocketAddr)> {
    let v4 = (any::<[u8; 4]>(), 1u16.., any::<[u8; 4]>(), 1u16..).prop_map(|(a, p, b, q)| {
        (SocketAddr::new(Ipv4Addr::from(a).into(), p), SocketAddr::new(Ipv4Addr::from(b).into(), q))
    });
    let v6 = (any::<[u8; 16]>(), 1u16.., any::<[u8; 16]>(), 1u16..).prop_map(|(a, p, b, q)| {
        (SocketAddr::new(Ipv6Addr::from(a).into(), p), SocketAddr::new(Ipv6Addr::from(b).into(), q))
    });
    prop_oneof![v4, v6]
}

fn check_endpoints(h: &rexim::proxy::Header, src: SocketAddr, dst: SocketAddr) {
    let e = h.endpoints.as_ref().expect("endpoints");
    assert_eq!(ip_of(&e.source), src.ip());
    assert_eq!(ip_of(&e.destination), dst.ip());
    assert_eq!(e.source_port, src.port() as i32);
    assert_eq!(e.destination_port, dst.port() as i32);
    let fam = if src.is_ipv4() { Family::Tcp4 } else { Family::Tcp6 };
    assert_eq!(h.family, fam);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn v1_from_ppp((src, dst) in addr_pair(), tail in proptest::collection::vec(any::<u8>(), 0..32)) {
        let text = ppp::v1::Addresses::from((src, dst)).to_string();
        let mut bytes = text.clone().into_bytes();
        bytes.extend(&tail);
        for policy in [Policy::EXIM, Policy::STRICT] {
            let p = parse_with(&bytes, &policy).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
            prop_assert_eq!(p.consumed, text.len());
            prop_assert_eq!(p.header.command, Command::Proxy);
            check_endpoints(&p.header, src, dst);
        }
    }

    #[test]
    fn v2_from_ppp((src, dst) in addr_pair(),
                   authority in "[a-z0-9.-]{1,40}",
                   alpn in "[a-z0-9/.]{1,12}",
                   uid in proptest::collection::vec(any::<u8>(), 0..=128),
                   noop in proptest::collection::vec(any::<u8>(), 0..20),
                   tail in proptest::collection::vec(any::<u8>(), 0..32)) {
        let built = Builder::with_addresses(PVersion::Two | PCommand::Proxy, Protocol::Stream, (src, dst))
            .write_tlv(Type::Authority, authority.as_bytes()).unwrap()
            .write_tlv(Type::ALPN, alpn.as_bytes()).unwrap()
            .write_tlv(Type::UniqueId, &uid).unwrap()
            .write_tlv(Type::NoOp, &noop).unwrap()
            .build().unwrap();
        // ppp's own reading of what it built agrees on the length.
        let theirs = ppp::v2::Header::try_from(&built[..]).unwrap();
        prop_assert_eq!(theirs.len(), built.len());
        let mut bytes = built.clone();
        bytes.extend(&tail);
        // Exim's 232-byte bound can refuse the larger ones; strict cannot.
        let p = parse_with(&bytes, &Policy::STRICT).unwrap();
        prop_assert_eq!(p.consumed, built.len());
        check_endpoints(&p.header, src, dst);
        prop_assert_eq!(p.header.tlvs.authority.as_deref(), Some(authority.as_str()));
        prop_assert_eq!(p.header.tlvs.alpn.as_deref(), Some(alpn.as_bytes()));
        prop_assert_eq!(p.header.tlvs.unique_id.as_deref(), Some(&uid[..]));
        match parse(&bytes) {
            Ok(q) => { prop_assert!(built.len() <= 232); prop_assert_eq!(q.header, p.header); }
            Err(ParseError::Invalid(_)) => prop_assert!(built.len() > 232),
            Err(e) => prop_assert!(false, "{:?}", e),
        }
    }

    #[test]
    fn v2_local_from_ppp(noop in proptest::collection::vec(any::<u8>(), 0..20)) {
        let built = Builder::new(PVersion::Two | PCommand::Local, 0)
            .write_tlv(Type::NoOp, &noop).unwrap()
            .build().unwrap();
        let p = parse(&built).unwrap();
        prop_assert_eq!(p.header.command, Command::Local);
        prop_assert!(p.header.endpoints.is_none());
        prop_assert_eq!(p.consumed, built.len());
    }

    /// Every proper prefix of a valid header asks for more, never for
    /// more than the rest of the header.
    #[test]
    fn prefixes_never_overread((src, dst) in addr_pair(), v2 in any::<bool>()) {
        let bytes = if v2 {
            Builder::with_addresses(PVersion::Two | PCommand::Proxy, Protocol::Stream, (src, dst)).build().unwrap()
        } else {
            ppp::v1::Addresses::from((src, dst)).to_string().into_bytes()
        };
        for cut in 0..bytes.len() {
            match parse(&bytes[..cut]) {
                Err(ParseError::NeedMore(n)) => prop_assert!(n.0 >= 1 && cut + n.0 <= bytes.len(), "cut {} need {}", cut, n.0),
                other => prop_assert!(false, "cut {}: {:?}", cut, other),
            }
        }
    }

    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&bytes);
        let _ = parse_with(&bytes, &Policy::STRICT);
    }

    /// Random bytes behind each signature reach the deeper code paths.
    #[test]
    fn never_panics_behind_signatures(body in proptest::collection::vec(any::<u8>(), 0..260), v2 in any::<bool>()) {
        let mut bytes: Vec<u8> = if v2 { b"\r\n\r\n\0\r\nQUIT\n".to_vec() } else { b"PROXY ".to_vec() };
        bytes.extend(body);
        for policy in [Policy::EXIM, Policy::STRICT] {
            if let Err(ParseError::NeedMore(n)) = parse_with(&bytes, &policy) {
                prop_assert!(n.0 >= 1);
            }
        }
    }
}

#[test]
fn crc32c_from_ppp_builder() {
    // ppp writes the CRC32C TLV when asked with a zero value; compute it
    // ourselves and check that a right one passes and a wrong one fails.
    let src: SocketAddr = "192.0.2.1:4000".parse().unwrap();
    let dst: SocketAddr = "198.51.100.2:25".parse().unwrap();
    let mut built = Builder::with_addresses(PVersion::Two | PCommand::Proxy, Protocol::Stream, (src, dst))
        .write_tlv(Type::CRC32C, &[0, 0, 0, 0])
        .unwrap()
        .build()
        .unwrap();
    let n = built.len();
    let crc = rexim::proxy::crc32c::crc32c(&[&built]);
    built[n - 4..].copy_from_slice(&crc.to_be_bytes());
    assert_eq!(parse(&built).unwrap().header.tlvs.crc32c, Some(crc));
    built[n - 1] ^= 1;
    assert!(matches!(parse(&built), Err(ParseError::Invalid(_))));
}
