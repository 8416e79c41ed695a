//! `-bs`: an SMTP session on standard input and output, as from a local
//! process. Messages are spooled and stay queued.

use std::io::{Read, Write};
use std::sync::Arc;

use super::session::{Event, Peer, Services, Session, SessionMode};
use crate::log::Logger;

/// Run a session on the given streams until QUIT or end of input; true
/// when it ended as Exim's -bs exits 0 (QUIT, or a drop for too many
/// unrecognized commands), false for 1. `peer` holds what -oMa, -oMs,
/// -oMt... said; it is left default for plain local input.
pub fn run(
    services: &Services,
    acls: Box<dyn super::AclHooks + Send>,
    caller: super::caller::Caller,
    peer: Peer,
    log: &Logger,
    input: &mut dyn Read,
    output: &mut dyn Write,
) -> bool {
    let mut session = Session::new(services, acls, SessionMode::Local { caller }, peer);
    // One line at a time: the ACLs write their log lines at once, so the
    // session's own lines for a command must be written before the next
    // command's ACL runs.
    drive(&mut session, input, true, &mut |session, events| handle(session, events, services, log, output))
}

/// Run a session over an input stream: `carry` carries out the events of
/// each step and says whether the session is over. With `by_line`, input
/// is fed one line at a time. True when the session ended with QUIT.
fn drive(
    session: &mut Session,
    input: &mut dyn Read,
    by_line: bool,
    carry: &mut dyn FnMut(&mut Session, Vec<Event>) -> bool,
) -> bool {
    let events = session.open();
    if carry(session, events) {
        return session.quit_seen();
    }
    let events = session.start();
    if carry(session, events) {
        return session.quit_seen();
    }
    let mut buf = vec![0u8; 65536];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) | Err(_) => {
                let events = session.eof();
                carry(session, events);
                return session.quit_seen();
            }
            Ok(n) => n,
        };
        let pieces: Vec<&[u8]> =
            if by_line { buf[..n].split_inclusive(|&b| b == b'\n').collect() } else { vec![&buf[..n]] };
        for piece in pieces {
            let events = session.feed(piece);
            if carry(session, events) {
                return session.quit_seen();
            }
            if session.take_input_discarded() {
                break;
            }
        }
    }
}

/// `-bh IP`: a session as if from a remote host, on standard input and
/// output, with nothing spooled; log lines go to `log_out` as "LOG: ...".
/// True when it ended with QUIT.
pub fn run_host_check(
    services: &Services,
    acls: Box<dyn super::AclHooks + Send>,
    ip: &str,
    proxy: Option<crate::proxy::ProxyState>,
    trace: super::TraceBuf,
    input: &mut dyn Read,
    output: &mut dyn Write,
    log_out: &mut dyn Write,
) -> bool {
    let peer = Peer { address: Some(ip.to_string()), ..Default::default() };
    let mut session = Session::new(services, acls, SessionMode::HostCheck, peer);
    if let Some(state) = proxy {
        session.set_proxy(state);
    }
    // The ACLs write to the same buffer (smtp::acls), so the lines come
    // out in the order Exim writes them.
    let sink = trace.clone();
    session.set_trace(Box::new(move |line| sink.lock().unwrap_or_else(|e| e.into_inner()).push(line.to_string())));
    let _ = write!(
        output,
        "\n**** SMTP testing session as if from host {ip}\n**** but without any ident (RFC 1413) callback.\n**** This is not for real!\n\n"
    );
    let mut deliver = |session: &mut Session, events: Vec<Event>, output: &mut dyn Write| -> bool {
        let mut closed = false;
        // Lines are written as the bytes they stand for (crate::bytes).
        for line in std::mem::take(&mut *trace.lock().unwrap_or_else(|e| e.into_inner())) {
            let _ = log_out.write_all(&crate::bytes::to_bytes(&line));
            let _ = log_out.write_all(b"\n");
        }
        let mut queue = std::collections::VecDeque::from(events);
        while let Some(e) = queue.pop_front() {
            match e {
                Event::Reply(b) => {
                    let _ = output.write_all(&b);
                }
                Event::Log(_, text) => {
                    // The reject log's detail lines are not shown.
                    let head = text.split(crate::log::REJECT_DETAIL).next().unwrap_or("");
                    let _ = log_out.write_all(&crate::bytes::to_bytes(&format!("LOG: {head}\n")));
                }
                Event::StartTls => queue.extend(session.tls_setup(tls_check(session, services))),
                Event::TlsHandshake => queue.extend(session.tls_started(Err("TLS is not available in -bh".into()))),
                Event::Spool(_) | Event::Continue | Event::Command { .. } => {}
                Event::Close => closed = true,
            }
        }
        let _ = output.flush();
        closed
    };
    // One line at a time, so that each command's log lines come out
    // before the next command's ACL trace, as with Exim.
    drive(&mut session, input, true, &mut |session, events| deliver(session, events, output))
}

/// Carry out events; true when the session is over.
pub fn handle(session: &mut Session, events: Vec<Event>, services: &Services, log: &Logger, output: &mut dyn Write) -> bool {
    let mut queue = std::collections::VecDeque::from(events);
    let mut closed = false;
    while let Some(e) = queue.pop_front() {
        match e {
            Event::Reply(bytes) => {
                let _ = output.write_all(&bytes);
            }
            Event::Log(targets, text) => log.write(targets, &text),
            Event::Spool(msg) => {
                let _ = output.flush();
                let result = write_spool(services, &msg, session);
                queue.extend(session.spooled(&msg, result));
            }
            Event::StartTls => queue.extend(session.tls_setup(tls_check(session, services))),
            // No TLS on a pipe.
            Event::TlsHandshake => queue.extend(session.tls_started(Err("TLS is not available on standard input".into()))),
            Event::Close => closed = true,
            Event::Continue => queue.extend(session.feed(&[])),
            Event::Command { argv, shown, what } => super::detached::run(&argv, &shown, what, log),
        }
    }
    let _ = output.flush();
    closed
}

/// Whether the session's certificate and key can be loaded: STARTTLS is
/// answered 220 or 454 as in the daemon, though no handshake follows.
fn tls_check(session: &Session, services: &Services) -> Result<(), crate::tls::SetupError> {
    crate::tls::for_session(session.tls_files(), &services.cfg).map(|_| ())
}

/// Write a message to the spool, with its message log's first line.
pub fn write_spool(services: &Services, msg: &crate::spool::SpoolMessage, session: &Session) -> Result<(), String> {
    let msglog = session.msglog_line(msg);
    crate::spool::write_message(&services.cfg.spool_directory, msg, &msglog).map_err(|e| e.to_string())
}

/// Services with no authenticators, the lists layer without named lists, and no DSN.
pub fn basic_services(cfg: super::SmtpConfig) -> Services {
    Services {
        cfg: Arc::new(cfg),
        hosts: Arc::new(super::ListsHostMatcher::plain()),
        auths: Arc::new(Vec::new()),
        ids: Arc::new(crate::spool::IdGenerator::default()),
        resolver: Arc::new(crate::dns::fake::FakeResolver::default()),
    }
}
