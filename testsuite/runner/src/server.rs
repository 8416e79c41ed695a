//! The `server` helper of Exim's testsuite: a scripted SMTP (or other)
//! server on a TCP port or Unix socket (test/README, "SERVER SCRIPTS"). It
//! runs in a thread while the following commands run; its transcript goes to
//! test-stdout-server.

use crate::escapes::unescape_script;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub struct ServerArgs {
    pub timeout: i64,
    pub initial_pause: u64,
    pub target: String,
    pub count: usize,
    pub ipv4: bool,
    pub ipv6: bool,
    /// `-tfo`: accept TCP Fast Open (data in the SYN) on the listening socket.
    pub tfo: bool,
    /// `-oP FILE`: where Exim's server writes its pid.
    pub pidfile: Option<String>,
}

impl Default for ServerArgs {
    fn default() -> ServerArgs {
        ServerArgs { timeout: 5, initial_pause: 0, target: String::new(), count: 1, ipv4: true, ipv6: true, tfo: false, pidfile: None }
    }
}

/// The options of Exim's test/src/server.c: `-d`, `-t SEC`, `-i SEC`,
/// `-noipv4`, `-noipv6`, `-tfo`, `-oP FILE`; anything else starting with a
/// dash is an error there too (it would otherwise become a socket name).
pub fn parse_args(args: &[&str]) -> Result<ServerArgs, String> {
    let mut a = ServerArgs::default();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(w) = it.next() {
        match *w {
            // Debug output of Exim's server goes to the terminal, not to
            // any file the test compares.
            "-d" => {}
            "-noipv4" => a.ipv4 = false,
            "-noipv6" => a.ipv6 = false,
            "-tfo" => a.tfo = true,
            "-t" => a.timeout = it.next().and_then(|v| v.parse().ok()).ok_or("server: bad -t value")?,
            "-i" => a.initial_pause = it.next().and_then(|v| v.parse().ok()).ok_or("server: bad -i value")?,
            "-oP" => a.pidfile = Some(it.next().ok_or("server: -oP needs a file name")?.to_string()),
            w if w.starts_with('-') && rest.is_empty() => {
                return Err(format!("server: unknown option {}, try -d, -t, -i, -noipv4, -noipv6, -tfo or -oP", w));
            }
            w => rest.push(w.to_string()),
        }
    }
    if !a.ipv4 && !a.ipv6 {
        return Err("server: -noipv4 and -noipv6 cannot both be given".into());
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

/// Bind the listening sockets (loopback only: `ips` are the local IPv4
/// test addresses, ::1 the only IPv6 one). Done before the thread starts so
/// that a client started by the next command finds the port open. A socket
/// path that is not absolute is taken in the test's directory `dir`, like
/// every other file a script names.
pub fn listen(args: &ServerArgs, ips: &[String], dir: &Path) -> Result<(Listener, String), String> {
    if let Ok(port) = args.target.parse::<u16>() {
        let mut addrs: Vec<&str> = Vec::new();
        if args.ipv4 {
            addrs.extend(ips.iter().map(|s| s.as_str()));
        } else {
            addrs.push("::1");
        }
        let mut ls = Vec::new();
        for ip in addrs {
            let l = TcpListener::bind((ip, port)).map_err(|e| format!("server: bind {}:{}: {}", ip, port, e))?;
            l.set_nonblocking(true).map_err(|e| e.to_string())?;
            if args.tfo {
                enable_fast_open(&l)?;
            }
            ls.push(l);
        }
        Ok((Listener::Tcp(ls), format!("Listening on port {} ... \n", port)))
    } else {
        let path = dir.join(&args.target);
        let _ = std::fs::remove_file(&path);
        let l = UnixListener::bind(&path).map_err(|e| format!("server: bind {}: {}", path.display(), e))?;
        l.set_nonblocking(true).map_err(|e| e.to_string())?;
        Ok((Listener::Unix(l), format!("Listening on {} ... \n", args.target)))
    }
}

/// TCP_FASTOPEN on a listening socket: the queue length of pending
/// fast-open requests, as Exim's server sets it.
fn enable_fast_open(l: &TcpListener) -> Result<(), String> {
    let qlen: libc::c_int = 5;
    // SAFETY: setsockopt on a socket we own, with a pointer to a live int
    // and its exact size.
    let rc = unsafe {
        libc::setsockopt(
            l.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_FASTOPEN,
            &qlen as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("server: TCP_FASTOPEN: {}", std::io::Error::last_os_error()))
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
        let a = parse_args(&["-tfo", "1225"]).unwrap();
        assert!(a.tfo);
        assert_eq!(a.target, "1225");
        let a = parse_args(&["-d", "-noipv6", "-i", "2", "-oP", "x.pid", "-t", "-2", "sock"]).unwrap();
        assert_eq!((a.ipv4, a.ipv6, a.initial_pause, a.timeout), (true, false, 2, -2));
        assert_eq!((a.pidfile.as_deref(), a.target.as_str()), (Some("x.pid"), "sock"));
        assert!(parse_args(&["-tfx", "1225"]).unwrap_err().contains("unknown option -tfx"));
        assert!(parse_args(&["-noipv4", "-noipv6", "1225"]).is_err());
    }

    #[test]
    fn relative_socket_is_in_the_test_directory() {
        let dir = std::env::temp_dir().join(format!("rexim-server-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = parse_args(&["sock"]).unwrap();
        let (l, banner) = listen(&a, &[], &dir).unwrap();
        assert!(dir.join("sock").exists());
        assert_eq!(banner, "Listening on sock ... \n");
        drop(l);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fast_open_listener() {
        let a = parse_args(&["-tfo", "0"]).unwrap();
        let (l, _) = listen(&a, &["127.0.0.1".to_string()], Path::new("/")).unwrap();
        let Listener::Tcp(ls) = l else { panic!("not tcp") };
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt into a live int of the given size.
        let rc = unsafe { libc::getsockopt(ls[0].as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_FASTOPEN, &mut v as *mut libc::c_int as *mut libc::c_void, &mut len) };
        assert_eq!((rc, v), (0, 5));
    }

    #[test]
    fn scripted_conversation() {
        let args = ServerArgs { target: "0".into(), ..ServerArgs::default() };
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
        let args = ServerArgs { target: "0".into(), ..ServerArgs::default() };
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
        let args = ServerArgs { timeout: -1, target: "0".into(), ..ServerArgs::default() };
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let (rc, out) = run(args, Listener::Tcp(vec![l]), String::new(), vec![]);
        assert_eq!(rc, 0);
        assert_eq!(out, b"Server timed out\n");
    }
}
