//! The SMTP load generator of scripts/bench-smtp: it sends the same
//! messages to rexim and to Exim, from one thread (tokio's current-thread
//! runtime), so that the client takes as little of the machine's two
//! cores as it can and the servers are measured, not the client.
//!
//! Run: scripts/bench-smtp bench (which builds it with
//! `cargo bench --bench smtp_load --no-run`), or by hand:
//!   smtp_load PORT SESSIONS MESSAGES [per-connection]
//! Sessions connect and send EHLO before the clock starts, and start
//! together; with `per-connection` each message has a connection of its
//! own (banner, EHLO, one transaction, QUIT) and connecting is timed.
//! Prints one line: `accepted N seconds S errors E [first error]`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// The message the Python client sent before this one took its place:
/// two header lines and 41 lines of body, about 1 kB.
fn message() -> Vec<u8> {
    let mut m = b"Subject: bench\r\nFrom: a@b.c\r\n\r\n".to_vec();
    m.extend(std::iter::repeat_n(b'x', 70));
    m.extend(b"\r\n");
    for _ in 0..40 {
        m.extend(b"line of body text\r\n");
    }
    m.extend(b".\r\n");
    m
}

/// How long a reply may take before the session gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// Sessions still connecting after this long are left behind, and the
/// clock starts without them (a handshake lost in a full listen queue
/// can take a minute).
const START_LIMIT: Duration = Duration::from_secs(45);

struct Conn {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    line: String,
}

impl Conn {
    async fn open(port: u16) -> Result<Conn, String> {
        let s = tokio::time::timeout(REPLY_TIMEOUT, TcpStream::connect(("127.0.0.1", port)))
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map_err(|e| format!("connect: {e}"))?;
        let _ = s.set_nodelay(true);
        let (rd, wr) = s.into_split();
        let mut c = Conn { rd: BufReader::new(rd), wr, line: String::new() };
        c.expect(220).await?;
        c.send(b"EHLO bench.client\r\n").await?;
        c.expect(250).await?;
        Ok(c)
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.wr.write_all(bytes).await.map_err(|e| format!("write: {e}"))
    }

    /// One reply, all its lines; the code and the last line's text.
    async fn reply(&mut self) -> Result<(u16, String), String> {
        loop {
            self.line.clear();
            let n = tokio::time::timeout(REPLY_TIMEOUT, self.rd.read_line(&mut self.line))
                .await
                .map_err(|_| "timed out".to_string())?
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("connection closed".into());
            }
            let l = self.line.trim_end();
            if l.as_bytes().get(3) != Some(&b'-') {
                let code = l.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
                return Ok((code, l.to_string()));
            }
        }
    }

    async fn expect(&mut self, code: u16) -> Result<String, String> {
        let (got, text) = self.reply().await?;
        if got == code {
            Ok(text)
        } else {
            Err(format!("expected {code}: {text}"))
        }
    }

    /// One transaction, pipelined as far as PIPELINING allows; whether
    /// the server accepted it with an id.
    async fn transaction(&mut self, msg: &[u8]) -> Result<bool, String> {
        self.send(b"MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n").await?;
        for code in [250, 250, 354] {
            self.expect(code).await?;
        }
        self.send(msg).await?;
        let (code, text) = self.reply().await?;
        Ok(code == 250 && text.contains("id="))
    }
}

/// What the sessions add up.
#[derive(Default)]
struct Tally {
    accepted: u64,
    errors: u64,
    first_error: Option<String>,
    arrived: usize,
}

impl Tally {
    fn error(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }
}

async fn session(port: u16, count: usize, msg: Rc<Vec<u8>>, tally: Rc<RefCell<Tally>>, mut go: watch::Receiver<bool>) {
    let conn = Conn::open(port).await;
    tally.borrow_mut().arrived += 1;
    let mut c = match conn {
        Ok(c) => c,
        Err(e) => return tally.borrow_mut().error(e),
    };
    if go.wait_for(|g| *g).await.is_err() {
        return;
    }
    for _ in 0..count {
        match c.transaction(&msg).await {
            Ok(ok) => tally.borrow_mut().accepted += u64::from(ok),
            Err(e) => return tally.borrow_mut().error(e),
        }
    }
    let _ = c.send(b"QUIT\r\n").await;
    let _ = c.reply().await;
}

async fn connection_per_message(port: u16, count: usize, msg: Rc<Vec<u8>>, tally: Rc<RefCell<Tally>>) {
    for _ in 0..count {
        let result = async {
            let mut c = Conn::open(port).await?;
            let ok = c.transaction(&msg).await?;
            // Not waiting for the 221: Exim sends it 200 ms late (Nagle's
            // algorithm against the client's delayed ACK), and a client
            // that has its 250 has what it came for.
            let _ = c.send(b"QUIT\r\n").await;
            Ok::<bool, String>(ok)
        }
        .await;
        match result {
            Ok(ok) => tally.borrow_mut().accepted += u64::from(ok),
            Err(e) => return tally.borrow_mut().error(e),
        }
    }
}

async fn run(port: u16, sessions: usize, messages: usize, per_connection: bool) -> (Tally, Duration) {
    let per = (messages / sessions).max(1);
    let msg = Rc::new(message());
    let tally = Rc::new(RefCell::new(Tally::default()));
    let (go_tx, go_rx) = watch::channel(false);
    let tasks: Vec<_> = (0..sessions)
        .map(|_| {
            if per_connection {
                tokio::task::spawn_local(connection_per_message(port, per, msg.clone(), tally.clone()))
            } else {
                tokio::task::spawn_local(session(port, per, msg.clone(), tally.clone(), go_rx.clone()))
            }
        })
        .collect();
    // Persistent sessions are connected and greeted before the clock
    // starts; a connection per message is timed with its connecting.
    let deadline = Instant::now() + START_LIMIT;
    while !per_connection && tally.borrow().arrived < sessions && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let t0 = Instant::now();
    let _ = go_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = t0.elapsed();
    (Rc::try_unwrap(tally).map(RefCell::into_inner).unwrap_or_default(), elapsed)
}

fn main() {
    // `cargo bench` adds --bench; nothing else here starts with a dash.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let (Some(port), Some(sessions), Some(messages)) = (
        args.first().and_then(|a| a.parse::<u16>().ok()),
        args.get(1).and_then(|a| a.parse::<usize>().ok()).filter(|&n| n > 0),
        args.get(2).and_then(|a| a.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: smtp_load PORT SESSIONS MESSAGES [per-connection]");
        std::process::exit(2);
    };
    let per_connection = args.get(3).is_some_and(|a| a == "per-connection");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let local = tokio::task::LocalSet::new();
    let (tally, elapsed) = local.block_on(&rt, run(port, sessions, messages, per_connection));
    println!(
        "accepted {} seconds {:.6} errors {}{}",
        tally.accepted,
        elapsed.as_secs_f64(),
        tally.errors,
        tally.first_error.map(|e| format!(" {e}")).unwrap_or_default()
    );
}
