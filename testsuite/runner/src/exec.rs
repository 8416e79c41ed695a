//! Running the commands of one script in its work directory, the way Exim's
//! runtest does: exim through DIR/eximdir/exim with -C DIR/test-config,
//! daemons in the background, the client and server helpers, file writing
//! commands and plain shell commands.

use crate::client;
use crate::dump;
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
    /// `--caller`: exim commands without `sudo` run as this user.
    pub caller: Option<crate::caller::Caller>,
}

fn exim_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(?:(\d+)\s+)?(sudo(?:\s+-\w+)*\s+)?(exim(?:_\w+)?)(\s.*)?$").unwrap()
    })
}

/// A message id's sort key: time, fraction, pid (`tttttt-pppppp-ff`).
fn id_order(id: &str) -> (&str, &str, &str) {
    match (id.get(..6), id.get(7..13), id.get(14..)) {
        (Some(t), Some(p), Some(f)) => (t, f, p),
        _ => (id, "", ""),
    }
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
        Context { p, dir, binary, listen_ips, server: None, daemons: Vec::new(), background: Vec::new(), groups: Vec::new(), warnings: Vec::new(), caller: None }
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
            .env("PATH", crate::requires::TEST_PATH)
            .env("HOME", &self.dir)
            .env("REXIM_TESTSUITE", &self.dir)
            .env("REXIM_FAKE_DNS", self.dir.join("dnszones"));
        c
    }

    /// `base_command` running as the caller (`--caller`) when there is one.
    fn caller_command(&self, shell_text: &str) -> Proc {
        let mut c = self.base_command(shell_text);
        if let Some(who) = &self.caller {
            let groups: Vec<libc::gid_t> = who.groups.clone();
            let (gid, uid) = (who.gid, who.uid);
            // SAFETY: become_caller makes only async-signal-safe calls.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut c, move || crate::caller::become_caller(&groups, gid, uid));
            }
        }
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
        // Oldest first: by time, then the fraction of a second. The pid in
        // the middle goes last, as pids wrap round (a test that makes many
        // messages in one second can see 32767 followed by 300).
        ids.sort_by(|a, b| id_order(a).cmp(&id_order(b)));
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
        self.run_shell_as(text, data, close_delay, false)
    }

    /// `run_shell`, as the caller when `as_caller` (and there is one).
    fn run_shell_as(&mut self, text: &str, data: &[String], close_delay: u64, as_caller: bool) -> Result<i32, Failure> {
        let (out, err) = self.output_files()?;
        let mut cmd = if as_caller { self.caller_command(text) } else { self.base_command(text) };
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

    /// The binary with the test's conf. EXIM_PATH is already substituted
    /// in the conf; runtest's `-DEXIM_PATH` is left out for a non-root
    /// caller, for whom any `-D` makes a real Exim give up privilege.
    fn exim_command_line(&self, args: &str, env: &str, as_caller: bool) -> String {
        let exim = self.dir.join("eximdir/exim");
        let macro_def = if as_caller { String::new() } else { format!(" -DEXIM_PATH={}", exim.display()) };
        format!("{}{}{} -C {}{}", env, exim.display(), macro_def, self.dir.join("test-config").display(), args)
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
        let as_caller = self.caller.is_some() && c.get(3).is_none();
        let padded = format!("{} ", args);
        let is_daemon = padded.contains(" -DSERVER=server ") && !padded.contains(" -DNOTDAEMON ");
        if is_daemon {
            return self.start_daemon(&args, env, as_caller);
        }
        let line = self.exim_command_line(&args, env, as_caller);
        let rc = self.run_shell_as(&line, data, delay, as_caller)?;
        self.finish_server()?;
        Ok(rc)
    }

    /// `exim -DSERVER=server -bd ...`: start it and wait until it has written
    /// its pid file; it runs until `killdaemon` or the end of the test.
    fn start_daemon(&mut self, args: &str, env: &str, as_caller: bool) -> Result<i32, Failure> {
        let pidfile = self.dir.join("spool/exim-daemon.pid");
        let mut args = args.to_string();
        if !args.contains(" -oP ") {
            args = format!("{} -oP {}", args, pidfile.display());
        }
        let line = self.exim_command_line(&args, env, as_caller);
        let (out, _) = self.output_files()?;
        // runtest sends a daemon's standard error to the server's file;
        // its expected stderr files show the separator even when the
        // daemon wrote nothing there.
        let err = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.file("test-stderr-server"))
            .map_err(|e| Failure(format!("test-stderr-server: {}", e)))?;
        let mut cmd = if as_caller { self.caller_command(&format!("exec {}", line)) } else { self.base_command(&format!("exec {}", line)) };
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
        pids.retain(|&p| p > 1 && p != std::process::id() as i32);
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
        let (listener, banner) = server::listen(&a, &self.listen_ips, &self.dir).map_err(Failure)?;
        if let Some(pidfile) = &a.pidfile {
            // The scripted server is a thread of the runner: the pid written
            // is the runner's own, which kill_daemons never signals.
            let path = self.dir.join(pidfile);
            fs::write(&path, format!("{}\n", std::process::id())).map_err(|e| Failure(format!("server -oP {}: {}", path.display(), e)))?;
        }
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
            // As runtest: m counts the newline, and the start text is
            // written whole even when it is longer.
            let mut line = start.clone().into_bytes();
            line.resize(line.len() + m.saturating_sub(start.len() + 1), b'a');
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

    /// `killdaemon` stops the exim daemons and what `background` started
    /// (2700-redis stops its redis-server this way, 2610-MySQL its mysqld).
    fn killdaemon(&mut self) -> Result<i32, Failure> {
        self.kill_daemons();
        self.stop_background();
        Ok(0)
    }

    /// `background`: run the one data line in parallel with the following
    /// commands (an external daemon such as redis-server). Its output goes
    /// to DIR/test-background, which is not compared. The runner waits
    /// until it listens on a new TCP port (it is about to be used), exits,
    /// or a few seconds pass.
    fn start_background(&mut self, data: &[String]) -> Result<i32, Failure> {
        let line = data.first().map(|l| substitute(&self.p, l)).ok_or_else(|| Failure("background: no command line".into()))?;
        let before = listening_ports();
        let log = OpenOptions::new().create(true).append(true).open(self.file("test-background")).map_err(|e| Failure(format!("test-background: {}", e)))?;
        let log2 = log.try_clone().map_err(|e| Failure(format!("test-background: {}", e)))?;
        let mut c = self.base_command(&format!("exec {}", line));
        c.stdin(Stdio::null()).stdout(log).stderr(log2);
        let mut child = c.spawn().map_err(|e| Failure(format!("background: {}", e)))?;
        self.groups.push(child.id() as i32);
        let deadline = Instant::now() + BACKGROUND_START;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) || listening_ports().difference(&before).next().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.background.push(child);
        Ok(0)
    }

    /// SIGINT to the background processes (a daemon's orderly shutdown),
    /// SIGKILL to what is left after a few seconds.
    fn stop_background(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        for c in &self.background {
            // SAFETY: kill(2) of a child this test started.
            unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
        }
        for mut c in self.background.drain(..) {
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
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
            "background" => self.start_background(data),
            "perl" => self.run_shell("perl", data, 0),
            "cat" | "chmod" | "chown" | "cp" | "du" | "ln" | "ls" | "mkdir" | "mkfifo" | "rm" | "rmdir" | "touch" | "sudo" | "cd" | "chgrp" | "mv" | "sh" | "ls -l" => {
                let shell = text.strip_prefix("sudo ").unwrap_or(&text).to_string();
                self.run_shell(&shell, &[], 0)
            }
            "exim_lock" | "exinext" | "exigrep" | "exiqgrep" | "dbmbuild" | "dump" | "exim_dbmbuild" | "exim_dumpdb" | "exim_fixdb" | "exim_tidydb" | "eximstats" | "exicyclog" | "exipick" | "exiqsumm" | "exim_checkaccess" => self.run_utility(&word, &args),
            _ => Err(Failure(format!("unknown command \"{}\"", word))),
        }
    }

    /// Exim's utilities as runtest runs them: `dump NAME` (exim_dumpdb,
    /// or rexim's databases read by the runner), `exim_lock`, `exinext`
    /// (with the test's binary and conf), `exigrep` (on the mainlog),
    /// `exiqgrep`, `dbmbuild` (exim_dbmbuild, then its exit code on
    /// stdout) and the others, run in DIR.
    fn run_utility(&mut self, word: &str, args: &[&str]) -> Result<i32, Failure> {
        let exim = self.dir.join("eximdir/exim").display().to_string();
        let conf = self.dir.join("test-config").display().to_string();
        if word == "dump" {
            return self.dump(args);
        }
        let name = utility_program(word);
        let tool = find_utility(&self.binary, name).ok_or_else(|| Failure(format!("utility {} not found", name)))?;
        let tool = tool.display().to_string();
        let mut argv: Vec<String> = vec![tool];
        match word {
            "exinext" => argv.extend([format!("-DEXIM_PATH={}", exim), "-C".into(), conf]),
            "exiqgrep" => argv.extend(["-E".into(), exim, "-C".into(), conf]),
            _ => {}
        }
        argv.extend(args.iter().map(|a| a.to_string()));
        if word == "exigrep" || word == "eximstats" {
            argv.push(self.dir.join("spool/log/mainlog").display().to_string());
        }
        let line = argv.join(" ");
        // runtest shows these tools' exit codes on stdout instead of
        // checking them (exim_dbmbuild's complaints go there too).
        match word {
            "dbmbuild" | "exim_dbmbuild" | "exigrep" | "eximstats" | "exiqgrep" => {
                let line = if name == "exim_dbmbuild" { format!("{} 2>&1", line) } else { line };
                let rc = self.run_shell(&line, &[], 0)?;
                self.append("test-stdout", format!("{} exit code = {}\n", name, rc).as_bytes())?;
                Ok(0)
            }
            _ => self.run_shell(&line, &[], 0),
        }
    }

    /// `dump NAME`: the hints database in exim_dumpdb's format, sorted as
    /// runtest sorts it, appended to test-stdout.
    fn dump(&mut self, args: &[&str]) -> Result<i32, Failure> {
        let name = *args.first().ok_or_else(|| Failure("dump: no database name".into()))?;
        if !dump::known_name(name) {
            return Err(Failure(format!("dump: unknown database \"{}\"", name)));
        }
        let spool = self.dir.join("spool");
        let raw = if crate::skiplist::binary_kind(&self.binary) == "rexim" {
            dump::rexim_dump(&spool, name).map_err(|e| Failure(format!("dump {}: {}", name, e)))?
        } else {
            let tool = find_utility(&self.binary, "exim_dumpdb").ok_or_else(|| Failure("utility exim_dumpdb not found".into()))?;
            let out = self
                .base_command(&format!("{} {} {}", tool.display(), spool.display(), name))
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| Failure(format!("exim_dumpdb: {}", e)))?;
            decode(&out.stdout)
        };
        self.append("test-stdout", &encode(&dump::for_stdout(name, &raw)))?;
        Ok(0)
    }

    /// End of the script: stop everything the test started.
    pub fn cleanup(&mut self) -> Result<(), Failure> {
        let server = self.finish_server();
        self.kill_daemons();
        self.stop_background();
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

    /// Processes that left the test's process groups (setsid, a daemon
    /// that forks into the background like `redis-server --daemonize yes`)
    /// but still run the binary from this test's DIR/eximdir, name DIR on
    /// their command line or work in DIR: killed by pid.
    fn kill_strays(&self) {
        // Twice: a process may fork while the first pass runs.
        for _ in 0..2 {
            for pid in self.test_processes() {
                // SAFETY: kill(2) of a process that belongs to this test.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }

    /// Pids of the processes that belong to this test (see kill_strays),
    /// never the runner itself.
    fn test_processes(&self) -> Vec<i32> {
        let marker = self.dir.display().to_string();
        let own = std::process::id() as i32;
        let mut pids = Vec::new();
        let Ok(rd) = fs::read_dir("/proc") else { return pids };
        for e in rd.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            if pid == own {
                continue;
            }
            let in_cmdline = fs::read(e.path().join("cmdline")).map(|c| c.split(|&b| b == 0).any(|arg| mentions_dir(arg, marker.as_bytes()))).unwrap_or(false);
            let in_cwd = fs::read_link(e.path().join("cwd")).map(|c| c.starts_with(&self.dir)).unwrap_or(false);
            if in_cmdline || in_cwd {
                pids.push(pid);
            }
        }
        pids
    }

    pub fn read(&self, name: &str) -> Option<String> {
        fs::read(self.file(name)).ok().map(|b| decode(&b))
    }
}

/// `arg` names DIR or a path below it (DIR itself ends no word early:
/// `/x/runs/test` must not match `/x/runs/test2`).
fn mentions_dir(arg: &[u8], dir: &[u8]) -> bool {
    let mut from = 0;
    while let Some(i) = arg[from..].windows(dir.len()).position(|w| w == dir) {
        let end = from + i + dir.len();
        if arg.get(end).map(|&b| b == b'/' || !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')).unwrap_or(true) {
            return true;
        }
        from = from + i + 1;
    }
    false
}

/// How long `background` waits for its program to start listening.
const BACKGROUND_START: Duration = Duration::from_secs(5);

/// TCP ports in the LISTEN state (in this network namespace).
fn listening_ports() -> std::collections::BTreeSet<u16> {
    let mut ports = std::collections::BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            if f.get(3) == Some(&"0A") {
                if let Some(port) = f.get(1).and_then(|a| a.rsplit_once(':')).and_then(|(_, p)| u16::from_str_radix(p, 16).ok()) {
                    ports.insert(port);
                }
            }
        }
    }
    ports
}

