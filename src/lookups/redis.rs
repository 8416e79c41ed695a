//! The redis lookup (Exim's lookups/redis.c with lf_sqlperform()).
//!
//! The async `redis` client runs on one dedicated thread with its own tokio
//! runtime; lookups hand it a job and wait for the reply, so callers stay
//! synchronous and never need a runtime of their own. Connect and command
//! time-outs bound every wait: a server that is down or silent gives DEFER
//! with a reason, never a hang.

use super::{Lookup, LookupEnv, LookupKind, LookupOutcome, Lookups};
use crate::lists::iter::{ListIter, ListSep};
use redis::{aio::MultiplexedConnection, AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, RedisConnectionInfo, Value};
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Time-outs (Exim uses hiredis' blocking defaults; rexim must not hang).
#[derive(Clone, Copy, Debug)]
pub struct RedisTimeouts {
    pub connect: Duration,
    pub command: Duration,
}

impl Default for RedisTimeouts {
    fn default() -> Self {
        RedisTimeouts { connect: Duration::from_secs(5), command: Duration::from_secs(5) }
    }
}

/// Per-process redis settings.
#[derive(Default, Debug)]
pub struct RedisState {
    pub timeouts: RedisTimeouts,
}

/// A parsed `host/db/password` server item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub socket: Option<String>,
    pub db: Option<i64>,
    pub password: Option<String>,
}

/// Parse one server item as Exim does; Err is Exim's message.
pub fn parse_server(item: &str) -> Result<Server, String> {
    let (rest, password) = item.rsplit_once('/').ok_or_else(|| format!("incomplete Redis server data: {item}"))?;
    let (hostpart, db) = rest.rsplit_once('/').ok_or_else(|| format!("incomplete Redis server data: {rest}"))?;
    let mut host = hostpart.to_string();
    let mut socket = None;
    if let Some(p) = host.find('(') {
        let s = &host[p + 1..];
        socket = Some(s[..s.find(')').unwrap_or(s.len())].to_string());
        host.truncate(p);
    }
    let mut port = 6379u16;
    if let Some(p) = host.find(':') {
        // Uatoi(): leading digits, 0 if none.
        let digits: String = host[p + 1..].chars().take_while(|c| c.is_ascii_digit()).collect();
        port = digits.parse().unwrap_or(0);
        host.truncate(p);
    }
    Ok(Server {
        host,
        port,
        socket,
        db: if db.is_empty() { None } else { Some(db.trim().parse::<i64>().unwrap_or(0)) },
        password: if password.is_empty() { None } else { Some(password.to_string()) },
    })
}

/// Split a command into arguments at white space; a backslash protects
/// the next character (the inverse of quote_redis).
pub fn split_command(cmd: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut it = cmd.trim_start().chars().peekable();
    while it.peek().is_some() {
        let mut a = String::new();
        while let Some(&c) = it.peek() {
            if c.is_ascii_whitespace() {
                break;
            }
            it.next();
            if c == '\\' {
                if let Some(n) = it.next() {
                    a.push(n);
                }
            } else {
                a.push(c);
            }
        }
        args.push(a);
        while it.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            it.next();
        }
        if args.len() == 32 {
            break;
        }
    }
    args
}

/// Exim's mapping of a reply to lookup data.
pub fn reply_to_result(v: &Value) -> Option<String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::Int(i) => Some(i.to_string()),
            Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Value::SimpleString(s) => Some(s.clone()),
            Value::Okay => Some("OK".into()),
            _ => None,
        }
    }
    match v {
        // Exim appends an empty string for nil: a successful lookup whose
        // value is empty.
        Value::Nil => Some(String::new()),
        Value::Int(i) => Some(if *i != 0 { "true" } else { "false" }.into()),
        Value::BulkString(_) | Value::SimpleString(_) | Value::Okay => scalar(v),
        Value::Array(items) | Value::Set(items) => {
            // Exim's loop: a newline before every element once there is a
            // result, and again before every element of a nested array.
            let mut out: Option<String> = None;
            for e in items {
                if let Some(o) = out.as_mut() {
                    o.push('\n');
                }
                match e {
                    Value::Array(inner) => {
                        for t in inner {
                            if let Some(o) = out.as_mut() {
                                o.push('\n');
                            }
                            if let Some(v) = scalar(t).filter(|_| !matches!(t, Value::Array(_))) {
                                out.get_or_insert_with(String::new).push_str(&v);
                            }
                        }
                    }
                    other => {
                        if let Some(v) = scalar(other) {
                            out.get_or_insert_with(String::new).push_str(&v);
                        }
                    }
                }
            }
            out
        }
        _ => None,
    }
}

