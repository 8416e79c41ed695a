//! The `client` helper of Exim's testsuite: a scripted SMTP client
//! (test/README, "CLIENT SCRIPTS"). Its transcript goes to the test's stdout.

use crate::escapes::unescape_script;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct ClientArgs {
    pub timeout: u64,
    pub tls_on_connect: bool,
    pub host: String,
    pub port: u16,
    pub interface: Option<String>,
}

pub fn parse_args(args: &[&str]) -> Result<ClientArgs, String> {
    let mut timeout = 5;
    let mut tls_on_connect = false;
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
            "-ocsp" | "-sni" | "-alpn" => {
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
    Ok(ClientArgs { timeout, tls_on_connect, host: rest[0].clone(), port, interface: rest.get(2).cloned() })
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

fn read_line(r: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = r.read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    while buf.last().map(|&b| b == b'\n' || b == b'\r').unwrap_or(false) {
        buf.pop();
    }
    Ok(Some(crate::script::decode(&buf)))
}

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
pub fn run(args: &ClientArgs, script: &[String], dir: &std::path::Path, out: &mut Vec<u8>) -> i32 {
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
    if args.tls_on_connect {
        out.extend_from_slice(b"Failed to start TLS: TLS is not built into this client\n");
        return 1;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(args.timeout.max(1))));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return 1,
    };
    let mut reader = BufReader::new(stream);
    let lines = expand_script(script, dir);
    let mut pending: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        if let Some(expected) = line.strip_prefix("??? ") {
            out.extend_from_slice(format!("{}\n", line).as_bytes());
            let got = match pending.take() {
                Some(l) => Some(l),
                None => match read_line(&mut reader) {
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
                }
                None => {
                    out.extend_from_slice(b"Unexpected EOF read\n");
                    return 1;
                }
            }
        } else if line.starts_with("???*") {
            out.extend_from_slice(format!("{}\n", line).as_bytes());
            match read_line(&mut reader) {
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
                    None => read_line(&mut reader).ok().flatten(),
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
            std::thread::sleep(Duration::from_secs(secs.trim().parse().unwrap_or(1)));
        } else if let Some(raw) = line.strip_prefix(">>> ") {
            out.extend_from_slice(format!(">>> {}\n", raw).as_bytes());
            if writer.write_all(&unescape_script(raw)).is_err() {
                out.extend_from_slice(b"Write failed\n");
                return 1;
            }
        } else {
            let lower = line.to_ascii_lowercase();
            if lower == "starttls" || lower == "stoptls" || lower == "starttls_wait" {
                out.extend_from_slice(format!(">>> {}\n", line).as_bytes());
                if lower == "stoptls" {
                    continue;
                }
            } else {
                out.extend_from_slice(format!(">>> {}\n", line).as_bytes());
            }
            let mut data = unescape_script(line);
            data.extend_from_slice(b"\r\n");
            if writer.write_all(&data).is_err() {
                out.extend_from_slice(b"Write failed\n");
                return 1;
            }
            if lower == "starttls" {
                // TLS is not linked into this client: read the reply and stop.
                let got = read_line(&mut reader).ok().flatten().unwrap_or_default();
                out.extend_from_slice(format!("<<< {}\nFailed to start TLS: TLS is not built into this client\n", got).as_bytes());
                return 1;
            }
        }
    }
    // Drain nothing: like Exim's client, just finish.
    let _ = reader.get_mut().read(&mut [0u8; 0]);
    out.extend_from_slice(b"End of script\n");
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn args() {
        let a = parse_args(&["-t10", "127.0.0.1", "1225"]).unwrap();
        assert_eq!((a.timeout, a.port, a.host.as_str()), (10, 1225, "127.0.0.1"));
        assert!(parse_args(&["127.0.0.1"]).is_err());
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
        let args = ClientArgs { timeout: 5, tls_on_connect: false, host: "127.0.0.1".into(), port, interface: None };
        let script: Vec<String> = ["??? 220", "ehlo x\\x41", "????250-", "??? 250 ", "quit", "??? 221"].iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        assert_eq!(run(&args, &script, std::path::Path::new("/"), &mut out), 0);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!("Connecting to 127.0.0.1 port {} ... connected\n??? 220\n<<< 220 hi\n>>> ehlo x\\x41\n????250-\n<<< 250-a\n", port)), "{}", text);
        assert!(text.ends_with("??? 221\n<<< 221 bye\nEnd of script\n"));
        assert_eq!(h.join().unwrap(), vec!["ehlo xA", "quit"]);
    }

    #[test]
    fn mismatch_fails() {
        let (port, _h) = serve(&[]);
        let args = ClientArgs { timeout: 2, tls_on_connect: false, host: "127.0.0.1".into(), port, interface: None };
        let mut out = Vec::new();
        assert_eq!(run(&args, &["??? 250".to_string()], std::path::Path::new("/"), &mut out), 1);
    }
}
