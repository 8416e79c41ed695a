//! Running the commands of one script in its work directory, the way Exim's
//! runtest does: exim through DIR/eximdir/exim with -C DIR/test-config,
//! daemons in the background, the client and server helpers, file writing
//! commands and plain shell commands.

use crate::client;
use crate::escapes::unescape_perl;
use crate::script::{decode, encode, Command};
use crate::server;
use crate::subst::{substitute, Params};
use regex::Regex;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one command may run before it is killed as hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A command that could not run as the script wants: the test fails.
#[derive(Debug)]
pub struct Failure(pub String);

pub struct Context {
    pub p: Params,
    pub dir: PathBuf,
    pub binary: PathBuf,
    /// Local loopback addresses a scripted server listens on.
    pub listen_ips: Vec<String>,
    server: Option<JoinHandle<(i32, Vec<u8>)>>,
    daemons: Vec<Child>,
    background: Vec<Child>,
    /// Process groups of everything started (each command leads its own),
    /// killed at the end of the test so nothing outlives it (a delivery
    /// loop, a background delivery still running...).
    groups: Vec<i32>,
    pub warnings: Vec<String>,
}

fn exim_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(?:(\d+)\s+)?(sudo(?:\s+-\w+)*\s+)?(exim(?:_\w+)?)(\s.*)?$").unwrap()
    })
}

fn msg_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\$msg(\d+)").unwrap())
}

/// Exit status as the shell reports it (128+signal for a killed process).
fn status_code(s: std::process::ExitStatus) -> i32 {
    s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
}