/// The result of one command on one server.
enum ServerResult {
    Reply(Value),
    /// A server error reply: (code, detail), e.g. ("MOVED", "3999 127.0.0.1:6381").
    ErrorReply(String),
    /// Could not talk to the server.
    Failed(String),
}

struct Job {
    server: Server,
    args: Vec<String>,
    timeouts: RedisTimeouts,
    reply: mpsc::Sender<ServerResult>,
}

fn worker() -> &'static Mutex<mpsc::Sender<Job>> {
    static W: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    W.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("rexim-redis".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() else { return };
                let mut conns: HashMap<String, MultiplexedConnection> = HashMap::new();
                while let Ok(job) = rx.recv() {
                    let r = rt.block_on(run_job(&mut conns, &job));
                    let _ = job.reply.send(r);
                }
            })
            .ok();
        Mutex::new(tx)
    })
}

async fn run_job(conns: &mut HashMap<String, MultiplexedConnection>, job: &Job) -> ServerResult {
    let s = &job.server;
    let ckey = format!("{:?}", s);
    if !conns.contains_key(&ckey) {
        let addr = match &s.socket {
            Some(p) => ConnectionAddr::Unix(p.into()),
            None => ConnectionAddr::Tcp(s.host.clone(), s.port),
        };
        let info = ConnectionInfo {
            addr,
            redis: RedisConnectionInfo { db: s.db.unwrap_or(0), password: s.password.clone(), ..Default::default() },
        };
        let client = match redis::Client::open(info) {
            Ok(c) => c,
            Err(e) => return ServerResult::Failed(e.to_string()),
        };
        let cfg = AsyncConnectionConfig::new().set_connection_timeout(job.timeouts.connect).set_response_timeout(job.timeouts.command);
        let fut = client.get_multiplexed_async_connection_with_config(&cfg);
        match tokio::time::timeout(job.timeouts.connect + job.timeouts.command, fut).await {
            Ok(Ok(c)) => {
                conns.insert(ckey.clone(), c);
            }
            Ok(Err(e)) => return ServerResult::Failed(e.to_string()),
            Err(_) => return ServerResult::Failed("connection timed out".into()),
        }
    }
    let Some(conn) = conns.get_mut(&ckey) else { return ServerResult::Failed("no connection".into()) };
    let mut cmd = redis::Cmd::new();
    for a in &job.args {
        cmd.arg(a.as_bytes());
    }
    match tokio::time::timeout(job.timeouts.command, cmd.query_async::<Value>(conn)).await {
        Ok(Ok(v)) => ServerResult::Reply(v),
        Ok(Err(e)) => {
            if let Some(code) = e.code() {
                ServerResult::ErrorReply(match e.detail() {
                    Some(d) => format!("{code} {d}"),
                    None => code.to_string(),
                })
            } else {
                conns.remove(&ckey);
                ServerResult::Failed(e.to_string())
            }
        }
        Err(_) => {
            conns.remove(&ckey);
            ServerResult::Failed("command timed out".into())
        }
    }
}

fn run(server: Server, args: Vec<String>, timeouts: RedisTimeouts) -> ServerResult {
    let (tx, rx) = mpsc::channel();
    let sent = worker().lock().map(|w| w.send(Job { server, args, timeouts, reply: tx }).is_ok()).unwrap_or(false);
    if !sent {
        return ServerResult::Failed("redis worker unavailable".into());
    }
    match rx.recv_timeout(timeouts.connect + timeouts.command * 2) {
        Ok(r) => r,
        Err(_) => ServerResult::Failed("timed out".into()),
    }
}

