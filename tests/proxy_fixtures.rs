//! The PROXY parser and session state against what real Exim 4.96 did with
//! the same bytes (tests/fixtures/proxy/recorded/, made by record.py there):
//! accepted or refused, and the variables its connect ACL logged.

use std::fs;
use std::path::Path;

use rexim::proxy::{parse, parse_with, ErrorKind, ParseError, Policy, ProxyState};

struct Case {
    name: String,
    bytes: Vec<u8>,
    /// Exim never answered 250 (it refused with 503, or the client left).
    exim_failed: bool,
    /// The connect ACL's logwrite, PEERPORT standing for the client's port.
    connect_line: String,
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

fn cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proxy/recorded");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).expect("fixture directory") {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "failed-session-commands" {
            continue;
        }
        let text = fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&text);
        let mut bytes = Vec::new();
        for line in text.lines() {
            if line.starts_with("<<< ") {
                break;
            }
            if let Some(h) = line.strip_prefix(">>> ").and_then(hex) {
                bytes.extend(h);
            }
        }
        let connect_line = text
            .lines()
            .find_map(|l| l.strip_prefix("log: connect proxy "))
            .map(str::to_string)
            // Exim died before its connect ACL (v1-ipv6-scope).
            .unwrap_or_default();
        // Every accepted session got a 250 to its HELO/EHLO; refused ones
        // got 503s, or closed before any (close-at-once).
        let exim_failed = !text.contains("<<< 250");
        out.push(Case { name, bytes, exim_failed, connect_line });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 60, "only {} recorded cases", out.len());
    out
}

/// Where rexim differs from the recording on purpose (docs/proxy.md).
fn deliberate(name: &str) -> Option<bool> {
    match name {
        // Exim's first read got 10 bytes of the split signature and gave
        // up; rexim waits for the rest of the header.
        "v2-split" => Some(false),
        // Exim ignores the CRC32C TLV; rexim refuses a wrong one.
        "v2-crc-bad" => Some(true),
        // Exim accepts a scoped IPv6 address, then dies in host lookup.
        "v1-ipv6-scope" => Some(true),
        _ => None,
    }
}

fn outcome(bytes: &[u8]) -> Result<rexim::proxy::Header, rexim::proxy::ProxyError> {
    match parse(bytes) {
        Ok(p) => Ok(p.header),
        // The real session would time out or see EOF here.
        Err(ParseError::NeedMore(_)) => Err(rexim::proxy::ProxyError::new(ErrorKind::Timeout)),
        Err(ParseError::Invalid(e)) => Err(e),
    }
}

fn connect_line(s: &ProxyState) -> String {
    let v = |n: &str| s.variable(n).unwrap();
    format!(
        "session={} local=[{}]:{} external=[{}]:{} sender=[{}]:{}",
        v("proxy_session"),
        v("proxy_local_address"),
        v("proxy_local_port"),
        v("proxy_external_address"),
        v("proxy_external_port"),
        s.sender_host_address,
        s.sender_host_port
    )
}

#[test]
fn accept_or_refuse_as_exim() {
    let mut checked = 0;
    for c in cases() {
        let failed = outcome(&c.bytes).is_err();
        let want = deliberate(&c.name).unwrap_or(c.exim_failed);
        assert_eq!(failed, want, "{}: rexim failed={failed}, expected {want}", c.name);
        checked += 1;
    }
    assert!(checked >= 60);
}

#[test]
fn variables_as_exim_logged_them() {
    const PEER_PORT: i32 = 40000;
    for c in cases() {
        if deliberate(&c.name).is_some() {
            continue;
        }
        let state = ProxyState::negotiated("127.0.0.1", PEER_PORT, outcome(&c.bytes));
        let got = connect_line(&state).replace(&PEER_PORT.to_string(), "PEERPORT");
        assert_eq!(got, c.connect_line, "{}", c.name);
    }
}

#[test]
fn pipelined_bytes_are_left_unread() {
    for c in cases().iter().filter(|c| c.name.ends_with("pipelined-ehlo")) {
        let p = parse(&c.bytes).unwrap();
        assert_eq!(&c.bytes[p.consumed..], b"EHLO client.example\r\n", "{}", c.name);
    }
}