impl Context {
    pub fn new(p: Params, binary: PathBuf, listen_ips: Vec<String>) -> Context {
        let dir = PathBuf::from(&p.dir);
        Context { p, dir, binary, listen_ips, server: None, daemons: Vec::new(), background: Vec::new(), groups: Vec::new(), warnings: Vec::new() }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn append(&self, name: &str, data: &[u8]) -> Result<(), Failure> {
        let mut f = OpenOptions::new().create(true).append(true).open(self.file(name)).map_err(|e| Failure(format!("{}: {}", name, e)))?;
        f.write_all(data).map_err(|e| Failure(format!("{}: {}", name, e)))
    }

    fn output_files(&self) -> Result<(File, File), Failure> {
        let open = |n: &str| OpenOptions::new().create(true).append(true).open(self.file(n)).map_err(|e| Failure(format!("{}: {}", n, e)));
        Ok((open("test-stdout")?, open("test-stderr")?))
    }

    /// The environment every program run by a test gets.
    fn base_command(&self, shell_text: &str) -> Proc {
        let mut c = Proc::new("/bin/sh");
        c.arg("-c").arg(shell_text).current_dir(&self.dir);
        // SAFETY: setpgid is async-signal-safe; it makes the command the
        // leader of a new process group, which its children inherit.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut c, || {
                libc::setpgid(0, 0);
                Ok(())
            });
        }
        // A clean environment, the same for every run: what Exim's debug
        // output and ${env} see must not depend on the developer's shell.
        c.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin")
            .env("HOME", &self.dir)
            .env("REXIM_TESTSUITE", &self.dir)
            .env("REXIM_FAKE_DNS", self.dir.join("dnszones"));
        c
    }

    /// Message ids in the spool, oldest first (ids sort by time).
    pub fn spool_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let input = self.dir.join("spool/input");
        let mut dirs = vec![input.clone()];
        if let Ok(rd) = fs::read_dir(&input) {
            dirs.extend(rd.flatten().filter(|e| e.path().is_dir()).map(|e| e.path()));
        }
        for d in dirs {
            if let Ok(rd) = fs::read_dir(&d) {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if let Some(id) = name.strip_suffix("-H") {
                        ids.push(id.to_string());
                    }
                }
            }
        }
        ids.sort();
        ids
    }

    /// Data lines with the standard substitutions and the :eval:, :noeol:
    /// and :sleep: directives; sleeps are returned as (offset, seconds).
    fn stdin_data(&self, data: &[String]) -> Vec<(Vec<u8>, u64)> {
        let mut chunks = Vec::new();
        let mut cur = Vec::new();
        for line in data {
            let line = substitute(&self.p, line);
            if let Some(rest) = line.strip_prefix(":sleep:") {
                chunks.push((std::mem::take(&mut cur), rest.trim().parse().unwrap_or(1)));
            } else if let Some(rest) = line.strip_prefix(":eval:") {
                cur.extend(unescape_perl(rest));
            } else if let Some(rest) = line.strip_prefix(":noeol:") {
                cur.extend(encode(rest));
            } else {
                cur.extend(encode(&line));
                cur.push(b'\n');
            }
        }
        chunks.push((cur, 0));
        chunks
    }

    /// Run a shell command line with stdin data, appending its output to
    /// the test's stdout and stderr. `close_delay` keeps stdin open for a
    /// while after the data (runtest's "N exim").
    fn run_shell(&mut self, text: &str, data: &[String], close_delay: u64) -> Result<i32, Failure> {
        let (out, err) = self.output_files()?;
        let mut cmd = self.base_command(text);
        cmd.stdin(Stdio::piped()).stdout(out).stderr(err);
        let mut child = cmd.spawn().map_err(|e| Failure(format!("cannot run /bin/sh: {}", e)))?;
        self.groups.push(child.id() as i32);
        let chunks = self.stdin_data(data);
        if let Some(mut stdin) = child.stdin.take() {
            for (bytes, sleep) in chunks {
                let _ = stdin.write_all(&bytes);
                let _ = stdin.flush();
                if sleep > 0 {
                    std::thread::sleep(Duration::from_secs(sleep));
                }
            }
            if close_delay > 0 {
                std::thread::sleep(Duration::from_secs(close_delay));
            }
        }
        match self.wait_watched(&mut child, COMMAND_TIMEOUT) {
            Ok(rc) => Ok(rc),
            Err(Watch::Runaway) => Err(Failure(format!("runaway: more than {} processes of the binary, all killed: {}", MAX_PROCESSES, text))),
            Err(Watch::Timeout) => Err(Failure(format!("command timed out after {}s: {}", COMMAND_TIMEOUT.as_secs(), text))),
        }
    }

    fn exim_command_line(&self, args: &str, env: &str) -> String {
        let exim = self.dir.join("eximdir/exim");
        format!(
            "{}{} -DEXIM_PATH={} -C {}{}",
            env,
            exim.display(),
            exim.display(),
            self.dir.join("test-config").display(),
            args
        )
    }

    fn run_exim(&mut self, cmd: &Command, text: &str) -> Result<i32, Failure> {
        let c = exim_re().captures(text).ok_or_else(|| Failure(format!("bad exim command: {}", text)))?;
        let env = c.get(1).map(|m| m.as_str()).unwrap_or("");
        let delay: u64 = c.get(2).and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
        let mut args = c.get(5).map(|m| m.as_str().to_string()).unwrap_or_default();
        if msg_re().is_match(&args) {
            let ids = self.spool_ids();
            args = msg_re()
                .replace_all(&args, |m: &regex::Captures| {
                    let n: usize = m[1].parse().unwrap_or(0);
                    ids.get(n.wrapping_sub(1)).cloned().unwrap_or_else(|| m[0].to_string())
                })
                .into_owned();
        }
        let data = cmd.data.as_deref().unwrap_or(&[]);
        let padded = format!("{} ", args);
        let is_daemon = padded.contains(" -DSERVER=server ") && !padded.contains(" -DNOTDAEMON ");
        if is_daemon {
            return self.start_daemon(&args, env);
        }
        let line = self.exim_command_line(&args, env);
        let rc = self.run_shell(&line, data, delay)?;
        self.finish_server()?;
        Ok(rc)
    }

    /// `exim -DSERVER=server -bd ...`: start it and wait until it has written
    /// its pid file; it runs until `killdaemon` or the end of the test.
    fn start_daemon(&mut self, args: &str, env: &str) -> Result<i32, Failure> {
        let pidfile = self.dir.join("spool/exim-daemon.pid");
        let mut args = args.to_string();
        if !args.contains(" -oP ") {
            args = format!("{} -oP {}", args, pidfile.display());
        }
        let line = self.exim_command_line(&args, env);
        let (out, err) = self.output_files()?;
        let mut cmd = self.base_command(&format!("exec {}", line));
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let mut child = cmd.spawn().map_err(|e| Failure(format!("cannot start daemon: {}", e)))?;
        self.groups.push(child.id() as i32);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut rc = 0;
        loop {
            if pidfile.exists() {
                break;
            }
            if let Ok(Some(st)) = child.try_wait() {
                rc = status_code(st);
                if rc != 0 || pidfile.exists() {
                    break;
                }
            }
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        self.daemons.push(child);
        Ok(rc)
    }

    /// Stop the daemons the test started: SIGINT to the pids in the spool's
    /// pid files and to the processes we spawned, then wait for them.
    pub fn kill_daemons(&mut self) {
        let mut pids = Vec::new();
        if let Ok(rd) = fs::read_dir(self.dir.join("spool")) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".pid") {
                    if let Ok(text) = fs::read_to_string(e.path()) {
                        if let Ok(pid) = text.trim().parse::<i32>() {
                            pids.push(pid);
                        }
                    }
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        for pid in &pids {
            // SAFETY: plain kill(2) on a pid our own test started.
            unsafe { libc::kill(*pid, libc::SIGINT) };
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for pid in &pids {
            // SAFETY: signal 0 only checks that the process exists.
            while unsafe { libc::kill(*pid, 0) } == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if unsafe { libc::kill(*pid, 0) } == 0 {
                // SAFETY: as above.
                unsafe { libc::kill(*pid, libc::SIGKILL) };
            }
        }
        for mut child in self.daemons.drain(..) {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }

    /// Wait for a running scripted server; its transcript goes to
    /// test-stdout-server.
    fn finish_server(&mut self) -> Result<(), Failure> {
        if let Some(h) = self.server.take() {
            let (rc, out) = h.join().map_err(|_| Failure("server thread panicked".into()))?;
            self.append("test-stdout-server", &out)?;
            if rc != 0 {
                return Err(Failure(format!("Server return code {}", rc)));
            }
        }
        Ok(())
    }

    fn start_server(&mut self, args: &[&str], data: &[String]) -> Result<i32, Failure> {
        self.finish_server()?;
        let a = server::parse_args(args).map_err(Failure)?;
        if a.initial_pause > 0 {
            std::thread::sleep(Duration::from_secs(a.initial_pause));
        }
        let (listener, banner) = server::listen(&a, &self.listen_ips).map_err(Failure)?;
        let script: Vec<String> = data.iter().map(|l| substitute(&self.p, l)).collect();
        self.server = Some(std::thread::spawn(move || server::run(a, listener, banner, script)));
        Ok(0)
    }

    fn run_client(&mut self, word: &str, args: &[&str], data: &[String]) -> Result<i32, Failure> {
        let mut out = Vec::new();
        let rc = match client::parse_args(args) {
            Ok(a) => {
                let script: Vec<String> = data.iter().map(|l| substitute(&self.p, l)).collect();
                client::run(word, &a, &script, &self.dir, &mut out)
            }
            Err(e) => return Err(Failure(e)),
        };
        self.append("test-stdout", &out)?;
        self.finish_server()?;
        Ok(rc)
    }

    /// `write`/`catwrite FILE [NxM[=text]]...`: data lines above `++++`,
    /// then the generated lines, then the lines below.
    fn write_file(&mut self, args: &[&str], data: &[String], cat: bool) -> Result<i32, Failure> {
        let name = args.first().ok_or_else(|| Failure("write: no file name".into()))?;
        let mut body: Vec<u8> = Vec::new();
        let split = data.iter().position(|l| l == "++++");
        let (pre, post) = match split {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &data[data.len()..]),
        };
        for l in pre {
            body.extend(encode(&substitute(&self.p, l)));
            body.push(b'\n');
        }
        for spec in &args[1..] {
            let (size, start) = match spec.split_once('=') {
                Some((s, t)) => (s, t.replace('_', " ")),
                None => (*spec, String::new()),
            };
            let (n, m) = size.split_once('x').ok_or_else(|| Failure(format!("write: bad size {}", spec)))?;
            let n: usize = n.parse().map_err(|_| Failure(format!("write: bad size {}", spec)))?;
            let m: usize = m.parse().map_err(|_| Failure(format!("write: bad size {}", spec)))?;
            let mut line = start.clone().into_bytes();
            line.truncate(m);
            line.resize(m, b'a');
            for _ in 0..n {
                body.extend_from_slice(&line);
                body.push(b'\n');
            }
        }
        for l in post {
            body.extend(encode(&substitute(&self.p, l)));
            body.push(b'\n');
        }
        let path = self.dir.join(name);
        fs::write(&path, &body).map_err(|e| Failure(format!("write {}: {}", path.display(), e)))?;
        if cat {
            self.append("test-stdout", &body)?;
        }
        Ok(0)
    }

    fn killdaemon(&mut self) -> Result<i32, Failure> {
        self.kill_daemons();
        Ok(0)
    }

    /// Run one command; returns its exit status.
    pub fn run(&mut self, cmd: &Command) -> Result<i32, Failure> {
        if cmd.text.starts_with("### ") {
            // runtest copies the line to the server's outputs as well,
            // whether or not a server runs (its expected files show them
            // after the "******** SERVER ********" line).
            let line = format!("{}\n", cmd.text);
            for f in ["test-stdout", "test-stderr", "test-stdout-server", "test-stderr-server"] {
                self.append(f, line.as_bytes())?;
            }
            return Ok(0);
        }
        let text = substitute(&self.p, &cmd.text);
        let data = cmd.data.as_deref().unwrap_or(&[]);
        let word = crate::script::command_word(&text).to_string();
        let words: Vec<&str> = text.split_whitespace().collect();
        let args: Vec<&str> = words.iter().skip_while(|w| **w != word).skip(1).copied().collect();
        match word.as_str() {
            "exim" | "exim_exim" => self.run_exim(cmd, &text),
            "client" | "client-ssl" | "client-gnutls" | "client-anytls" => self.run_client(&word, &args, data),
            "server" => self.start_server(&args, data),
            "write" => self.write_file(&args, data, false),
            "catwrite" => self.write_file(&args, data, true),
            "killdaemon" => self.killdaemon(),
            "sleep" => {
                std::thread::sleep(Duration::from_secs(args.first().and_then(|s| s.parse().ok()).unwrap_or(1)));
                Ok(0)
            }
            "millisleep" => {
                std::thread::sleep(Duration::from_millis(args.first().and_then(|s| s.parse().ok()).unwrap_or(1)));
                Ok(0)
            }
            "echo" => {
                // runtest shows echo text on the screen only.
                Ok(0)
            }
            "gnutls" => Ok(0),
            "background" => {
                let line = data.first().map(|l| substitute(&self.p, l)).unwrap_or_default();
                let (out, err) = self.output_files()?;
                let mut c = self.base_command(&format!("exec {}", line));
                c.stdin(Stdio::null()).stdout(out).stderr(err);
                let child = c.spawn().map_err(|e| Failure(format!("background: {}", e)))?;
                self.groups.push(child.id() as i32);
                self.background.push(child);
                Ok(0)
            }
            "perl" => self.run_shell("perl", data, 0),
            "cat" | "chmod" | "chown" | "cp" | "du" | "ln" | "ls" | "mkdir" | "mkfifo" | "rm" | "rmdir" | "touch" | "sudo" | "cd" | "chgrp" | "mv" | "sh" | "ls -l" => {
                let shell = text.strip_prefix("sudo ").unwrap_or(&text).to_string();
                self.run_shell(&shell, &[], 0)
            }
            "exim_lock" | "exinext" | "exigrep" | "exiqgrep" | "dbmbuild" | "dump" | "exim_dbmbuild" | "exim_dumpdb" | "exim_fixdb" | "exim_tidydb" | "eximstats" | "exicyclog" | "exipick" | "exiqsumm" | "exim_checkaccess" => self.run_utility(&word, &args),
            _ => Err(Failure(format!("unknown command \"{}\"", word))),
        }
    }

    /// Exim's utilities are looked for beside the binary, like runtest does.
    fn run_utility(&mut self, word: &str, args: &[&str]) -> Result<i32, Failure> {
        let (name, mut argv): (&str, Vec<String>) = match word {
            "dbmbuild" => ("exim_dbmbuild", args.iter().map(|s| s.to_string()).collect()),
            "dump" => ("exim_dumpdb", std::iter::once(self.dir.join("spool").display().to_string()).chain(args.iter().map(|s| s.to_string())).collect()),
            "exinext" => ("exinext", std::iter::once(format!("-C {}", self.dir.join("test-config").display())).chain(args.iter().map(|s| s.to_string())).collect()),
            "exigrep" => ("exigrep", args.iter().map(|s| s.to_string()).chain(std::iter::once(self.dir.join("spool/log/mainlog").display().to_string())).collect()),
            other => (other, args.iter().map(|s| s.to_string()).collect()),
        };
        let real = self.binary.canonicalize().unwrap_or_else(|_| self.binary.clone());
        let dir = real.parent().unwrap_or(Path::new("/"));
        let tool = dir.join(name);
        if !tool.exists() {
            return Err(Failure(format!("utility {} not found beside the binary ({})", name, dir.display())));
        }
        argv.insert(0, tool.display().to_string());
        self.run_shell(&argv.join(" "), &[], 0)
    }

    /// End of the script: stop everything the test started.
    pub fn cleanup(&mut self) -> Result<(), Failure> {
        let server = self.finish_server();
        self.kill_daemons();
        for mut c in self.background.drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
        for g in self.groups.drain(..) {
            // SAFETY: kill(2) of a process group this test created.
            unsafe { libc::kill(-g, libc::SIGKILL) };
        }
        self.kill_strays();
        server
    }

    /// Wait for a command, killing it (with its process group) when it runs
    /// too long, and everything of the test's binary when it forks without
    /// bound (a delivery loop: a test-harness build would not loop).
    fn wait_watched(&self, child: &mut Child, limit: Duration) -> Result<i32, Watch> {
        let deadline = Instant::now() + limit;
        let mut next_count = Instant::now() + Duration::from_millis(250);
        loop {
            match child.try_wait() {
                Ok(Some(st)) => return Ok(status_code(st)),
                Ok(None) => {}
                Err(_) => return Err(Watch::Timeout),
            }
            let now = Instant::now();
            let runaway = now >= next_count && self.binary_processes().len() > MAX_PROCESSES;
            if runaway || now > deadline {
                // SAFETY: the child leads its own process group (see
                // base_command): kill it with everything it started.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.kill();
                self.kill_strays();
                let _ = child.wait();
                return Err(if runaway { Watch::Runaway } else { Watch::Timeout });
            }
            if now >= next_count {
                next_count = now + Duration::from_millis(250);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Pids of the processes running this test's DIR/eximdir/exim.
    fn binary_processes(&self) -> Vec<i32> {
        let marker = self.dir.join("eximdir/exim").display().to_string().into_bytes();
        let mut pids = Vec::new();
        let Ok(rd) = fs::read_dir("/proc") else { return pids };
        for e in rd.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            if let Ok(cmd) = fs::read(e.path().join("cmdline")) {
                if cmd.windows(marker.len()).any(|w| w == marker.as_slice()) {
                    pids.push(pid);
                }
            }
        }
        pids
    }

    /// Processes that left the test's process groups (setsid) but still
    /// run the binary from this test's DIR/eximdir: killed by pid.
    fn kill_strays(&self) {
        // Twice: a process may fork while the first pass runs.
        for _ in 0..2 {
            for pid in self.binary_processes() {
                // SAFETY: kill(2) of a process running this test's binary link.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }

    pub fn read(&self, name: &str) -> Option<String> {
        fs::read(self.file(name)).ok().map(|b| decode(&b))
    }
}

enum Watch {
    Timeout,
    Runaway,
}

/// More processes of the binary than this at once is a runaway test.
const MAX_PROCESSES: usize = 64;

impl Drop for Context {
    fn drop(&mut self) {
        let _ = self.cleanup();
    }
}