enum Watch {
    Timeout,
    Runaway,
}

/// The program behind a utility command of the scripts.
pub fn utility_program(word: &str) -> &str {
    match word {
        "dbmbuild" => "exim_dbmbuild",
        "dump" => "exim_dumpdb",
        other => other,
    }
}

/// A utility of Exim: beside the binary under test first (a real Exim's
/// directory), then on the tests' PATH (Debian's /usr/sbin tools).
pub fn find_utility(binary: &Path, name: &str) -> Option<PathBuf> {
    let real = binary.canonicalize().unwrap_or_else(|_| binary.to_path_buf());
    let beside = real.parent().map(|d| d.join(name)).filter(|p| p.is_file());
    beside.or_else(|| crate::requires::find_program(crate::requires::TEST_PATH, name))
}

/// More processes of the binary than this at once is a runaway test.
const MAX_PROCESSES: usize = 64;

impl Drop for Context {
    fn drop(&mut self) {
        let _ = self.cleanup();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spool_ids_are_ordered_by_time_then_fraction() {
        // A pid that wrapped round in the same second comes after.
        let mut ids = vec!["1xV89f-00004y-06", "1xV89f-0008VH-00", "1xV89e-0008US-3A"];
        ids.sort_by(|a, b| super::id_order(a).cmp(&super::id_order(b)));
        assert_eq!(ids, ["1xV89e-0008US-3A", "1xV89f-0008VH-00", "1xV89f-00004y-06"]);
    }

    use super::*;
    use crate::script::parse;

    fn context(tag: &str) -> (Context, PathBuf) {
        let dir = std::env::temp_dir().join(format!("rexim-exec-{}-{}", tag, std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let p = Params { dir: dir.display().to_string(), ..crate::subst::sample() };
        (Context::new(p, PathBuf::from("/bin/false"), vec!["127.0.0.1".into()]), dir)
    }

    #[test]
    fn dir_mentions() {
        assert!(mentions_dir(b"--dir=/r/test/node1", b"/r/test"));
        assert!(mentions_dir(b"/r/test", b"/r/test"));
        assert!(mentions_dir(b"-C /r/test2 /r/test:x", b"/r/test"));
        assert!(!mentions_dir(b"/r/test2", b"/r/test"));
        assert!(!mentions_dir(b"", b"/r/test"));
    }

    #[test]
    fn cleanup_kills_a_daemon_that_left_the_process_group() {
        let (mut ctx, dir) = context("stray");
        // setsid: a new session, so the process-group kill cannot reach it.
        let s = parse("# t
perl
system 'setsid sleep 300 &';
****
").unwrap();
        ctx.run(&s.commands[0]).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let strays = ctx.test_processes();
        assert!(!strays.is_empty(), "the sleep works in DIR");
        ctx.cleanup().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        for pid in strays {
            let state = fs::read_to_string(format!("/proc/{}/stat", pid)).unwrap_or_default();
            assert!(state.is_empty() || state.contains(") Z"), "pid {} survived: {}", pid, state);
        }
        drop(ctx);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_lines_count_the_newline() {
        let (mut ctx, dir) = context("write");
        let s = parse("# t\nwrite f 2x5=A_ 1x3 1x2=long\npre\n++++\npost\n****\n").unwrap();
        ctx.run(&s.commands[0]).unwrap();
        assert_eq!(fs::read_to_string(dir.join("f")).unwrap(), "pre\nA aa\nA aa\naa\nlong\npost\n");
        drop(ctx);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn listening_ports_sees_a_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(listening_ports().contains(&l.local_addr().unwrap().port()));
    }

    #[test]
    fn background_waits_for_listener_and_killdaemon_stops_it() {
        let (mut ctx, dir) = context("bg");
        let s = parse("# t\nbackground\npython3 -c 'import socket,time;s=socket.socket();s.bind((\"127.0.0.1\",0));s.listen();print(\"up\",flush=True);time.sleep(30)'\n****\nkilldaemon\n").unwrap();
        let before = listening_ports();
        assert_eq!(ctx.run(&s.commands[0]).unwrap(), 0);
        assert!(listening_ports().difference(&before).next().is_some(), "background returned before its program listened");
        let pid = ctx.background[0].id() as i32;
        let started = Instant::now();
        assert_eq!(ctx.run(&s.commands[1]).unwrap(), 0);
        assert!(started.elapsed() < Duration::from_secs(4), "SIGINT did not stop it");
        // SAFETY: signal 0 only checks existence.
        assert_ne!(unsafe { libc::kill(pid, 0) }, 0);
        assert!(fs::read_to_string(dir.join("test-background")).unwrap().starts_with("up\n"));
        assert!(!dir.join("test-stdout").exists() || fs::read(dir.join("test-stdout")).unwrap().is_empty());
        drop(ctx);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_server_socket_is_made_in_dir() {
        let (mut ctx, dir) = context("srv");
        let s = parse("# t\nserver -t -1 rel_sock\n****\n").unwrap();
        assert_eq!(ctx.run(&s.commands[0]).unwrap(), 0);
        assert!(dir.join("rel_sock").exists());
        ctx.cleanup().unwrap();
        drop(ctx);
        fs::remove_dir_all(&dir).unwrap();
    }
}
