//! `host_lookup = *` under `-bh`, through the system resolver: with no PTR
//! record in the DNS, Exim's default `host_lookup_order` (bydns:byaddr)
//! asks gethostbyaddr(), which answers 127.0.0.1 from /etc/hosts; the
//! forward check of "localhost" is a DNS lookup and finds nothing. The
//! expected traces in tests/fixtures/host_lookup were recorded from
//! Debian's Exim 4.96 on this machine image; with REXIM_ORACLE=/usr/sbin/exim
//! (as root) the test runs against Exim too.

use std::io::Write;
use std::process::{Command, Stdio};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/host_lookup/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The trace from the name lookup to the next option check.
fn lookup_trace(binary: &str, ip: &str) -> String {
    let mut child = Command::new(binary)
        .args(["-C", &fixture("conf"), "-bh", ip])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    child.stdin.take().expect("stdin").write_all(b"EHLO x\r\nQUIT\r\n").expect("write");
    let out = child.wait_with_output().expect("run");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut keep = false;
    let mut lines = String::new();
    for line in text.lines() {
        keep |= line.starts_with(">>> looking up host name for");
        if keep {
            lines.push_str(line);
            lines.push('\n');
        }
        if line.starts_with(">>> host in host_reject_connection?") {
            break;
        }
    }
    lines
}

fn check(binary: &str) {
    for ip in ["127.0.0.1", "192.0.2.7"] {
        let want = std::fs::read_to_string(fixture(&format!("bh-{ip}"))).expect("fixture");
        assert_eq!(lookup_trace(binary, ip), want, "{binary} -bh {ip}");
    }
}

#[test]
fn falls_back_to_gethostbyaddr_as_exim() {
    check(env!("CARGO_BIN_EXE_rexim"));
    if let Ok(oracle) = std::env::var("REXIM_ORACLE") {
        check(&oracle);
    }
}
