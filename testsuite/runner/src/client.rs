//! The `client` helper of Exim's testsuite: a scripted SMTP client
//! (test/README, "CLIENT SCRIPTS"). Its transcript goes to the test's stdout.

use crate::escapes::unescape_script;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct ClientArgs {
    pub timeout: u64,
    pub tls_on_connect: bool,
    pub host: String,
    pub port: u16,
    pub interface: Option<String>,
    /// Client certificate and key (client-ssl/-gnutls only).
    pub cert: Option<String>,
    /// Only TLS 1.2: a GnuTLS priority string (-p) that allows no 1.3.
    pub tls12_only: bool,
    pub key: Option<String>,
}

pub fn parse_args(args: &[&str]) -> Result<ClientArgs, String> {
    let mut timeout = 5;
    let mut tls_on_connect = false;
    let mut tls12_only = false;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(t) = a.strip_prefix("-t") {
            if let Ok(n) = t.parse() {
                timeout = n;
                continue;
            }
        }
        match *a {
            "-tls-on-connect" => tls_on_connect = true,
            // Options with a value: GnuTLS priority, OCSP CA file, SNI,
            // ALPN, DANE name: accepted, not used by the rustls client.
            "-p" => {
                let prio = it.next().copied().unwrap_or("");
                tls12_only = prio.contains("-VERS-TLS1.3") || (prio.contains("+VERS-TLS1.2") && !prio.contains("+VERS-TLS1.3"));
            }
            "-ocsp" | "-sni" | "-alpn" | "-aname" | "-tn" => {
                it.next();
            }
            a if a.starts_with('-') && rest.is_empty() => {}
            a => rest.push(a.to_string()),
        }
    }
    if rest.len() < 2 {
        return Err("client: usage: client [options] <ip> <port> [<interface>]".into());
    }
    let port = rest[1].parse().map_err(|_| format!("client: bad port \"{}\"", rest[1]))?;
    Ok(ClientArgs {
        timeout,
        tls_on_connect,
        host: rest[0].clone(),
        port,
        // The outgoing interface is optional: a third argument that is
        // not an IP address is already the certificate.
        interface: rest.get(2).filter(|a| a.parse::<IpAddr>().is_ok()).cloned(),
        cert: rest.iter().skip(2).find(|a| a.parse::<IpAddr>().is_err()).cloned(),
        key: rest.iter().skip(2).filter(|a| a.parse::<IpAddr>().is_err()).nth(1).cloned(),
        tls12_only,
    })
}

/// Expand `<<< file` inclusions.
fn expand_script(lines: &[String], dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines {
        if let Some(file) = l.strip_prefix("<<< ") {
            let path = dir.join(file.trim());
            let text = crate::script::decode(&std::fs::read(&path).unwrap_or_default());
            out.extend(text.lines().map(String::from));
        } else {
            out.push(l.clone());
        }
    }
    out
}

/// The connection: plain TCP, or TLS once started; read line by line.
struct Conn {
    plain: Option<TcpStream>,
    tls: Option<Box<crate::tls::TlsStream>>,
    buf: Vec<u8>,
}

impl Conn {
    fn io(&mut self) -> &mut dyn ReadWrite {
        match (&mut self.tls, &mut self.plain) {
            (Some(t), _) => t.as_mut(),
            (None, Some(p)) => p,
            (None, None) => unreachable!("connection without a stream"),
        }
    }

    /// One line without its CR LF; None at end of file; Err on timeout.
    fn read_line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                while line.last().map(|&b| b == b'\n' || b == b'\r').unwrap_or(false) {
                    line.pop();
                }
                return Ok(Some(crate::script::decode(&line)));
            }
            let mut chunk = [0u8; 4096];
            let n = match self.io().read(&mut chunk) {
                Ok(n) => n,
                // A TLS peer that closes without close_notify is just EOF here.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(e),
            };
            if n == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let line = std::mem::take(&mut self.buf);
                return Ok(Some(crate::script::decode(&line)));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        let io = self.io();
        io.write_all(data)?;
        io.flush()
    }

    fn start_tls(&mut self, args: &ClientArgs, dir: &std::path::Path) -> Result<(), String> {
        let sock = self.plain.take().ok_or("TLS already active")?;
        let cert = args.cert.as_ref().map(|c| dir.join(c));
        let key = args.key.as_ref().map(|k| dir.join(k));
        let cfg = crate::tls::config(cert.as_deref(), key.as_deref(), args.tls12_only)?;
        let keep = sock.try_clone().map_err(|e| e.to_string())?;
        match crate::tls::start(sock, cfg, &args.host) {
            Ok(t) => {
                self.tls = Some(Box::new(t));
                Ok(())
            }
            Err(e) => {
                // Like Exim's client, carry on in clear after a failure.
                self.plain = Some(keep);
                Err(e)
            }
        }
    }

    fn stop_tls(&mut self) {
        if let Some(t) = self.tls.take() {
            let t = *t;
            self.plain = Some(t.sock);
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Connect, optionally binding the local end to `source` first.
fn connect_from(to: SocketAddr, source: Option<IpAddr>, timeout: Duration) -> std::io::Result<TcpStream> {
    let Some(src) = source else { return TcpStream::connect_timeout(&to, timeout) };
    use std::os::fd::FromRawFd;
    let (IpAddr::V4(src4), SocketAddr::V4(to4)) = (src, to) else { return TcpStream::connect_timeout(&to, timeout) };
    let sockaddr = |ip: std::net::Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(ip).to_be() },
        sin_zero: [0; 8],
    };
    // SAFETY: plain socket calls on a descriptor we own; it is closed on
    // error or handed to TcpStream, which owns it from then on.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let local = sockaddr(src4, 0);
        let remote = sockaddr(*to4.ip(), to4.port());
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        if libc::bind(fd, &local as *const _ as *const libc::sockaddr, len) != 0
            || libc::connect(fd, &remote as *const _ as *const libc::sockaddr, len) != 0
        {
            let e = std::io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        Ok(TcpStream::from_raw_fd(fd))
    }
}

