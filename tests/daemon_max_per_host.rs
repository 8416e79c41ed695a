//! `smtp_accept_max_per_host` is expanded for each connection, with the
//! client's address in `$sender_host_address`: a daemon with a limit of 2
//! for 127.0.0.1 and 1 for other hosts, a non-number for 127.0.0.3 (logged,
//! no limit). Replies and log lines are those Exim 4.96 gave for the same
//! configuration; with REXIM_ORACLE=/usr/sbin/exim (as root) the test runs
//! against Exim itself.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const CONF: &str = "keep_environment =
primary_hostname = mta.test.ex
spool_directory = DIR/spool
log_file_path = DIR/spool/log/%slog
smtp_accept_max_per_host = ${if eq{$sender_host_address}{127.0.0.1}{2}{${if eq{$sender_host_address}{127.0.0.3}{abc}{1}}}}
";

struct Daemon {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn start(binary: &str) -> Daemon {
    let dir = std::env::temp_dir().join(format!("rexim-maxperhost-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(dir.join("spool/log")).expect("work directory");
    let conf = dir.join("test.conf");
    std::fs::write(&conf, CONF.replace("DIR", &dir.to_string_lossy())).expect("configuration");
    // Real Exim writes its logs as its own user.
    let _ = Command::new("chown").args(["-R", "Debian-exim"]).arg(dir.join("spool")).status();
    let port = free_port();
    let child = Command::new(binary)
        .arg("-C")
        .arg(&conf)
        .args(["-bdf", "-oX", &format!("127.0.0.1.{port}")])
        .spawn()
        .expect("daemon starts");
    let d = Daemon { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    // Probe from an address of its own, so no counted host is used up.
    while connect(&d, "127.0.0.9").is_none() {
        assert!(Instant::now() < deadline, "daemon did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    d
}

fn connect(d: &Daemon, from: &str) -> Option<TcpStream> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    let local: SocketAddr = format!("{from}:0").parse().ok()?;
    sock.bind(&local.into()).ok()?;
    let remote: SocketAddr = format!("127.0.0.1:{}", d.port).parse().ok()?;
    sock.connect(&remote.into()).ok()?;
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    Some(s)
}

fn greeting(s: &mut TcpStream) -> String {
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn log(d: &Daemon, name: &str) -> String {
    std::fs::read_to_string(d.dir.join(format!("spool/log/{name}log"))).unwrap_or_default()
}

fn check(binary: &str) {
    let d = start(binary);
    let refused = "421 Too many concurrent SMTP connections from this IP address; please try again later.\r\n";
    let mut open = Vec::new();
    for (from, expect_220) in [("127.0.0.1", true), ("127.0.0.1", true), ("127.0.0.1", false), ("127.0.0.2", true), ("127.0.0.2", false), ("127.0.0.3", true), ("127.0.0.3", true), ("127.0.0.3", true)] {
        let mut s = connect(&d, from).expect("connect");
        let g = greeting(&mut s);
        if expect_220 {
            assert!(g.starts_with("220 mta.test.ex ESMTP"), "{binary}: {from}: {g:?}");
            open.push((from, s));
        } else {
            assert_eq!(g, refused, "{binary}: {from}");
        }
    }
    // A connection that ends frees its place.
    let i = open.iter().position(|(f, _)| *f == "127.0.0.2").expect("127.0.0.2 is connected");
    drop(open.remove(i));
    std::thread::sleep(Duration::from_millis(500));
    let mut s = connect(&d, "127.0.0.2").expect("connect");
    assert!(greeting(&mut s).starts_with("220 "), "{binary}: 127.0.0.2 again");
    std::thread::sleep(Duration::from_millis(300));
    let main = log(&d, "main");
    for ip in ["127.0.0.1", "127.0.0.2"] {
        let line = format!("Connection from [{ip}] refused: too many connections from that IP address");
        assert_eq!(main.matches(&line).count(), 1, "{binary}: {main}");
    }
    let panic = log(&d, "panic");
    assert!(panic.contains("expansion of smtp_accept_max_per_host for [127.0.0.3] contains non-digit: abc"), "{binary}: {panic}");
    drop(open);
}

#[test]
fn expanded_per_connection() {
    check(env!("CARGO_BIN_EXE_rexim"));
    if let Ok(oracle) = std::env::var("REXIM_ORACLE") {
        check(&oracle);
    }
}
