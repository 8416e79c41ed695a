//! The SMTP session never panics, whatever a client sends: random bytes,
//! and random sequences of SMTP pieces, fed in random chunks, in the
//! host-check mode (nothing is spooled). Bounded: a few seconds.

use std::sync::Arc;

use proptest::prelude::*;
use rexim::smtp::{Event, LiteralAcls, NoDsn, Peer, Services, Session, SessionMode, ListsHostMatcher, SmtpConfig};

fn services() -> Services {
    let opts: Vec<(String, String)> = vec![
        ("primary_hostname".into(), "fuzz.example".into()),
        ("acl_smtp_rcpt".into(), "accept".into()),
        ("message_size_limit".into(), "2k".into()),
        ("recipients_max".into(), "5".into()),
    ];
    let cfg = SmtpConfig::from_lookup(&move |n| opts.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()));
    Services {
        cfg: Arc::new(cfg),
        hosts: Arc::new(ListsHostMatcher::plain()),
        dsn: Arc::new(NoDsn),
        auths: Arc::new(Vec::new()),
        ids: Arc::new(rexim::spool::IdGenerator::default()),
    }
}

/// Feed the input in the given chunk sizes; every reply must start with a
/// three-digit code and end its line with CRLF.
fn run(input: &[u8], chunks: &[usize]) {
    let s = services();
    let acls = LiteralAcls::from_lookup(&|n| (n == "acl_smtp_rcpt").then(|| "accept".to_string()));
    let peer = Peer { address: Some("10.0.0.1".into()), port: 1234, connection_count: 1, ..Default::default() };
    let mut session = Session::new(&s, Box::new(acls), SessionMode::HostCheck, peer);
    let mut events = session.start();
    let mut rest = input;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        events.extend(session.feed(&rest[..n]));
        rest = &rest[n..];
    }
    events.extend(session.eof());
    for e in events {
        if let Event::Reply(bytes) = e {
            assert!(bytes.len() >= 5 && bytes[..3].iter().all(u8::is_ascii_digit), "bad reply {bytes:?}");
            // -bh adds its "not a real message id" note after a 250.
            assert!(bytes.windows(2).any(|w| w == b"\r\n"), "reply without CRLF {bytes:?}");
        }
    }
}

const PIECES: &[&str] = &[
    "HELO x\r\n", "EHLO client.example\r\n", "MAIL FROM:<a@b.c>\r\n", "MAIL FROM:<> SIZE=99999\r\n",
    "RCPT TO:<d@e.f>\r\n", "RCPT TO:<bad\r\n", "DATA\r\n", "Subject: x\r\n\r\nbody\r\n", ".\r\n", "..\r\n",
    "BDAT 5\r\n", "BDAT 0 LAST\r\n", "hello", "RSET\r\n", "NOOP\r\n", "VRFY x\r\n", "EXPN y\r\n", "ETRN z\r\n",
    "HELP\r\n", "STARTTLS\r\n", "AUTH PLAIN AGFAYg==\r\n", "QUIT\r\n", "\r\n", "\n", "\0", "\u{0}RCPT", "x",
];

fn pieces() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..600), chunks in prop::collection::vec(1usize..64, 1..8)) {
        run(&input, &chunks);
    }

    #[test]
    fn smtp_pieces_never_panic(input in pieces(), chunks in prop::collection::vec(1usize..200, 1..8)) {
        run(&input, &chunks);
    }
}

#[test]
fn very_long_lines_are_refused_not_kept() {
    let mut input = b"EHLO x\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'A', 200_000));
    input.extend(b"\r\nQUIT\r\n");
    run(&input, &[4096]);
}
