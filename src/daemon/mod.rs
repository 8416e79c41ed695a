//! The SMTP daemon (`-bd`, `-bdf`): tokio listeners on the configured
//! ports and interfaces, one task per connection driving an SMTP session.
//! SIGTERM stops it cleanly (idle clients get 421, messages in flight are
//! finished); SIGHUP re-reads the configuration for new connections.

pub mod setup;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

use crate::cli::Options;
use crate::log::{Logger, Targets};
use crate::smtp::{Event, Peer, Session, SessionMode, TlsInfo};
use crate::spool::writer::Job;
use crate::spool::{SpoolMessage, SpoolWriter};
use setup::Loaded;

/// How long in-flight messages may take to finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Spool writer threads: while one waits for its batch's fsyncs, another
/// creates the next batch's files (measured: 2, 4 and 8 did about the
/// same at 8 and 64 sessions; 1 was slower).
const SPOOL_WRITERS: usize = 4;

/// Bytes taken from the socket per read. A plain connection borrows this
/// much stack only while it reads, so an idle one holds no buffer.
const READ_SIZE: usize = 16384;

/// A connection, before or after STARTTLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    Gone,
}

impl Stream {
    /// Wait for input and feed it to the session: its events, or `None`
    /// at the end of the input.
    async fn read_into(&mut self, session: &mut Session) -> std::io::Result<Option<Vec<Event>>> {
        match self {
            Stream::Plain(s) => loop {
                s.readable().await?;
                match feed_now(s, session) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                    r => return r,
                }
            },
            Stream::Tls(s) => {
                let mut buf = vec![0u8; READ_SIZE];
                let n = s.read(&mut buf).await?;
                Ok((n > 0).then(|| session.feed(&buf[..n])))
            }
            Stream::Gone => Ok(None),
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(bytes).await,
            Stream::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Stream::Gone => Ok(()),
        }
    }

    async fn shutdown(&mut self) {
        match self {
            Stream::Plain(s) => {
                let _ = s.shutdown().await;
            }
            Stream::Tls(s) => {
                let _ = s.shutdown().await;
            }
            Stream::Gone => {}
        }
    }
}

/// Read what the socket has now (not an async fn: the buffer lives on
/// the stack for this call only, not in the connection's task).
fn feed_now(tcp: &TcpStream, session: &mut Session) -> std::io::Result<Option<Vec<Event>>> {
    let mut buf = [0u8; READ_SIZE];
    let n = tcp.try_read(&mut buf)?;
    Ok((n > 0).then(|| session.feed(&buf[..n])))
}

/// Input that arrived before the greeting, if any.
fn early_input(tcp: &TcpStream) -> Option<Vec<u8>> {
    let mut buf = [0u8; READ_SIZE];
    match tcp.try_read(&mut buf) {
        Ok(n) if n > 0 => Some(buf[..n].to_vec()),
        _ => None,
    }
}

/// Connection counts for smtp_accept_max / smtp_accept_max_per_host.
#[derive(Default)]
struct Counts {
    total: usize,
    per_host: HashMap<IpAddr, usize>,
}

struct Shared {
    loaded: RwLock<Arc<Loaded>>,
    tls: RwLock<Option<Arc<crate::tls::TlsServer>>>,
    counts: Mutex<Counts>,
    opts: Options,
    /// Group commit of spool writes; `None` if its thread could not start.
    spool: Option<SpoolWriter>,
}

/// Ports from `daemon_smtp_ports` or `-oX`: numbers or service names.
pub fn parse_ports(list: &str) -> Vec<u16> {
    list.split([':', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|p| match p {
            "smtp" => Some(25),
            "smtps" | "submissions" => Some(465),
            "submission" => Some(587),
            n => n.parse().ok(),
        })
        .collect()
}

/// Addresses from `local_interfaces` (`<;` lists allowed, `addr.port`
/// or `[addr]:port` give a port of their own).
pub fn parse_interfaces(list: &str) -> Vec<(IpAddr, Option<u16>)> {
    let (sep, body) = match list.trim_start().strip_prefix('<') {
        Some(r) => (r.chars().next().unwrap_or(':'), &r[1..]),
        None => (':', list),
    };
    let mut out = Vec::new();
    for item in body.split(sep).map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(ip) = item.parse::<IpAddr>() {
            out.push((ip, None));
        } else if let Ok(sa) = item.parse::<SocketAddr>() {
            out.push((sa.ip(), Some(sa.port())));
        } else if let Some((a, p)) = item.rsplit_once('.') {
            if let (Ok(ip), Ok(port)) = (a.parse::<IpAddr>(), p.parse::<u16>()) {
                out.push((ip, Some(port)));
            }
        }
    }
    out
}

fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Run the daemon; returns the process exit code.
pub fn run(opts: &Options, foreground: bool) -> i32 {
    let loaded = match setup::load_or_report(opts) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let cfg = loaded.services.cfg.clone();
    // As Exim, a certificate that cannot be loaded now does not stop the
    // daemon: each STARTTLS tries again, and fails with 454 and a log line.
    let tls = load_tls(&cfg).ok().flatten();
    // -oX with addresses (`127.0.0.1.2525`) replaces local_interfaces
    // too, as in Exim; with plain ports only daemon_smtp_ports.
    let ox_interfaces = opts.daemon_ports.as_deref().map(parse_interfaces).unwrap_or_default();
    let (ports, interfaces) = if ox_interfaces.iter().any(|(_, p)| p.is_some()) {
        (Vec::new(), ox_interfaces)
    } else {
        (
            parse_ports(opts.daemon_ports.as_deref().unwrap_or(&cfg.daemon_smtp_ports)),
            parse_interfaces(&cfg.local_interfaces),
        )
    };
    if !foreground {
        // SAFETY: fork before any threads exist; the parent only exits.
        match unsafe { libc::fork() } {
            -1 => {
                eprintln!("exim: fork of daemon failed: {}", crate::texts::errno_text(&std::io::Error::last_os_error()));
                return 1;
            }
            0 => {
                // SAFETY: setsid has no preconditions in the child.
                unsafe { libc::setsid() };
            }
            _ => return 0,
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("exim: cannot start the daemon's runtime: {e}");
            return 1;
        }
    };
    let shared = Arc::new(Shared {
        loaded: RwLock::new(Arc::new(loaded.logging_in_background())),
        tls: RwLock::new(tls.map(Arc::new)),
        counts: Mutex::new(Counts::default()),
        opts: opts.clone(),
        // After the fork: threads do not survive it.
        spool: SpoolWriter::start(SPOOL_WRITERS).ok(),
    });
    let code = rt.block_on(serve(shared.clone(), ports, interfaces));
    // The sessions' tasks go with the runtime; then the spool writer can
    // finish, so no message log of an acknowledged message is lost.
    drop(rt);
    let log = shared.loaded.read().unwrap_or_else(|e| e.into_inner()).log.clone();
    if let Some(writer) = Arc::into_inner(shared).and_then(|s| s.spool) {
        writer.finish();
    }
    // The log thread writes what is still queued before the process ends.
    if let Some(done) = log.flush() {
        let _ = done.blocking_recv();
    }
    code
}

/// Exim loads a certificate whose options need no expansion once, at
/// start and on SIGHUP; options with `$` are expanded for each connection.
fn tls_per_connection(cfg: &crate::smtp::SmtpConfig) -> bool {
    [&cfg.tls_certificate, &cfg.tls_privatekey].iter().any(|o| o.as_deref().is_some_and(|v| v.contains('$')))
}

fn load_tls(cfg: &crate::smtp::SmtpConfig) -> Result<Option<crate::tls::TlsServer>, String> {
    if tls_per_connection(cfg) {
        return Ok(None);
    }
    match &cfg.tls_certificate {
        Some(cert) => {
            let key = cfg.tls_privatekey.clone().unwrap_or_else(|| cert.clone());
            crate::tls::load(cert, &key, crate::tls::verify_certificates(cfg)).map(Some)
        }
        None if cfg.tls_advertise_hosts.is_some() => crate::tls::self_signed(&cfg.primary_hostname).map(Some),
        None => Ok(None),
    }
}

/// The TLS server for one connection: the one loaded at start (or on
/// SIGHUP) when the options need no expansion, else one from the files
/// the connection's expansion of them names (`files`). A certificate
/// that failed to load at start is tried again, as Exim does.
fn tls_server(
    shared: &Shared,
    loaded: &Loaded,
    files: impl FnOnce() -> Result<Option<(String, String)>, String>,
) -> Result<Arc<crate::tls::TlsServer>, crate::tls::SetupError> {
    let cfg = &loaded.services.cfg;
    if !tls_per_connection(cfg) {
        if let Some(server) = shared.tls.read().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(server);
        }
    }
    crate::tls::for_session(files(), cfg).map(Arc::new)
}

