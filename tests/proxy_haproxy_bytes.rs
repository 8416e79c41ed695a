//! Headers captured from a real HAProxy (tests/fixtures/proxy/haproxy/):
//! parsed, the real client found, the CRC32C HAProxy computed accepted,
//! and the client's first bytes left unread.

use std::path::Path;

use rexim::proxy::{parse, parse_with, Policy, ProxyState};

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proxy/haproxy").join(name)).unwrap()
}

#[test]
fn haproxy_headers() {
    for name in ["send-proxy.bin", "send-proxy-v2.bin", "send-proxy-v2-tlvs.bin"] {
        let b = bytes(name);
        for policy in [Policy::EXIM, Policy::STRICT] {
            let p = parse_with(&b, &policy).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(&b[p.consumed..], b"EHLO x\r\n", "{name}");
            let e = p.header.endpoints.as_ref().unwrap();
            assert_eq!(e.source, "127.0.0.3", "{name}");
            assert_eq!(e.destination, "127.0.0.1", "{name}");
        }
    }
    let p = parse(&bytes("send-proxy-v2-tlvs.bin")).unwrap();
    assert!(p.header.tlvs.crc32c.is_some());
    let s = ProxyState::negotiated("127.0.0.1", 5000, Ok(p.header));
    let uid = s.variable("proxy_tlv_unique_id").unwrap();
    assert!(uid.starts_with("rexim-127.0.0.3-"), "{uid}");
    assert_eq!(s.sender_host_address, "127.0.0.3");
    assert_eq!(s.variable("proxy_local_address").unwrap(), "127.0.0.1");
    assert_eq!(s.variable("proxy_local_port").unwrap(), "5000");
    // One flipped bit in the unique id breaks HAProxy's checksum.
    let mut bad = bytes("send-proxy-v2-tlvs.bin");
    let i = bad.windows(5).position(|w| w == b"rexim").unwrap();
    bad[i] ^= 0x20;
    assert!(parse(&bad).is_err());
}
