//! Two processes sharing one ratelimit: through one real redis-server
//! (started on a free loopback port, stopped by pid) and through the file
//! database in spool/db. Each process is this test binary again, running
//! the ignored `worker` test, which evaluates a ratelimit ACL many times.

use crate::acl::simple::SimpleEnv;
use crate::acl::{check, AclState, AclStore, Where};
use crate::hintsdb::{FileDb, HintsDb, RedisDb};
use crate::ratelimit::Record;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EVENTS: usize = 40;
const ACL: &str = "check:\n  warn ratelimit = 1000 / 1d / per_cmd / strict / shared-key\n  accept\n\ncheck_deny:\n  deny ratelimit = 1000 / 1d / per_cmd / strict / shared-key\n  accept\n";

fn open_db(spec: &str) -> Box<dyn HintsDb> {
    match spec.strip_prefix("file:") {
        Some(dir) => Box::new(FileDb::new(dir)),
        None => Box::new(RedisDb::new(spec, Duration::from_secs(1)).unwrap()),
    }
}

/// Run by the parent test in a child process: REXIM_RL_DB names the
/// database ("redis://..." or "file:DIR").
#[test]
#[ignore]
fn worker() {
    let Ok(spec) = std::env::var("REXIM_RL_DB") else { return };
    let mut env = SimpleEnv::new(AclStore::from_section(ACL, "t").unwrap());
    env.set("sender_host_address", "10.0.0.1");
    env.db = open_db(&spec);
    let mut state = AclState::new();
    for _ in 0..EVENTS {
        state.new_command();
        let out = check(&mut env, &mut state, Where::Rcpt, Some("check"), None);
        assert_eq!(out.rc, crate::acl::Rc::Ok, "{out:?}");
    }
}

fn spawn_worker(spec: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "ratelimit::shared_tests::worker", "--test-threads=1", "-q"])
        .env("REXIM_RL_DB", spec)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn run_two(spec: &str) {
    let mut a = spawn_worker(spec);
    let mut b = spawn_worker(spec);
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
}

/// The shared record's rate: with a period of a day and no lost updates,
/// 2 × EVENTS events in a few seconds give a rate of 2 × EVENTS.
fn shared_rate(spec: &str) -> f64 {
    let mut db = open_db(spec);
    let raw = db.read(super::DB_NAME, "1d/per_cmd/shared-key").unwrap().expect("record");
    Record::decode(&raw).unwrap().rate
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid of the child we started.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

#[test]
fn two_processes_share_a_redis_ratelimit() {
    if Command::new("redis-server").arg("--version").output().is_err() {
        eprintln!("redis-server is not installed: shared ratelimit test not run");
        return;
    }
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let redis = Redis(child);
    let url = format!("redis://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    run_two(&url);
    let rate = shared_rate(&url);
    assert!((rate - 2.0 * EVENTS as f64).abs() < 0.5, "shared rate {rate}");

    // Redis down: the ratelimit defers, quickly.
    drop(redis);
    let mut env = SimpleEnv::new(AclStore::from_section(ACL, "t").unwrap());
    env.set("sender_host_address", "10.0.0.1");
    env.db = open_db(&url);
    let start = Instant::now();
    let out = check(&mut env, &mut AclState::new(), Where::Rcpt, Some("check_deny"), None);
    assert_eq!(out.rc, crate::acl::Rc::Defer, "{out:?}");
    assert!(out.log_message.unwrap().starts_with("redis ratelimit database: "));
    // In a warn statement the deferral is logged and the ACL goes on.
    let out = check(&mut env, &mut AclState::new(), Where::Rcpt, Some("check"), None);
    assert_eq!(out.rc, crate::acl::Rc::Ok, "{out:?}");
    assert!(env.log.iter().any(|l| l.contains("Warning: ACL \"warn\" statement skipped: condition test deferred: redis")), "{:?}", env.log);
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn two_processes_share_a_file_ratelimit() {
    let dir = std::env::temp_dir().join(format!("rexim-rl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = format!("file:{}", dir.join("db").display());
    run_two(&spec);
    let rate = shared_rate(&spec);
    let _ = std::fs::remove_dir_all(&dir);
    assert!((rate - 2.0 * EVENTS as f64).abs() < 0.5, "shared rate {rate}");
}