async fn serve(shared: Arc<Shared>, ports: Vec<u16>, interfaces: Vec<(IpAddr, Option<u16>)>) -> i32 {
    let (cfg, log) = {
        let l = shared.loaded.read().unwrap_or_else(|e| e.into_inner()).clone();
        (l.services.cfg.clone(), l.log.clone())
    };
    let mut listeners = Vec::new();
    let mut described = Vec::new();
    for (ip, port) in &interfaces {
        let ports_here: Vec<u16> = match port {
            Some(p) => vec![*p],
            None => ports.clone(),
        };
        for p in ports_here {
            let addr = SocketAddr::new(*ip, p);
            match bind(addr, cfg.smtp_connect_backlog) {
                Ok(l) => {
                    described.push(if ip.is_unspecified() {
                        format!("port {p} ({})", if ip.is_ipv6() { "IPv6 and IPv4" } else { "IPv4" })
                    } else {
                        format!("[{ip}]:{p}")
                    });
                    listeners.push((l, p));
                }
                // "::" often covers IPv4 too, so 0.0.0.0 on the same port is busy.
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && ip.is_unspecified() && ip.is_ipv4() => {}
                Err(e) => {
                    let msg = format!("socket bind() to port {p} for address {ip} failed: {}: daemon abandoned", crate::texts::errno_text(&e));
                    log.write(Targets::PANIC, &msg);
                    eprintln!("exim: {msg}");
                    return 1;
                }
            }
        }
    }
    if cfg.tls_certificate.is_none() && cfg.tls_advertise_hosts.is_some() {
        log.write(
            Targets::MAIN,
            "Warning: No server certificate defined; will use a selfsigned one.\n Suggested action: either install a certificate or change tls_advertise_hosts option",
        );
    }
    let pid = std::process::id();
    let pid_file = shared.opts.pid_file.clone().unwrap_or_else(|| cfg.pid_file_path.clone());
    let _ = std::fs::write(&pid_file, format!("{pid}\n"));
    log.write(
        Targets::MAIN,
        &format!("exim {} daemon started: pid={pid}, no queue runs, listening for SMTP on {}", crate::texts::EXIM_VERSION, described.join(" ")),
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let tls_ports: Vec<u16> = cfg.tls_on_connect_ports.as_deref().map(parse_ports).unwrap_or_default();
    let acceptor = start_acceptor(listeners, &shared, &stop_rx, &tls_ports);
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return 1,
    };
    // SIGINT (Ctrl-C under -bdf, and the testsuite's killdaemon) stops
    // the daemon as SIGTERM does, so acknowledged messages' logs are written.
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            Some(_) = async { match int.as_mut() { Some(i) => i.recv().await, None => None } } => break,
            Some(_) = async { match hup.as_mut() { Some(h) => h.recv().await, None => None } } => {
                reload(&shared, pid);
            }
        }
    }
    let _ = stop_tx.send(true);
    // Accept loops end; wait for sessions to finish within the grace time.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while shared.counts.lock().map(|c| c.total).unwrap_or(0) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    acceptor.finish().await;
    let _ = std::fs::remove_file(&pid_file);
    0
}

fn reload(shared: &Shared, pid: u32) {
    let log = shared.loaded.read().unwrap_or_else(|e| e.into_inner()).log.clone();
    log.write(Targets::MAIN, &format!("pid {pid}: SIGHUP received: re-reading configuration"));
    match setup::load(&shared.opts) {
        Ok(l) => {
            let l = l.logging_in_background();
            // A certificate that fails to load is reported at STARTTLS.
            *shared.tls.write().unwrap_or_else(|e| e.into_inner()) = load_tls(&l.services.cfg).ok().flatten().map(Arc::new);
            *shared.loaded.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(l);
        }
        Err(e) => log.write(Targets::PANIC, &format!("SIGHUP: configuration not reloaded: {e}")),
    }
}

/// Where the accept loops run: a thread of their own, or (if it could
/// not start) tasks of the sessions' runtime.
enum Acceptor {
    Thread(std::thread::JoinHandle<()>),
    Tasks(tokio::task::JoinSet<()>),
}

