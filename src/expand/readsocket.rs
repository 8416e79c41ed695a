//! `${readsocket{name}{request}{options}{eol}{fail}}`: a request to a Unix
//! domain or TCP socket and the answer, read to end of file.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::arith::readconf_readtime;
use super::lists::list_items;

/// What went wrong, in Exim's words.
pub struct SocketError(pub String);

/// The failure of a connect to a Unix socket: Exim keeps the closed
/// descriptor in the socket's handle (`Context::leave_stale_socket`).
pub const UNIX_CONNECT_FAILED: &str = "failed to connect to socket ";

/// A request through a handle left with a closed descriptor: the write
/// fails, or without a request the read; either way the handle is reset.
pub fn stale(request: &str) -> (SocketError, Option<&'static str>) {
    if request.is_empty() {
        // Exim's text ends with a newline of its own: an empty line follows.
        (SocketError(String::new()), Some("readsock fdopen: Bad file descriptor\n"))
    } else {
        (SocketError("request write to socket failed: Bad file descriptor".into()), None)
    }
}

struct Options {
    timeout: Duration,
    shutdown: bool,
}

fn options(spec: &str) -> Options {
    let mut o = Options { timeout: Duration::from_secs(5), shutdown: true };
    for (i, item) in list_items(spec).iter().enumerate() {
        if i == 0 {
            if let Some(t) = readconf_readtime(item).filter(|t| *t > 0) {
                o.timeout = Duration::from_secs(t as u64);
            }
        } else if let Some(v) = item.strip_prefix("shutdown=") {
            o.shutdown = v != "no";
        }
    }
    o
}

trait Conn: Read + Write {
    fn shutdown_write(&self);
}

impl Conn for UnixStream {
    fn shutdown_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

impl Conn for TcpStream {
    fn shutdown_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

fn connect(name: &str, timeout: Duration) -> Result<Box<dyn Conn>, SocketError> {
    let errno = |e: &std::io::Error| crate::texts::errno_text(e);
    let Some(rest) = name.strip_prefix("inet:") else {
        let s = UnixStream::connect(name)
            .map_err(|e| SocketError(format!("{UNIX_CONNECT_FAILED}{name}: {}", errno(&e))))?;
        let _ = s.set_read_timeout(Some(timeout));
        let _ = s.set_write_timeout(Some(timeout));
        return Ok(Box::new(s));
    };
    // inet:host:port, the host possibly in brackets.
    let (host, port) = match rest.strip_prefix('[') {
        Some(r) => match r.split_once("]:") {
            Some((h, p)) => (h, p),
            None => return Err(SocketError(String::new())),
        },
        None => match rest.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => return Err(SocketError(String::new())),
        },
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(SocketError(format!("no port for {rest}")));
    };
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|_| SocketError(format!("no IP address found for host {host}")))?
        .collect();
    let mut last = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                return Ok(Box::new(s));
            }
            Err(e) => last = Some(e),
        }
    }
    let why = last.map(|e| errno(&e)).unwrap_or_default();
    Err(SocketError(format!("failed to connect to any address for {host}: {why}")))
}

/// Send the request and read the answer.
pub fn readsocket(name: &str, request: &str, spec: &str) -> Result<String, SocketError> {
    let o = options(spec);
    let mut conn = connect(name, o.timeout)?;
    if !request.is_empty() {
        conn.write_all(&crate::bytes::to_bytes(request)).map_err(|e| {
            SocketError(format!("request write to socket failed: {}", crate::texts::errno_text(&e)))
        })?;
    }
    if o.shutdown {
        conn.shutdown_write();
    }
    let mut answer = Vec::new();
    match conn.read_to_end(&mut answer) {
        Ok(_) => Ok(crate::bytes::fgets_text(answer)),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            Err(SocketError("socket read timed out".into()))
        }
        Err(e) => Err(SocketError(format!("failed to read from socket: {}", crate::texts::errno_text(&e)))),
    }
}
