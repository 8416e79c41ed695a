//! The `server` helper of Exim's testsuite: a scripted SMTP (or other)
//! server on a TCP port or Unix socket (test/README, "SERVER SCRIPTS"). It
//! runs in a thread while the following commands run; its transcript goes to
//! test-stdout-server.

use crate::escapes::unescape_script;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub struct ServerArgs {
    pub timeout: i64,
    pub initial_pause: u64,
    pub target: String,
    pub count: usize,
}

pub fn parse_args(args: &[&str]) -> Result<ServerArgs, String> {
    let mut a = ServerArgs { timeout: 5, initial_pause: 0, target: String::new(), count: 1 };
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(w) = it.next() {
        match *w {
            "-d" | "-noipv4" | "-noipv6" | "-tls" => {}
            "-t" => a.timeout = it.next().and_then(|v| v.parse().ok()).ok_or("server: bad -t value")?,
            "-i" => a.initial_pause = it.next().and_then(|v| v.parse().ok()).ok_or("server: bad -i value")?,
            "-oP" => {
                it.next();
            }
            w => rest.push(w.to_string()),
        }
    }
    a.target = rest.first().cloned().ok_or("server: usage: server [options] <port|socket> [<count>]")?;
    if let Some(c) = rest.get(1) {
        a.count = c.parse().map_err(|_| format!("server: bad connection count \"{}\"", c))?;
    }
    Ok(a)
}

trait Conn: Read + Write + Send {}
impl Conn for TcpStream {}
impl Conn for UnixStream {}

pub enum Listener {
    Tcp(Vec<TcpListener>),
    Unix(UnixListener),
}

