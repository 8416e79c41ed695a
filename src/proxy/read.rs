//! Reading a header off the connection without taking a byte past it.

use std::io::{ErrorKind as IoKind, Read};
use std::net::TcpStream;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use super::error::{ErrorKind, ProxyError};
use super::header::Header;
use super::parse::{parse_with, ParseError, Policy};

/// Exim's first read (PROXY_INITIAL_READ): enough to tell v1 from v2.
const INITIAL_READ: usize = 14;

/// Exim's header buffer; also the bound on swallowing a non-PROXY line.
const SWALLOW_MAX: usize = 232;

/// Read and parse a header from `r`. Each read asks for no more than the
/// parser says the header still needs, so whatever follows (a TLS
/// handshake, pipelined SMTP) stays unread. Timeouts are the caller's
/// (see `read_header_tcp`): a read that times out ends with Timeout.
pub fn read_header<R: Read>(r: &mut R, policy: &Policy) -> Result<Header, ProxyError> {
    let mut buf: Vec<u8> = Vec::with_capacity(64);
    let mut want = INITIAL_READ;
    loop {
        read_some(r, &mut buf, want)?;
        match parse_with(&buf, policy) {
            Ok(p) => return Ok(p.header),
            Err(ParseError::NeedMore(n)) => want = n.0,
            Err(ParseError::Invalid(e)) => {
                if e.kind == ErrorKind::NotProxy {
                    swallow_line(r, &buf);
                }
                return Err(e);
            }
        }
    }
}

/// Like `read_header` on a socket, within `timeout` (proxy_protocol_timeout)
/// for the whole header; the socket's read timeout is cleared afterwards.
pub fn read_header_tcp(s: &mut TcpStream, timeout: Duration, policy: &Policy) -> Result<Header, ProxyError> {
    let deadline = Instant::now() + timeout;
    let mut timed = Deadline { s, deadline };
    let r = read_header(&mut timed, policy);
    let _ = timed.s.set_read_timeout(None);
    r
}

/// Like `read_header_tcp` on a raw descriptor (the `-bh` session's stdin,
/// before anything buffers it), waiting with poll() so that the timeout
/// holds on pipes and terminals too, as Exim's alarm does.
pub fn read_header_fd(fd: RawFd, timeout: Duration, policy: &Policy) -> Result<Header, ProxyError> {
    let mut r = FdDeadline { fd, deadline: Instant::now() + timeout };
    read_header(&mut r, policy)
}

struct FdDeadline {
    fd: RawFd,
    deadline: Instant,
}

impl Read for FdDeadline {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if n == 0 {
            return Err(IoKind::TimedOut.into());
        }
        // SAFETY: buf is valid for writes of buf.len() bytes.
        let got = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
        if got < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(got as usize)
    }
}

struct Deadline<'a> {
    s: &'a mut TcpStream,
    deadline: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(IoKind::TimedOut.into());
        }
        self.s.set_read_timeout(Some(left))?;
        self.s.read(buf)
    }
}

fn read_some<R: Read>(r: &mut R, buf: &mut Vec<u8>, want: usize) -> Result<(), ProxyError> {
    let start = buf.len();
    buf.resize(start + want, 0);
    let got = loop {
        match r.read(&mut buf[start..]) {
            Ok(n) => break n,
            Err(e) if e.kind() == IoKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {
                return Err(ProxyError::new(ErrorKind::Timeout))
            }
            Err(e) => return Err(ProxyError::new(ErrorKind::Io(crate::texts::errno_text(&e)))),
        }
    };
    buf.truncate(start + got);
    if got == 0 {
        return Err(ProxyError::new(ErrorKind::Eof));
    }
    Ok(())
}

/// Exim's swallow_until_crlf after a non-PROXY start: read on to the end
/// of that line (one byte at a time, so nothing past it), at most up to
/// its buffer size. Errors do not matter: the negotiation failed anyway.
fn swallow_line<R: Read>(r: &mut R, have: &[u8]) {
    let mut last = match have.iter().position(|&b| b == b'\r') {
        Some(cr) if cr + 1 < have.len() => return,
        Some(_) => true,
        None => false,
    };
    let mut byte = [0u8; 1];
    for _ in have.len()..SWALLOW_MAX {
        match r.read(&mut byte) {
            Ok(1) => {}
            _ => return,
        }
        if last {
            return;
        }
        last = byte[0] == b'\r';
    }
}