/// Run the script; returns the exit status (0 ok, 1 failure) and appends the
/// transcript to `out`.
/// `word` is the command: "client", or a TLS variant that can starttls.
pub fn run(word: &str, args: &ClientArgs, script: &[String], dir: &std::path::Path, out: &mut Vec<u8>) -> i32 {
    let ip: IpAddr = match args.host.parse() {
        Ok(ip) => ip,
        Err(_) => {
            out.extend_from_slice(format!("Failed to parse IP address {}\n", args.host).as_bytes());
            return 1;
        }
    };
    out.extend_from_slice(format!("Connecting to {} port {} ... ", args.host, args.port).as_bytes());
    // Like a host talking to its own address, connect from the address we
    // connect to when it is a loopback address (127.0.0.2 as HOSTIPV4), so
    // that the server sees that address as the peer.
    let source = match &args.interface {
        Some(i) => i.parse().ok(),
        None if ip.is_loopback() && ip != IpAddr::from([127, 0, 0, 1]) => Some(ip),
        None => None,
    };
    let stream = match connect_from(SocketAddr::new(ip, args.port), source, Duration::from_secs(args.timeout.max(1))) {
        Ok(s) => s,
        Err(e) => {
            out.extend_from_slice(format!("failed: {}\n", e).as_bytes());
            return 1;
        }
    };
    out.extend_from_slice(b"connected\n");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(args.timeout.max(1))));
    let mut conn = Conn { plain: Some(stream), tls: None, buf: Vec::new() };
    let tls_allowed = word != "client";
    if args.tls_on_connect {
        if !tls_allowed {
            out.extend_from_slice(b"-tls-on-connect needs a TLS client\n");
            return 1;
        }
        out.extend_from_slice(b"Attempting to start TLS\n");
        match conn.start_tls(args, dir) {
            Ok(()) => out.extend_from_slice(b"Succeeded in starting TLS\n"),
            Err(_) => out.extend_from_slice(b"Failed to start TLS\n"),
        }
    }
    let lines = expand_script(script, dir);
    let mut pending: Option<String> = None;
    let mut tls_requested = false;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        if let Some(expected) = line.strip_prefix("??? ") {
            out.extend_from_slice(format!("{}\n", line).as_bytes());
            let got = match pending.take() {
                Some(l) => Some(l),
                None => match conn.read_line() {
                    Ok(l) => l,
                    Err(_) => {
                        out.extend_from_slice(b"Read timed out\n");
                        return 1;
                    }
                },
            };
            match got {
                Some(got) => {
                    out.extend_from_slice(format!("<<< {}\n", got).as_bytes());
                    if !got.starts_with(expected) {
                        out.extend_from_slice(format!("\n******** Expected: {}\n", expected).as_bytes());
                        return 1;
                    }
                    // The reply to "starttls": go into TLS if it is positive
                    // and complete (not a continuation line).
                    if tls_requested && got.len() > 3 && got.as_bytes()[3] != b'-' {
                        tls_requested = false;
                        if got.starts_with('2') {
                            out.extend_from_slice(b"Attempting to start TLS\n");
                            match conn.start_tls(args, dir) {
                                Ok(()) => out.extend_from_slice(b"Succeeded in starting TLS\n"),
                                Err(_) => out.extend_from_slice(b"Failed to start TLS\n"),
                            }
                        }
                    }
                }
                None => {
                    out.extend_from_slice(b"Unexpected EOF read\n");
                    return 1;
                }
            }
        } else if line.starts_with("???*") {
            out.extend_from_slice(format!("{}\n", line).as_bytes());
            match conn.read_line() {
                Ok(None) => out.extend_from_slice(b"Expected EOF read\n"),
                Ok(Some(got)) => {
                    out.extend_from_slice(format!("<<< {}\n\n******** Expected EOF\n", got).as_bytes());
                    return 1;
                }
                Err(_) => {
                    out.extend_from_slice(b"Read timed out\n");
                    return 1;
                }
            }
        } else if let Some(expected) = line.strip_prefix("????") {
            loop {
                let got = match pending.take() {
                    Some(l) => Some(l),
                    None => conn.read_line().ok().flatten(),
                };
                match got {
                    Some(got) if got.starts_with(expected) => {
                        out.extend_from_slice(format!("{}\n<<< {}\n", line, got).as_bytes());
                    }
                    other => {
                        pending = other;
                        break;
                    }
                }
            }
        } else if let Some(secs) = line.strip_prefix("+++ ") {
            // Exim's client echoes the pause.
            out.extend_from_slice(format!("{line}\n").as_bytes());
            std::thread::sleep(Duration::from_secs(secs.trim().parse().unwrap_or(1)));
        } else if let Some(raw) = line.strip_prefix(">>> ") {
            out.extend_from_slice(format!(">>> {}\n", raw).as_bytes());
            if conn.write_all(&unescape_script(raw)).is_err() {
                out.extend_from_slice(b"Write failed\n");
                return 1;
            }
        } else {
            let lower = line.to_ascii_lowercase();
            if tls_allowed && lower == "stoptls" {
                out.extend_from_slice(b"Shutting down TLS encryption\n");
                conn.stop_tls();
                continue;
            }
            out.extend_from_slice(format!(">>> {}\n", line).as_bytes());
            let mut data = if tls_allowed && lower == "starttls_wait" { b"starttls".to_vec() } else { unescape_script(line) };
            data.extend_from_slice(b"\r\n");
            if conn.write_all(&data).is_err() {
                out.extend_from_slice(b"Write failed\n");
                return 1;
            }
            if tls_allowed && lower == "starttls" {
                tls_requested = true;
            }
        }
    }
    out.extend_from_slice(b"End of script\n");
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    #[test]
    fn args() {
        let a = parse_args(&["-t10", "127.0.0.1", "1225"]).unwrap();
        assert_eq!((a.timeout, a.port, a.host.as_str()), (10, 1225, "127.0.0.1"));
        assert!(parse_args(&["127.0.0.1"]).is_err());
        let a = parse_args(&["-p", "NONE:+X", "127.0.0.1", "1225", "cert.pem", "key.pem"]).unwrap();
        assert_eq!((a.interface, a.cert.as_deref(), a.key.as_deref()), (None, Some("cert.pem"), Some("key.pem")));
        assert!(!a.tls12_only);
        assert!(parse_args(&["-p", "NONE:+VERS-TLS1.2:+RSA", "127.0.0.1", "1"]).unwrap().tls12_only);
        let a = parse_args(&["127.0.0.1", "1225", "127.0.0.2"]).unwrap();
        assert_eq!((a.interface.as_deref(), a.cert), (Some("127.0.0.2"), None));
    }

    fn serve(replies: &'static [&'static str]) -> (u16, std::thread::JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut got = Vec::new();
            s.write_all(b"220 hi\r\n").unwrap();
            for reply in replies {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                got.push(line.trim_end().to_string());
                s.write_all(reply.as_bytes()).unwrap();
            }
            got
        });
        (port, h)
    }

    #[test]
    fn conversation_and_transcript() {
        let (port, h) = serve(&["250-a\r\n250-b\r\n250 c\r\n", "221 bye\r\n"]);
        let args = ClientArgs { timeout: 5, tls_on_connect: false, host: "127.0.0.1".into(), port, interface: None, cert: None, key: None, tls12_only: false };
        let script: Vec<String> = ["??? 220", "ehlo x\\x41", "????250-", "??? 250 ", "quit", "??? 221"].iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        assert_eq!(run("client", &args, &script, std::path::Path::new("/"), &mut out), 0);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!("Connecting to 127.0.0.1 port {} ... connected\n??? 220\n<<< 220 hi\n>>> ehlo x\\x41\n????250-\n<<< 250-a\n", port)), "{}", text);
        assert!(text.ends_with("??? 221\n<<< 221 bye\nEnd of script\n"));
        assert_eq!(h.join().unwrap(), vec!["ehlo xA", "quit"]);
    }

    #[test]
    fn mismatch_fails() {
        let (port, _h) = serve(&[]);
        let args = ClientArgs { timeout: 2, tls_on_connect: false, host: "127.0.0.1".into(), port, interface: None, cert: None, key: None, tls12_only: false };
        let mut out = Vec::new();
        assert_eq!(run("client", &args, &["??? 250".to_string()], std::path::Path::new("/"), &mut out), 1);
    }
}
