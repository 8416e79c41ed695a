//! Cost of parsing a v1 and a v2 PROXY header (target: well under 5 µs).
//! Run: cargo bench --bench proxy_parse  (or scripts/bench-proxy)

use std::hint::black_box;
use std::time::Instant;

use rexim::proxy::parse;

fn per_parse(name: &str, bytes: &[u8]) {
    const N: u32 = 200_000;
    assert!(parse(bytes).is_ok(), "{name} does not parse");
    for _ in 0..10_000 {
        black_box(parse(black_box(bytes)).ok());
    }
    let t = Instant::now();
    for _ in 0..N {
        black_box(parse(black_box(bytes)).ok());
    }
    let ns = t.elapsed().as_nanos() as f64 / N as f64;
    println!("{name:<28} {ns:>8.1} ns/parse");
}

fn main() {
    per_parse("v1 TCP4", b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n");
    per_parse(
        "v1 TCP6 longest",
        b"PROXY TCP6 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff 2001:db8::2 65535 25\r\n",
    );
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    v2.extend([192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0, 25]);
    per_parse("v2 TCP4", &v2);
    let mut v2t = b"\r\n\r\n\0\r\nQUIT\n\x21\x11".to_vec();
    let mut body = vec![192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0, 25];
    for (t, v) in [(0x01u8, &b"smtp"[..]), (0x02, b"mx.example.org"), (0x05, b"uid-0042")] {
        body.push(t);
        body.extend((v.len() as u16).to_be_bytes());
        body.extend(v);
    }
    v2t.extend((body.len() as u16).to_be_bytes());
    v2t.extend(body);
    per_parse("v2 TCP4 + 3 TLVs", &v2t);
}