/// One server attempt (perform_redis_search()): (outcome, defer_break).
fn perform(query: &str, item: &str, timeouts: RedisTimeouts) -> (LookupOutcome, bool) {
    let server = match parse_server(item) {
        Ok(s) => s,
        Err(m) => return (LookupOutcome::Defer(m), true),
    };
    let args = split_command(query);
    if args.is_empty() {
        return (LookupOutcome::Defer("REDIS: no command".into()), true);
    }
    match run(server, args, timeouts) {
        ServerResult::Reply(v) => match reply_to_result(&v) {
            Some(s) => (LookupOutcome::Found(s), false),
            None => (LookupOutcome::NotFound, false),
        },
        ServerResult::ErrorReply(text) => {
            let moved = text.starts_with("MOVED");
            (LookupOutcome::Defer(format!("REDIS: lookup result failed: {text}\n")), !moved)
        }
        ServerResult::Failed(why) => (LookupOutcome::Defer(format!("REDIS connection failed: {why}")), false),
    }
}

pub struct Redis;

impl Lookup for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }
    fn kind(&self) -> LookupKind {
        LookupKind::QueryStyle
    }
    fn find(&self, lookups: &mut Lookups, _file: &str, query: &str, opts: &[(String, String)], _env: &mut dyn LookupEnv) -> LookupOutcome {
        let timeouts = lookups.redis.timeouts;
        let global = lookups.redis_servers.clone();
        let mut query = query;
        // Old style: "servers=list; command".
        let servers: String = if let Some(r) = query.strip_prefix("servers") {
            let r = r.trim_start();
            let Some(r) = r.strip_prefix('=') else { return LookupOutcome::Defer("missing = after \"servers\" in Redis lookup".into()) };
            let r = r.trim_start();
            let Some(semi) = r.find(';') else { return LookupOutcome::Defer("missing ; after \"servers=\" in Redis lookup".into()) };
            if semi == 0 {
                return LookupOutcome::Defer(format!("\"servers=\" defines no servers in \"{query}\""));
            }
            query = &r[semi + 1..];
            r[..semi].to_string()
        } else if let Some((_, v)) = opts.iter().find(|(k, _)| k == "servers") {
            v.clone()
        } else if global.is_empty() {
            return LookupOutcome::Defer("no Redis servers defined (redis_servers option)".into());
        } else {
            global.clone()
        };
        let mut last = LookupOutcome::Defer(String::new());
        for item in ListIter::new(&servers, ListSep::Default) {
            // A bare host name refers to the full entry in redis_servers.
            let full = if item.contains('/') {
                item
            } else {
                match ListIter::new(&global, ListSep::Default).find(|g| g.starts_with(&item) && g[item.len()..].starts_with('/')) {
                    Some(g) => g,
                    None => return LookupOutcome::Defer(format!("no Redis server found for {item}")),
                }
            };
            let (o, defer_break) = perform(query, &full, timeouts);
            if !matches!(o, LookupOutcome::Defer(_)) || defer_break {
                return o;
            }
            if let LookupOutcome::Defer(m) = &o {
                lookups.log.push(m.trim_end().to_string());
            }
            last = o;
        }
        last
    }
    fn quote(&self, s: &str, _opt: Option<&str>) -> Option<String> {
        // Exim's redis_quote(): backslash before white space and backslash.
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if c.is_ascii_whitespace() || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        Some(out)
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({:?})", self.args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_items() {
        assert_eq!(parse_server("127.0.0.1//").unwrap(), Server { host: "127.0.0.1".into(), port: 6379, socket: None, db: None, password: None });
        let s = parse_server("127.0.0.1:6380/2/pw").unwrap();
        assert_eq!((s.port, s.db, s.password.as_deref()), (6380, Some(2), Some("pw")));
        let s = parse_server("(/tmp/redis.sock)//").unwrap();
        assert_eq!(s.socket.as_deref(), Some("/tmp/redis.sock"));
        assert_eq!(parse_server("127.0.0.1").unwrap_err(), "incomplete Redis server data: 127.0.0.1");
        assert_eq!(parse_server("127.0.0.1/x").unwrap_err(), "incomplete Redis server data: 127.0.0.1");
    }

    #[test]
    fn quoting_round_trips() {
        let q = Redis.quote("objvalue plus\\x", None).unwrap();
        assert_eq!(q, "objvalue\\ plus\\\\x");
        assert_eq!(split_command(&format!("set keyname {q}")), ["set", "keyname", "objvalue plus\\x"]);
    }

    #[test]
    fn reply_mapping() {
        assert_eq!(reply_to_result(&Value::Int(1)).as_deref(), Some("true"));
        assert_eq!(reply_to_result(&Value::Int(0)).as_deref(), Some("false"));
        assert_eq!(reply_to_result(&Value::Okay).as_deref(), Some("OK"));
        assert_eq!(reply_to_result(&Value::Nil).as_deref(), Some(""));
        let arr = Value::Array(vec![Value::BulkString(b"a".to_vec()), Value::Int(3), Value::Array(vec![Value::BulkString(b"b".to_vec())])]);
        assert_eq!(reply_to_result(&arr).as_deref(), Some("a\n3\n\nb"));
        assert_eq!(reply_to_result(&Value::Array(vec![])), None);
    }
}