#[test]
fn strict_policy_outcomes() {
    // Cases HAProxy's spec allows; every other recorded case must fail.
    const STRICT_OK: &[&str] = &[
        "v1-107-bytes", "v1-pipelined-ehlo", "v1-split", "v1-tcp4", "v1-tcp6", "v1-tcp6-longest", "v1-unknown",
        "v1-unknown-addrs", "v2-crc-good", "v2-len-216", "v2-len-217", "v2-local",
        "v2-local-with-addrs", "v2-pipelined-ehlo", "v2-split", "v2-tcp4", "v2-tcp6", "v2-tlvs",
    ];
    for c in cases() {
        let ok = parse_with(&c.bytes, &Policy::STRICT).is_ok();
        assert_eq!(ok, STRICT_OK.contains(&c.name.as_str()), "{}", c.name);
    }
}

#[test]
fn tlv_variables() {
    let c = cases().into_iter().find(|c| c.name == "v2-tlvs").unwrap();
    let s = ProxyState::negotiated("127.0.0.1", 1, outcome(&c.bytes));
    let v = |n: &str| s.variable(n).unwrap();
    assert_eq!(v("proxy_tlv_alpn"), "smtp");
    assert_eq!(v("proxy_tlv_authority"), "mx.example.org");
    assert_eq!(v("proxy_tlv_unique_id"), "01027569642d3432");
    assert_eq!(v("proxy_tlv_ssl"), "yes");
    assert_eq!(v("proxy_tlv_ssl_verified"), "yes");
    assert_eq!(v("proxy_tlv_ssl_version"), "TLSv1.3");
    assert_eq!(v("proxy_tlv_ssl_cn"), "client.example");
    assert_eq!(v("proxy_tlv_ssl_cipher"), "TLS_AES_256_GCM_SHA384");
    assert_eq!(v("proxy_tlv_ssl_sig_alg"), "RSA-SHA256");
    assert_eq!(v("proxy_tlv_ssl_key_alg"), "RSA2048");
    assert_eq!(s.tlvs.others, vec![(0xE0, b"private".to_vec())]);
    // The seed's names for Exim's variables.
    assert_eq!(v("proxy_host_address"), v("proxy_local_address"));
    assert_eq!(v("proxy_target_port"), "1025");
    assert_eq!(s.variable("proxy_nonsense"), None);
}

#[test]
fn failed_session_replies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proxy/recorded");
    let text = fs::read_to_string(dir.join("failed-session-commands.txt")).unwrap();
    let failed = ProxyState::negotiated("127.0.0.1", 1, outcome(b"EHLO x\r\n"));
    let lines: Vec<&str> = text.lines().collect();
    let mut n = 0;
    for pair in lines[3..].chunks(2) {
        let cmd = pair[0].strip_prefix(">>> ").unwrap().trim_end_matches("\\r\\n");
        let reply = pair[1].strip_prefix("<<< ").unwrap();
        let verb = cmd.split(' ').next().unwrap();
        match failed.refusal(verb) {
            Some(r) => assert_eq!(r, reply, "{cmd}"),
            None => assert!(reply.starts_with("221 "), "{cmd}"),
        }
        n += 1;
    }
    assert_eq!(n, 14);
}

#[test]
fn prx_log_field() {
    let c = cases().into_iter().find(|c| c.name == "v1-tcp4").unwrap();
    let s = ProxyState::negotiated("127.0.0.1", 1, outcome(&c.bytes));
    assert_eq!(s.log_prx(true).as_deref(), Some(" PRX=127.0.0.1"));
    assert_eq!(s.log_prx(false), None);
    assert!(s.needs_host_lookup());
    assert!(s.proxied());
    let local = ProxyState::negotiated("127.0.0.1", 1, outcome(b"PROXY UNKNOWN\r\n"));
    assert_eq!(local.log_prx(true), None);
    assert!(local.needs_host_lookup() && !local.proxied());
    let failed = ProxyState::negotiated("127.0.0.1", 1, outcome(b"PROXY TCP4 1.2.3.4 x\r\n"));
    assert!(!failed.needs_host_lookup() && failed.refusal("EHLO").is_some());
    assert_eq!(ProxyState::direct("1.2.3.4", 5).log_prx(true), None);
}
