//! read_header_tcp on real loopback sockets: nothing past the header is
//! read, segments are waited for, the timeout and EOF are reported.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rexim::proxy::{read_header_tcp, ErrorKind, Policy};

/// Accept one connection whose client writes `segments` (pausing between
/// them) then closes; return the header outcome and what was left unread.
fn serve(segments: Vec<Vec<u8>>, timeout: Duration) -> (Result<rexim::proxy::Header, rexim::proxy::ProxyError>, Vec<u8>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let client = thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        for (i, s) in segments.iter().enumerate() {
            if i > 0 {
                thread::sleep(Duration::from_millis(50));
            }
            c.write_all(s).unwrap();
        }
        thread::sleep(Duration::from_millis(50));
    });
    let (mut s, _) = l.accept().unwrap();
    let r = read_header_tcp(&mut s, timeout, &Policy::EXIM);
    client.join().unwrap();
    let mut rest = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let _ = s.read_to_end(&mut rest);
    (r, rest)
}

const V1: &[u8] = b"PROXY TCP4 192.0.2.1 198.51.100.2 4000 25\r\n";
const TLS_HELLO: &[u8] = b"\x16\x03\x01\x00\x05hello";

#[test]
fn stops_at_the_header_v1() {
    let (r, rest) = serve(vec![[V1, TLS_HELLO].concat()], Duration::from_secs(2));
    assert_eq!(r.unwrap().endpoints.unwrap().source, "192.0.2.1");
    assert_eq!(rest, TLS_HELLO);
}

#[test]
fn stops_at_the_header_v2_in_segments() {
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    v2.extend([192, 0, 2, 1, 198, 51, 100, 2, 0x0f, 0xa0, 0, 25]);
    let segs = vec![v2[..5].to_vec(), v2[5..13].to_vec(), [&v2[13..], TLS_HELLO].concat()];
    let (r, rest) = serve(segs, Duration::from_secs(2));
    assert_eq!(r.unwrap().endpoints.unwrap().source_port, 4000);
    assert_eq!(rest, TLS_HELLO);
}

#[test]
fn timeout_on_a_partial_header() {
    let t = Instant::now();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    c.write_all(b"PROXY TCP4 1.2").unwrap();
    let (mut s, _) = l.accept().unwrap();
    let r = read_header_tcp(&mut s, Duration::from_millis(300), &Policy::EXIM);
    assert_eq!(r.unwrap_err().kind, ErrorKind::Timeout);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn eof_inside_the_header() {
    let (r, _) = serve(vec![b"PROXY TC".to_vec()], Duration::from_secs(2));
    assert_eq!(r.unwrap_err().kind, ErrorKind::Eof);
}

#[test]
fn not_proxy_swallows_its_line_only() {
    // Exim reads a non-PROXY first line to its end and no further.
    let (r, rest) = serve(vec![b"EHLO client.example\r\nQUIT\r\n".to_vec()], Duration::from_secs(2));
    assert_eq!(r.unwrap_err().kind, ErrorKind::NotProxy);
    assert_eq!(rest, b"QUIT\r\n");
}

#[test]
fn fd_reader_on_a_pipe() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    // A socketpair stands in for -bh's stdin pipe.
    let (mut w, r) = UnixStream::pair().unwrap();
    w.write_all(&[V1, b"HELO x\r\n"].concat()).unwrap();
    let h = rexim::proxy::read_header_fd(r.as_raw_fd(), Duration::from_secs(2), &Policy::EXIM).unwrap();
    assert_eq!(h.endpoints.unwrap().destination, "198.51.100.2");
    let mut rest = [0u8; 8];
    (&r).read_exact(&mut rest).unwrap();
    assert_eq!(&rest, b"HELO x\r\n");
    // Nothing more comes: the timeout holds.
    let t = Instant::now();
    let e = rexim::proxy::read_header_fd(r.as_raw_fd(), Duration::from_millis(200), &Policy::EXIM).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(t.elapsed() >= Duration::from_millis(150));
}