/// Tests against a real redis-server (started on a free loopback port and
/// stopped by pid) and against fake servers for the failure modes.
#[cfg(test)]
mod live_tests {
    use super::*;
    use crate::dns::fake::FakeResolver;
    use crate::lookups::{LookupSpec, NoExpand};
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use std::time::Instant;

    struct RedisServer {
        child: Child,
        port: u16,
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    fn start_redis() -> Option<RedisServer> {
        if !std::path::Path::new("/usr/bin/redis-server").exists() {
            return None;
        }
        let port = free_port();
        let child = Command::new("/usr/bin/redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let s = RedisServer { child, port };
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// A server that answers every command with one fixed RESP reply.
    fn fake_server(reply: &'static str) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming().take(4).flatten() {
                std::thread::spawn(move || {
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    let mut w = s;
                    let mut line = String::new();
                    while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        // Reply once per command (a RESP array header).
                        if line.starts_with('*') {
                            let n: usize = line[1..].trim().parse().unwrap_or(0);
                            for _ in 0..n * 2 {
                                line.clear();
                                let _ = r.read_line(&mut line);
                            }
                            let _ = w.write_all(reply.as_bytes());
                        }
                        line.clear();
                    }
                });
            }
        });
        port
    }

    fn lookups(servers: String) -> Lookups {
        let mut l = Lookups::new(Arc::new(FakeResolver::default()));
        l.redis_servers = servers;
        l.redis.timeouts = RedisTimeouts { connect: Duration::from_millis(500), command: Duration::from_millis(500) };
        l
    }

    fn q(l: &mut Lookups, spec: &str, query: &str) -> LookupOutcome {
        l.query(&LookupSpec::parse(spec).unwrap(), query, &mut NoExpand).outcome
    }

    #[test]
    fn exim_2700_set_and_get() {
        let Some(srv) = start_redis() else { panic!("redis-server could not be started") };
        let mut l = lookups(format!("127.0.0.1::{}//", srv.port));
        let v = crate::lookups::quote("redis", "objvalue plus", None).unwrap();
        // Exim's test 2700 expects "OK" then "objvalue plus".
        assert_eq!(q(&mut l, "redis", &format!("set keyname {v}")), LookupOutcome::Found("OK".into()));
        assert_eq!(q(&mut l, "redis", "get keyname"), LookupOutcome::Found("objvalue plus".into()));
        assert_eq!(q(&mut l, "redis", "exists keyname"), LookupOutcome::Found("true".into()));
        assert_eq!(q(&mut l, "redis", "exists nokey"), LookupOutcome::Found("false".into()));
        assert_eq!(q(&mut l, "redis", "get nokey"), LookupOutcome::Found(String::new()));
        q(&mut l, "redis", "rpush lst a b");
        assert_eq!(q(&mut l, "redis", "lrange lst 0 -1"), LookupOutcome::Found("a\nb".into()));
        assert_eq!(q(&mut l, "redis", "lrange nolist 0 -1"), LookupOutcome::NotFound);
        match q(&mut l, "redis", "nosuchcommand x") {
            LookupOutcome::Defer(m) => assert!(m.starts_with("REDIS: lookup result failed: ERR"), "{m}"),
            o => panic!("{o:?}"),
        }
        // Database selection and per-query servers.
        let mut l2 = lookups(String::new());
        assert_eq!(q(&mut l2, "redis", "get keyname"), LookupOutcome::Defer("no Redis servers defined (redis_servers option)".into()));
        let spec = format!("redis,servers=127.0.0.1::{}/3/", srv.port);
        assert_eq!(q(&mut l2, &spec, "set k3 v3"), LookupOutcome::Found("OK".into()));
        assert_eq!(q(&mut l2, &spec, "get k3"), LookupOutcome::Found("v3".into()));
        assert_eq!(q(&mut l2, &format!("redis,servers=127.0.0.1::{}//", srv.port), "get k3"), LookupOutcome::Found(String::new()));
        assert_eq!(q(&mut l2, "redis", &format!("servers=127.0.0.1::{}/3/; get k3", srv.port)), LookupOutcome::Found("v3".into()));
        assert_eq!(q(&mut l2, "redis,servers=nosuch", "get k3"), LookupOutcome::Defer("no Redis server found for nosuch".into()));
    }

    #[test]
    fn unix_socket_server() {
        let dir = std::env::temp_dir().join(format!("rexim-redis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("r.sock");
        let child = Command::new("/usr/bin/redis-server")
            .args(["--port", "0", "--unixsocket", sock.to_str().unwrap(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        let _srv = RedisServer { child, port: 0 };
        for _ in 0..100 {
            if sock.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut l = lookups(format!("({})/1/", sock.display()));
        assert_eq!(q(&mut l, "redis", "set a\\ b c"), LookupOutcome::Found("OK".into()));
        assert_eq!(q(&mut l, "redis", "get a\\ b"), LookupOutcome::Found("c".into()));
        drop(_srv);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn server_down_defers_quickly_and_next_server_is_tried() {
        let dead = free_port();
        let mut l = lookups(format!("127.0.0.1::{dead}//"));
        let t = Instant::now();
        match q(&mut l, "redis", "get k") {
            LookupOutcome::Defer(m) => assert!(m.starts_with("REDIS connection failed"), "{m}"),
            o => panic!("{o:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(3));
        // A silent server: the command time-out gives DEFER, not a hang.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let sp = silent.local_addr().unwrap().port();
        let mut l = lookups(format!("127.0.0.1::{sp}//"));
        let t = Instant::now();
        assert!(matches!(q(&mut l, "redis", "get k"), LookupOutcome::Defer(_)));
        assert!(t.elapsed() < Duration::from_secs(4));
        drop(silent);
        // MOVED: Exim moves on to the next server in the list.
        let moved = fake_server("-MOVED 3999 127.0.0.1:1\r\n");
        let good = fake_server("$5\r\nvalue\r\n");
        let mut l = lookups(format!("127.0.0.1::{moved}// : 127.0.0.1::{dead}// : 127.0.0.1::{good}//"));
        assert_eq!(q(&mut l, "redis", "get k"), LookupOutcome::Found("value".into()));
        // Any other error reply stops at once.
        let err = fake_server("-ERR bad\r\n");
        let mut l = lookups(format!("127.0.0.1::{err}// : 127.0.0.1::{good}//"));
        assert_eq!(q(&mut l, "redis", "get k"), LookupOutcome::Defer("REDIS: lookup result failed: ERR bad\n".into()));
        // A slash-less item names an entry of redis_servers (lf_sqlperform()).
        let mut l = lookups("127.0.0.1".into());
        assert_eq!(q(&mut l, "redis", "get k"), LookupOutcome::Defer("no Redis server found for 127.0.0.1".into()));
        let mut l = lookups("127.0.0.1/x".into());
        assert_eq!(q(&mut l, "redis", "get k"), LookupOutcome::Defer("incomplete Redis server data: 127.0.0.1".into()));
    }
}