impl Acceptor {
    /// After the stop signal: the loops have ended or end now.
    async fn finish(self) {
        match self {
            Acceptor::Thread(t) => {
                let _ = tokio::task::spawn_blocking(move || t.join()).await;
            }
            Acceptor::Tasks(mut t) => t.abort_all(),
        }
    }
}

/// Run the accept loops on a thread with a runtime of its own, which does
/// nothing else: the listen queue (`smtp_connect_backlog`, 20 by default)
/// is emptied as soon as connections arrive. On the sessions' runtime,
/// the listener was polled between session tasks, and when 64 clients
/// connected at once the queue overflowed and dropped handshakes (clients
/// waited for the SYN retransmission).
fn start_acceptor(
    listeners: Vec<(TcpListener, u16)>,
    shared: &Arc<Shared>,
    stop: &watch::Receiver<bool>,
    tls_ports: &[u16],
) -> Acceptor {
    type Loops = Vec<(std::net::TcpListener, bool)>;
    let sessions = tokio::runtime::Handle::current();
    let loops: Loops = listeners
        .into_iter()
        .filter_map(|(l, port)| Some((l.into_std().ok()?, tls_ports.contains(&port))))
        .collect();
    let spawn_all = |loops: Loops, shared: &Arc<Shared>, stop: &watch::Receiver<bool>, sessions: &tokio::runtime::Handle| {
        let mut tasks = tokio::task::JoinSet::new();
        for (listener, on_connect) in loops {
            if let Ok(listener) = TcpListener::from_std(listener) {
                tasks.spawn(accept_loop(listener, shared.clone(), stop.clone(), on_connect, sessions.clone()));
            }
        }
        tasks
    };
    // The listeners are handed over once the thread runs, so that they
    // stay here if it cannot start.
    let (tx, rx) = std::sync::mpsc::channel::<Loops>();
    let thread = tokio::runtime::Builder::new_current_thread().enable_all().build().ok().and_then(|rt| {
        let (shared, stop, sessions) = (shared.clone(), stop.clone(), sessions.clone());
        std::thread::Builder::new()
            .name("daemon-accept".into())
            .spawn(move || {
                let Ok(loops) = rx.recv() else { return };
                rt.block_on(async move {
                    let mut tasks = spawn_all(loops, &shared, &stop, &sessions);
                    while tasks.join_next().await.is_some() {}
                });
            })
            .ok()
    });
    match thread {
        Some(t) => match tx.send(loops) {
            Ok(()) => Acceptor::Thread(t),
            Err(e) => Acceptor::Tasks(spawn_all(e.0, shared, stop, &sessions)),
        },
        None => Acceptor::Tasks(spawn_all(loops, shared, stop, &sessions)),
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    tls_on_connect: bool,
    sessions: tokio::runtime::Handle,
) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.changed() => return,
        };
        let Ok((stream, peer)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let loaded = shared.loaded.read().unwrap_or_else(|e| e.into_inner()).clone();
        let cfg = loaded.services.cfg.clone();
        let ip = peer.ip().to_canonical();
        let refusal = {
            let mut c = shared.counts.lock().unwrap_or_else(|e| e.into_inner());
            let per_host = c.per_host.get(&ip).copied().unwrap_or(0);
            let max_per_host = max_per_host(&loaded, ip, &stream);
            let reserved_ok = cfg.smtp_reserve_hosts.as_ref().is_some_and(|l| {
                loaded.services.hosts.matches(l, Some(&ip.to_string()), None)
            });
            if cfg.smtp_accept_max > 0 && c.total >= cfg.smtp_accept_max {
                Some(("421 Too many concurrent SMTP connections; please try again later.\r\n", "too many connections"))
            } else if cfg.smtp_accept_max > 0
                && cfg.smtp_accept_reserve > 0
                && c.total >= cfg.smtp_accept_max.saturating_sub(cfg.smtp_accept_reserve)
                && !reserved_ok
            {
                Some(("421 Too many concurrent SMTP connections; please try again later.\r\n", "not in reserve list"))
            } else if max_per_host > 0 && per_host >= max_per_host {
                Some((
                    "421 Too many concurrent SMTP connections from this IP address; please try again later.\r\n",
                    "too many connections from that IP address",
                ))
            } else {
                c.total += 1;
                *c.per_host.entry(ip).or_insert(0) += 1;
                None
            }
        };
        if let Some((reply, why)) = refusal {
            loaded.log.write(Targets::MAIN, &format!("Connection from [{ip}] refused: {why}"));
            let mut s = stream;
            tokio::spawn(async move {
                let _ = s.write_all(reply.as_bytes()).await;
                let _ = s.shutdown().await;
            });
            continue;
        }
        let shared2 = shared.clone();
        let stop2 = stop.clone();
        sessions.spawn(async move {
            // The socket moves to the sessions' runtime (its reactor).
            if let Ok(stream) = stream.into_std().and_then(TcpStream::from_std) {
                connection(stream, peer, loaded, shared2.clone(), stop2, tls_on_connect).await;
            }
            let mut c = shared2.counts.lock().unwrap_or_else(|e| e.into_inner());
            c.total = c.total.saturating_sub(1);
            if let Some(n) = c.per_host.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    c.per_host.remove(&ip);
                }
            }
        });
    }
}