impl Listener {
    /// Wait for one connection until the deadline.
    fn accept(&self, deadline: Instant) -> Option<(Box<dyn Conn>, String)> {
        loop {
            match self {
                Listener::Tcp(ls) => {
                    for l in ls {
                        if let Ok((s, peer)) = l.accept() {
                            let _ = s.set_nonblocking(false);
                            let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                            return Some((Box::new(s), format!("Connection request from [{}]\n", peer.ip())));
                        }
                    }
                }
                Listener::Unix(l) => {
                    if let Ok((s, _)) = l.accept() {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                        return Some((Box::new(s), "Connection request\n".into()));
                    }
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Bind the listening sockets (loopback only: `ips` are the local test
/// addresses). Done before the thread starts so that a client started by
/// the next command finds the port open.
pub fn listen(args: &ServerArgs, ips: &[String]) -> Result<(Listener, String), String> {
    if let Ok(port) = args.target.parse::<u16>() {
        let mut ls = Vec::new();
        for ip in ips {
            let l = TcpListener::bind((ip.as_str(), port)).map_err(|e| format!("server: bind {}:{}: {}", ip, port, e))?;
            l.set_nonblocking(true).map_err(|e| e.to_string())?;
            ls.push(l);
        }
        Ok((Listener::Tcp(ls), format!("Listening on port {} ... \n", port)))
    } else {
        let _ = std::fs::remove_file(&args.target);
        let l = UnixListener::bind(&args.target).map_err(|e| format!("server: bind {}: {}", args.target, e))?;
        l.set_nonblocking(true).map_err(|e| e.to_string())?;
        Ok((Listener::Unix(l), format!("Listening on {} ... \n", args.target)))
    }
}

fn read_line(r: &mut BufReader<Box<dyn Conn>>) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    match r.read_until(b'\n', &mut buf) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(buf),
    }
}

fn strip_eol(mut b: Vec<u8>) -> Vec<u8> {
    while b.last().map(|&c| c == b'\n' || c == b'\r').unwrap_or(false) {
        b.pop();
    }
    b
}

/// Run the script over `count` connections. Returns (status, transcript).
pub fn run(args: ServerArgs, listener: Listener, banner: String, script: Vec<String>) -> (i32, Vec<u8>) {
    let mut out = banner.into_bytes();
    let deadline = Instant::now() + Duration::from_secs(args.timeout.unsigned_abs());
    let mut lines = script.into_iter().peekable();
    for n in 0..args.count {
        let (conn, greeting) = match listener.accept(deadline) {
            Some(c) => c,
            None => {
                out.extend_from_slice(b"Server timed out\n");
                return (if args.timeout < 0 { 0 } else { 1 }, out);
            }
        };
        out.extend_from_slice(greeting.as_bytes());
        let mut reader = BufReader::new(conn);
        let mut closed = false;
        for line in lines.by_ref() {
            if line == "*eof" {
                match read_line(&mut reader) {
                    None => out.extend_from_slice(b"Expected EOF read from client\n"),
                    Some(got) => {
                        out.extend_from_slice(&strip_eol(got));
                        out.extend_from_slice(b"\nExpected EOF read\n");
                        return (1, out);
                    }
                }
                closed = true;
                break;
            } else if let Some(secs) = line.strip_prefix("*sleep") {
                out.extend_from_slice(format!("{}\n", line).as_bytes());
                std::thread::sleep(Duration::from_secs(secs.trim().parse().unwrap_or(1)));
            } else if let Some(count) = line.strip_prefix("*data") {
                let n: usize = count.trim().parse().unwrap_or(0);
                let mut buf = vec![0u8; n];
                if reader.read_exact(&mut buf).is_err() {
                    out.extend_from_slice(b"Unexpected EOF read from client\n");
                    return (1, out);
                }
            } else if line == "." {
                loop {
                    match read_line(&mut reader) {
                        Some(got) => {
                            let got = strip_eol(got);
                            out.extend_from_slice(&got);
                            out.push(b'\n');
                            if got == b"." {
                                break;
                            }
                        }
                        None => {
                            out.extend_from_slice(b"Unexpected EOF read from client\n");
                            return (1, out);
                        }
                    }
                }
            } else if line.starts_with('>') || line.starts_with(|c: char| c.is_ascii_digit()) {
                let (body, eol): (&str, &[u8]) = if let Some(rest) = line.strip_prefix(">*eof") {
                    let _ = rest;
                    closed = true;
                    break;
                } else if let Some(rest) = line.strip_prefix(">>") {
                    (rest, b"")
                } else if let Some(rest) = line.strip_prefix(">CR>") {
                    (rest, b"\r")
                } else if let Some(rest) = line.strip_prefix(">LF>") {
                    (rest, b"\n")
                } else {
                    (line.strip_prefix('>').unwrap_or(&line), b"\r\n")
                };
                out.extend_from_slice(&crate::script::encode(body));
                out.push(b'\n');
                let mut data = unescape_script(body);
                data.extend_from_slice(eol);
                if reader.get_mut().write_all(&data).is_err() {
                    out.extend_from_slice(b"Write error\n");
                    return (1, out);
                }
            } else {
                let (expected, want_eol) = if let Some(rest) = line.strip_prefix("<<") {
                    (rest, false)
                } else {
                    (line.strip_prefix('<').unwrap_or(&line), true)
                };
                let expected = unescape_script(expected);
                let got = if want_eol {
                    read_line(&mut reader).map(strip_eol)
                } else {
                    let mut buf = vec![0u8; expected.len()];
                    reader.read_exact(&mut buf).ok().map(|_| buf)
                };
                match got {
                    Some(got) => {
                        out.extend_from_slice(&got);
                        out.push(b'\n');
                        if !got.starts_with(&expected) {
                            out.extend_from_slice(b"Comparison failed - bailing out\nExpected: ");
                            out.extend_from_slice(&expected);
                            out.push(b'\n');
                            return (1, out);
                        }
                    }
                    None => {
                        out.extend_from_slice(b"Unexpected EOF read from client\n");
                        return (1, out);
                    }
                }
            }
        }
        drop(reader);
        if !closed && n + 1 < args.count && lines.peek().is_none() {
            break;
        }
    }
    out.extend_from_slice(b"End of script\n");
    (0, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        let a = parse_args(&["-t", "10", "1224", "3"]).unwrap();
        assert_eq!((a.timeout, a.target.as_str(), a.count), (10, "1224", 3));
        assert!(parse_args(&[]).is_err());
    }

    #[test]
    fn scripted_conversation() {
        let args = ServerArgs { timeout: 5, initial_pause: 0, target: "0".into(), count: 1 };
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let script: Vec<String> = ["220 Greetings", "EHLO", "250 Hi", "DATA", "354 go", ".", ">>250 OK", "*eof"].iter().map(|s| s.to_string()).collect();
        let h = std::thread::spawn(move || run(args, Listener::Tcp(vec![l]), "Listening\n".into(), script));
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut r = BufReader::new(c.try_clone().unwrap());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert_eq!(line, "220 Greetings\r\n");
        c.write_all(b"EHLO me\r\n").unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        c.write_all(b"DATA\r\n").unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        c.write_all(b"Subject: x\r\n\r\nbody\r\n.\r\n").unwrap();
        let mut rest = Vec::new();
        let mut buf = [0u8; 6];
        r.read_exact(&mut buf).unwrap();
        rest.extend_from_slice(&buf);
        assert_eq!(&rest, b"250 OK");
        drop(c);
        drop(r);
        let (rc, out) = h.join().unwrap();
        assert_eq!(rc, 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Listening\nConnection request from [127.0.0.1]\n220 Greetings\nEHLO me\n250 Hi\nDATA\n354 go\nSubject: x\n\nbody\n.\n250 OK\nExpected EOF read from client\nEnd of script\n"
        );
    }

    #[test]
    fn mismatch_bails_out() {
        let args = ServerArgs { timeout: 5, initial_pause: 0, target: "0".into(), count: 1 };
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let h = std::thread::spawn(move || run(args, Listener::Tcp(vec![l]), String::new(), vec!["HELO".into()]));
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(b"EHLO x\r\n").unwrap();
        let (rc, out) = h.join().unwrap();
        assert_eq!(rc, 1);
        assert!(String::from_utf8(out).unwrap().contains("Comparison failed - bailing out"));
    }

    #[test]
    fn timeout_without_connection() {
        let args = ServerArgs { timeout: -1, initial_pause: 0, target: "0".into(), count: 1 };
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let (rc, out) = run(args, Listener::Tcp(vec![l]), String::new(), vec![]);
        assert_eq!(rc, 0);
        assert_eq!(out, b"Server timed out\n");
    }
}