/// `smtp_accept_max_per_host`, expanded for this connection as Exim's
/// daemon does before it accepts it; 0 (no limit) when unset, empty,
/// forced to fail, failing or not a number (the last two logged).
fn max_per_host(loaded: &Loaded, ip: IpAddr, stream: &TcpStream) -> usize {
    let Some(option) = loaded.services.cfg.smtp_accept_max_per_host.as_deref() else { return 0 };
    let local = stream.local_addr().ok();
    let vars = crate::smtp::SessionVars {
        sender_host_address: Some(ip.to_string()),
        interface_address: local.map(|l| l.ip().to_canonical().to_string()),
        interface_port: local.map_or(0, |l| l.port()),
        ..Default::default()
    };
    let cfg = &loaded.services.cfg;
    let mut ctx = crate::smtp::context::SessionContext {
        vars: &vars,
        cfg,
        hosts: loaded.services.hosts.as_ref(),
        headers: &[],
        extra: HashMap::new(),
    };
    let value = match crate::expand::expand_string(option, &mut ctx) {
        Ok(v) => v,
        Err(e) if e.is_forced() => return 0,
        Err(e) => {
            let text = format!("expansion of smtp_accept_max_per_host failed for [{ip}]: {}", e.message());
            loaded.log.write(Targets::PANIC, &text);
            return 0;
        }
    };
    let value = value.trim();
    match value.parse::<usize>() {
        Ok(n) => n,
        Err(_) if value.is_empty() => 0,
        Err(_) => {
            loaded.log.write(Targets::PANIC, &format!("expansion of smtp_accept_max_per_host for [{ip}] contains non-digit: {value}"));
            0
        }
    }
}

async fn tls_accept(server: Arc<crate::tls::TlsServer>, loaded: &Loaded, tcp: TcpStream, ip: &str) -> Result<(Stream, TlsInfo), String> {
    let cfg = &loaded.services.cfg;
    let hosts = &loaded.services.hosts;
    let m = |l: &Option<String>| l.as_ref().is_some_and(|l| hosts.matches(l, Some(ip), None));
    let config = if m(&cfg.tls_verify_hosts) {
        server.verify.clone().unwrap_or(server.no_client_cert.clone())
    } else if m(&cfg.tls_try_verify_hosts) {
        server.try_verify.clone().unwrap_or(server.no_client_cert.clone())
    } else {
        server.no_client_cert.clone()
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
    let mut info = crate::tls::info(tls.get_ref().1);
    info.ourcert = Some(server.ourcert.clone());
    Ok((Stream::Tls(Box::new(tls)), info))
}

/// Read a PROXY header with the blocking reader (which never reads past
/// the header) on a worker thread, and hand the socket back.
async fn read_proxy_header(
    tcp: TcpStream,
    timeout: Duration,
    ip: &str,
    port: u16,
) -> Option<(TcpStream, Option<crate::proxy::ProxyState>)> {
    let std_tcp = tcp.into_std().ok()?;
    std_tcp.set_nonblocking(false).ok()?;
    let (ip, port) = (ip.to_string(), i32::from(port));
    let (std_tcp, state) = tokio::task::spawn_blocking(move || {
        let mut s = std_tcp;
        let outcome = crate::proxy::read_header_tcp(&mut s, timeout, &crate::proxy::Policy::EXIM);
        let state = crate::proxy::ProxyState::negotiated(&ip, port, outcome);
        (s, state)
    })
    .await
    .ok()?;
    std_tcp.set_nonblocking(true).ok()?;
    Some((TcpStream::from_std(std_tcp).ok()?, Some(state)))
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    loaded: Arc<Loaded>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    tls_on_connect: bool,
) {
    let local = tcp.local_addr().ok();
    let ip = peer.ip().to_canonical().to_string();
    // A host in hosts_proxy must send a PROXY header before anything else
    // (before TLS on connect too).
    let (tcp, proxy_state) = match &loaded.services.cfg.hosts_proxy {
        Some(list) if loaded.services.hosts.matches(list, Some(&ip), None) => {
            match Box::pin(read_proxy_header(tcp, loaded.services.cfg.proxy_protocol_timeout, &ip, peer.port())).await {
                Some(r) => r,
                None => return,
            }
        }
        _ => (tcp, None),
    };
    let peer_info = |tls: Option<TlsInfo>| Peer {
        address: Some(ip.clone()),
        port: peer.port(),
        interface_address: local.map(|l| l.ip().to_canonical().to_string()),
        interface_port: local.map(|l| l.port()).unwrap_or(0),
        host_name: None,
        ident: None,
        tls,
        connection_count: shared.counts.lock().map(|c| c.total).unwrap_or(1),
    };
    let mut stream = Stream::Plain(tcp);
    let mut tls_info = None;
    if tls_on_connect {
        let Stream::Plain(tcp) = std::mem::replace(&mut stream, Stream::Gone) else { return };
        let accepted = match tls_server(&shared, &loaded, || {
            let vars = crate::smtp::SessionVars::for_peer(&peer_info(None), &loaded.services.cfg);
            let headers: Vec<String> = Vec::new();
            crate::smtp::context::tls_files(&mut crate::smtp::context::SessionContext {
                vars: &vars,
                cfg: &loaded.services.cfg,
                hosts: loaded.services.hosts.as_ref(),
                headers: &headers,
                extra: HashMap::new(),
            })
        }) {
            Ok(server) => Box::pin(tls_accept(server, &loaded, tcp, &ip)).await,
            Err(e) => {
                for (targets, line) in crate::smtp::texts::tls_setup_error(&format!("[{ip}]"), &e) {
                    loaded.log.write(targets, &line);
                }
                return;
            }
        };
        match accepted {
            Ok((s, info)) => {
                stream = s;
                tls_info = Some(info);
            }
            Err(e) => {
                loaded.log.write(Targets::MAIN, &format!("TLS error on connection from [{ip}] ({e})"));
                return;
            }
        }
    }
    let peer_info = peer_info(tls_info);
    let services = loaded.services.clone();
    // On the heap: an idle connection's task then holds a pointer, not the
    // session and the copies a future's layout may keep of it.
    let mut session = Box::new(Session::new(&services, Box::new(loaded.new_acls()), SessionMode::Remote, peer_info));
    if let Some(state) = proxy_state {
        session.set_proxy(state);
    }
    let log: Arc<Logger> = loaded.log.clone();
    let timeout = Duration::from_secs(services.cfg.smtp_receive_timeout.max(1));
    // Input before the greeting: Exim looks just before sending it.
    let early = match &stream {
        Stream::Plain(tcp) => early_input(tcp),
        _ => None,
    };
    // The start (host_lookup, the connect ACL) may wait for DNS: not on
    // the runtime's one thread.
    let started = tokio::task::spawn_blocking(move || {
        let events = match early {
            Some(bytes) => match session.early_input(&bytes) {
                Some(refused) => refused,
                None => {
                    let mut e = session.start();
                    e.extend(session.feed(&bytes));
                    e
                }
            },
            None => session.start(),
        };
        (session, events)
    })
    .await;
    let Ok((mut session, mut events)) = started else { return };
    let mut stopping = *stop.borrow();
    // The server STARTTLS set up, for the handshake that follows its 220.
    let mut tls_ready: Option<Arc<crate::tls::TlsServer>> = None;
    loop {
        let mut out: Vec<u8> = Vec::new();
        let mut queue = std::collections::VecDeque::from(std::mem::take(&mut events));
        let mut close = false;
        let mut logged = false;
        while let Some(ev) = queue.pop_front() {
            match ev {
                Event::Reply(b) => out.extend_from_slice(&b),
                Event::Log(t, text) => {
                    log.write(t, &text);
                    logged = true;
                }
                Event::Spool(msg) => {
                    let msglog = session.msglog_line(&msg);
                    let spool = services.cfg.spool_directory.clone();
                    let Some((msg, result)) = Box::pin(spool_message(shared.spool.as_ref(), spool, msg, msglog)).await else {
                        // No answer means no 250: the client retries.
                        log.write(Targets::PANIC, "spool writer failed; connection dropped");
                        return;
                    };
                    queue.extend(session.spooled(&msg, result));
                }
                Event::StartTls => {
                    let server = tls_server(&shared, &loaded, || session.tls_files());
                    let outcome = server.as_ref().map(|_| ()).map_err(Clone::clone);
                    tls_ready = server.ok();
                    queue.extend(session.tls_setup(outcome));
                }
                Event::TlsHandshake => {
                    if stream.write_all(&out).await.is_err() {
                        return;
                    }
                    out.clear();
                    let Stream::Plain(tcp) = std::mem::replace(&mut stream, Stream::Gone) else { return };
                    let accepted = match tls_ready.take() {
                        Some(server) => Box::pin(tls_accept(server, &loaded, tcp, &ip)).await,
                        None => Err("TLS not set up".to_string()),
                    };
                    match accepted {
                        Ok((s, info)) => {
                            stream = s;
                            queue.extend(session.tls_started(Ok(info)));
                        }
                        Err(e) => {
                            queue.extend(session.tls_started(Err(e)));
                        }
                    }
                }
                Event::Close => close = true,
                Event::Continue => queue.extend(session.feed(&[])),
                Event::Command { argv, shown, what } => crate::smtp::detached::run(&argv, &shown, what, &log),
            }
        }
        // As in Exim, what a reply follows is logged before the client
        // sees the reply (an arrival is in the log when "250 OK id=" is).
        if logged && !out.is_empty() {
            if let Some(done) = log.flush() {
                let _ = done.await;
            }
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            let evs = session.eof();
            for ev in evs {
                if let Event::Log(t, text) = ev {
                    log.write(t, &text);
                }
            }
            return;
        }
        if close || session.is_closed() {
            stream.shutdown().await;
            return;
        }
        if stopping && !session.in_message() {
            events = session.shutdown();
            if !events.is_empty() {
                continue;
            }
        }
        let read = tokio::select! {
            r = tokio::time::timeout(timeout, stream.read_into(&mut session)) => Some(r),
            _ = stop.changed(), if !stopping => None,
        };
        match read {
            None => {
                stopping = true;
                events = session.shutdown();
            }
            Some(Err(_)) => events = session.timeout(),
            Some(Ok(Ok(None))) | Some(Ok(Err(_))) => {
                events = session.eof();
                for ev in std::mem::take(&mut events) {
                    if let Event::Log(t, text) = ev {
                        log.write(t, &text);
                    }
                }
                return;
            }
            Some(Ok(Ok(Some(evs)))) => events = evs,
        }
    }
}

/// Have the message written, and wait until it is on disk or failed: by
/// the group-commit writer, or on a blocking thread if there is none.
async fn spool_message(
    writer: Option<&SpoolWriter>,
    spool_directory: String,
    msg: Box<SpoolMessage>,
    msglog_line: String,
) -> Option<(Box<SpoolMessage>, Result<(), String>)> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let done = Box::new(move |m, r: Result<(), crate::spool::SpoolError>| {
        let _ = tx.send((m, r.map_err(|e| e.to_string())));
    });
    let job = Job { spool_directory, msg, msglog_line, done };
    let job = match writer {
        Some(w) => match w.submit(job) {
            Ok(()) => return rx.await.ok(),
            Err(job) => job,
        },
        None => job,
    };
    let Job { spool_directory, msg, msglog_line, .. } = job;
    tokio::task::spawn_blocking(move || {
        let r = crate::spool::write_message(&spool_directory, &msg, &msglog_line).map_err(|e| e.to_string());
        (msg, r)
    })
    .await
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_interfaces() {
        assert_eq!(parse_ports("smtp : 2525"), vec![25, 2525]);
        assert_eq!(parse_interfaces("<; ::0 ; 0.0.0.0").len(), 2);
        assert_eq!(parse_interfaces("127.0.0.1.2526"), vec![("127.0.0.1".parse().unwrap(), Some(2526))]);
    }
}
