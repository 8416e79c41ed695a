//! Command line of rexim-runtest.

use crate::requires::Features;
use crate::results::{self, RunInfo};
use crate::runner::{Runner, Selection};
use crate::setup::{self, HostOptions, Suite};
use crate::skiplist::{binary_kind, SkipList};
use crate::subst::CANONICAL_PORT_BASE;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "usage: rexim-runtest [--suite ours|exim] [--root DIR] [--binary PATH] [--record] [--report [FILE]]
                     [--name TEXT] [--keep] [--runs DIR] [--skip-file FILE] [--json FILE]
                     [--hostipv4 IP] [--ports N] [--no-netns] [--caller USER] [--with-results FILE] [FIRST [LAST|+]]
  --suite ours   the project's testsuite/ (default)
  --suite exim   Exim 4.96's testsuite data in ../shared/exim-4.96/test
  --binary PATH  binary under test (default target/release/rexim)
  --record       write the munged actual output as the expected files
  --report       write docs/compat-testsuite.md (or FILE) from this run
  --name TEXT    only tests whose category or title contains TEXT
  --keep         keep the work directory of passing tests too
  --hostipv4 IP  loopback address used as HOSTIPV4 (default 127.0.0.10)
  --ports N      first port of the range to try (default 1223, Exim's own)
  --no-netns     do not isolate the run in a loopback-only network namespace
  --caller USER  run exim as this unprivileged user (CALLER), created if missing
  --with-results FILE  merge an earlier run's results.json into --report
  FIRST LAST     test number range (default 1 8999; '+' = to the end)";

#[derive(Debug, Clone)]
pub struct Options {
    pub suite: String,
    pub root: Option<PathBuf>,
    pub binary: Option<PathBuf>,
    pub record: bool,
    pub report: Option<Option<PathBuf>>,
    pub name: Option<String>,
    pub keep: bool,
    pub runs: Option<PathBuf>,
    pub skip_file: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub hostipv4: Option<String>,
    pub ports: Option<u16>,
    pub no_netns: bool,
    /// `--caller USER`: exim runs as this non-root user, as in runtest.
    pub caller: Option<String>,
    /// Earlier result files merged into the report (tests not run now).
    pub with_results: Vec<PathBuf>,
    pub first: u32,
    pub last: u32,
}

pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        suite: "ours".into(),
        root: None,
        binary: None,
        record: false,
        report: None,
        name: None,
        keep: false,
        runs: None,
        skip_file: None,
        json: None,
        hostipv4: None,
        ports: None,
        no_netns: false,
        caller: None,
        with_results: Vec::new(),
        first: 1,
        last: 8999,
    };
    let mut nums: Vec<String> = Vec::new();
    let mut i = 0;
    let value = |i: &mut usize, name: &str| -> Result<String, String> {
        *i += 1;
        args.get(*i).cloned().ok_or_else(|| format!("{} needs a value", name))
    };
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--suite" => o.suite = value(&mut i, a)?,
            "--root" => o.root = Some(value(&mut i, a)?.into()),
            "--binary" => o.binary = Some(value(&mut i, a)?.into()),
            "--record" => o.record = true,
            "--report" => {
                let next = args.get(i + 1);
                if next.map(|n| n.ends_with(".md")).unwrap_or(false) {
                    o.report = Some(Some(value(&mut i, a)?.into()));
                } else {
                    o.report = Some(None);
                }
            }
            "--name" => o.name = Some(value(&mut i, a)?),
            "--keep" => o.keep = true,
            "--runs" => o.runs = Some(value(&mut i, a)?.into()),
            "--skip-file" => o.skip_file = Some(value(&mut i, a)?.into()),
            "--json" => o.json = Some(value(&mut i, a)?.into()),
            "--hostipv4" => o.hostipv4 = Some(value(&mut i, a)?),
            "--no-netns" => o.no_netns = true,
            "--caller" => o.caller = Some(value(&mut i, a)?),
            "--with-results" => o.with_results.push(value(&mut i, a)?.into()),
            "--ports" => o.ports = Some(value(&mut i, a)?.parse().map_err(|_| "--ports needs a port number".to_string())?),
            "-h" | "--help" => return Err(String::new()),
            a if a.starts_with('-') => return Err(format!("unknown option {}", a)),
            a => nums.push(a.to_string()),
        }
        i += 1;
    }
    if o.suite != "ours" && o.suite != "exim" {
        return Err(format!("unknown suite \"{}\" (ours or exim)", o.suite));
    }
    let num = |s: &str| s.parse::<u32>().map_err(|_| format!("bad test number \"{}\"", s));
    match nums.as_slice() {
        [] => {}
        [f] => {
            o.first = num(f)?;
            o.last = o.first;
        }
        [f, l] => {
            o.first = num(f)?;
            o.last = if l == "+" { if o.first >= 9000 { 9999 } else { 8999 } } else { num(l)? };
        }
        _ => return Err("too many arguments".into()),
    }
    Ok(o)
}

/// The repository: the nearest directory up from here holding the runner.
fn repo_root() -> PathBuf {
    let mut d = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    loop {
        if d.join("testsuite/runner/Cargo.toml").is_file() {
            return d;
        }
        if !d.pop() {
            return std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        }
    }
}

fn capture(binary: &Path, conf: &Path, args: &[&str]) -> String {
    Command::new(binary)
        .arg("-C")
        .arg(conf)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Hold an exclusive lock on runs/.lock for the whole run, waiting for
/// another run of the same suite to finish first.
fn lock_runs(runs: &Path) -> std::io::Result<fs::File> {
    use std::os::fd::AsRawFd;
    let f = fs::OpenOptions::new().create(true).truncate(false).write(true).open(runs.join(".lock"))?;
    // SAFETY: flock(2) on a descriptor we own; released when f is dropped.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        println!("rexim-runtest: waiting for another run using {}", runs.display());
        // SAFETY: as above, blocking this time.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(f)
}

fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (y, m, d) = crate::dump::civil_from_days((secs / 86400) as i64);
    let rem = secs % 86400;
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// HOSTIPV4 unless --hostipv4 says otherwise: a loopback address the suites
/// do not use literally (they use 127.0.0.2 and .3 as other hosts).
const DEFAULT_HOSTIPV4: &str = "127.0.0.10";

pub fn main(args: Vec<String>) -> i32 {
    let o = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("rexim-runtest: {}", e);
            }
            eprintln!("{}", USAGE);
            return 2;
        }
    };
    // Before anything runs: no packet of the run may leave loopback.
    if !o.no_netns {
        let host_ipv4 = o.hostipv4.as_deref().unwrap_or(DEFAULT_HOSTIPV4).parse().ok();
        if let Err(e) = crate::netns::isolate(host_ipv4) {
            eprintln!("rexim-runtest: cannot create a loopback-only network namespace ({}); run as root, or pass --no-netns to run without isolation", e);
            return 2;
        }
    }
    let repo = repo_root();
    let root = o.root.clone().unwrap_or_else(|| match o.suite.as_str() {
        "exim" => repo.join("../shared/exim-4.96/test"),
        _ => repo.join("testsuite"),
    });
    if !root.join("scripts").is_dir() {
        eprintln!("rexim-runtest: no scripts directory in {}", root.display());
        return 2;
    }
    let binary = o.binary.clone().unwrap_or_else(|| repo.join("target/release/rexim"));
    let binary = if binary.is_relative() { std::env::current_dir().unwrap_or_default().join(binary) } else { binary };
    if !binary.is_file() {
        eprintln!("rexim-runtest: binary {} not found", binary.display());
        return 2;
    }
    let skip_file = o.skip_file.clone().unwrap_or_else(|| repo.join("testsuite/skip.toml"));
    let skips = match fs::read_to_string(&skip_file) {
        Ok(t) => match SkipList::parse(&t) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("rexim-runtest: {}", e);
                return 2;
            }
        },
        Err(_) => SkipList::default(),
    };
    let runs = o.runs.clone().unwrap_or_else(|| repo.join("testsuite/runs").join(&o.suite));
    if let Err(e) = fs::create_dir_all(&runs) {
        eprintln!("rexim-runtest: cannot create {}: {}", runs.display(), e);
        return 2;
    }
    let runs = runs.canonicalize().unwrap_or(runs);
    // DIR is one path per runs directory: one run at a time uses it.
    let _lock = match lock_runs(&runs) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rexim-runtest: cannot lock {}: {}", runs.display(), e);
            return 2;
        }
    };
    // Feature detection with a minimal configuration.
    let probe = runs.join("probe.conf");
    let _ = fs::write(&probe, "keep_environment =\n");
    let mut features = Features::from_bv(&capture(&binary, &probe, &["-bV"]), &capture(&binary, &probe, &["-bP", "macros"]));
    let _ = fs::remove_file(&probe);
    // Loopback only: HOSTIPV4 is a second loopback address so that it can
    // be told apart from 127.0.0.1 in outputs; one the suite's data never
    // names (it uses 127.0.0.2 and .3 as DNS list answers and PROXY
    // clients, which must not be munged to ip4.ip4.ip4.ip4).
    let ipv4 = o.hostipv4.clone().unwrap_or_else(|| DEFAULT_HOSTIPV4.into());
    features.ipv4 = std::net::TcpListener::bind((ipv4.as_str(), 0)).is_ok();
    features.ipv6 = false;
    features.running = crate::requires::services(crate::requires::TEST_PATH);
    let Some(port_base) = setup::find_ports(o.ports.unwrap_or(CANONICAL_PORT_BASE)) else {
        eprintln!("rexim-runtest: no free port range on 127.0.0.1");
        return 2;
    };
    let host = HostOptions { ipv4: ipv4.clone(), ipv6: None };
    let kind = binary_kind(&binary).to_string();
    let caller = match &o.caller {
        None => None,
        Some(name) => {
            let exim_group = setup::base_params(&binary, &host, port_base, None).exim_group;
            match crate::caller::ensure(name, &exim_group) {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("rexim-runtest: {}", e);
                    return 2;
                }
            }
        }
    };
    // Debian's Exim keeps privilege with -C for a caller that is the Exim
    // user (and root) only, and only for a file in its TRUSTED_CONFIG_LIST;
    // any other caller always runs without privilege.
    let exim_uid = setup::base_params(&binary, &host, port_base, None).exim_uid;
    let trusted_list = Path::new("/etc/exim4/trusted_configs");
    if caller.as_ref().is_some_and(|c| c.uid == exim_uid) && kind == "exim" && trusted_list.parent().is_some_and(|d| d.is_dir()) {
        match crate::caller::trust_config(trusted_list, &runs.join("test/test-config")) {
            Ok(true) => println!("rexim-runtest: listed {} in {}", runs.join("test/test-config").display(), trusted_list.display()),
            Ok(false) => {}
            Err(e) => eprintln!("rexim-runtest: cannot list the test config as trusted: {}", e),
        }
    }
    let base = setup::base_params(&binary, &host, port_base, caller.as_ref());
    let mut listen_ips = vec!["127.0.0.1".to_string()];
    if ipv4 != "127.0.0.1" && features.ipv4 {
        listen_ips.push(ipv4.clone());
    }
    let suite = Suite { name: o.suite.clone(), root: root.clone() };
    println!(
        "rexim-runtest: suite {} ({}), binary {} [{}] version {}, caller {}, host {}, HOSTIPV4 {}, ports {}-{}{}",
        o.suite,
        root.display(),
        binary.display(),
        kind,
        if features.version.is_empty() { "unknown" } else { &features.version },
        base.caller,
        base.hostname,
        ipv4,
        port_base,
        port_base + crate::subst::PORT_RANGE - 1,
        if o.no_netns { ", NOT isolated" } else { ", network: loopback only" }
    );
    let runner = Runner { suite, binary: binary.clone(), kind, base, features: features.clone(), skips, runs: runs.clone(), record: o.record, keep: o.keep, listen_ips, caller };
    let sel = Selection { first: o.first, last: o.last, name: o.name.clone() };
    let mut stdout = std::io::stdout();
    let started = now_utc();
    let results = runner.run(&sel, &mut stdout);
    let info = RunInfo { suite: o.suite.clone(), binary: binary.display().to_string(), version: features.version.clone(), started };
    let json_path = o.json.clone().unwrap_or_else(|| runs.join("results.json"));
    if let Err(e) = fs::write(&json_path, results::to_json(&info, &results)) {
        eprintln!("rexim-runtest: cannot write {}: {}", json_path.display(), e);
    }
    if let Some(report) = &o.report {
        let path = report.clone().unwrap_or_else(|| repo.join("docs/compat-testsuite.md"));
        let mut all = results.clone();
        for f in &o.with_results {
            match fs::read_to_string(f) {
                Ok(t) => {
                    for r in results::from_json(&t) {
                        if !all.iter().any(|a| a.num == r.num) {
                            all.push(r);
                        }
                    }
                }
                Err(e) => eprintln!("rexim-runtest: cannot read {}: {}", f.display(), e),
            }
        }
        all.sort_by_key(|r| r.num);
        // Classes from the scripts as they are now (merged results may come
        // from an older runner).
        for r in all.iter_mut() {
            r.class = runner.class_of(r.num, &r.category).unwrap_or_else(|| r.class.clone());
        }
        match fs::write(&path, results::report(&info, &all)) {
            Ok(()) => println!("report written to {}", path.display()),
            Err(e) => eprintln!("rexim-runtest: cannot write {}: {}", path.display(), e),
        }
    }
    let (p, f, s) = results::counts(&results);
    if results.is_empty() {
        println!("no tests in the selected range");
    }
    let failed: Vec<String> = results.iter().filter(|r| matches!(r.status, results::Status::Failed(_))).map(|r| format!("{:04}", r.num)).collect();
    if !failed.is_empty() {
        println!("failed: {}", failed.join(" "));
    }
    println!("results: {}", json_path.display());
    println!("{} passed, {} failed, {} skipped", p, f, s);
    if f == 0 {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn ranges() {
        let o = parse_args(&args("--suite exim 1 99")).unwrap();
        assert_eq!((o.suite.as_str(), o.first, o.last), ("exim", 1, 99));
        let o = parse_args(&args("101")).unwrap();
        assert_eq!((o.first, o.last), (101, 101));
        let o = parse_args(&args("5000 +")).unwrap();
        assert_eq!(o.last, 8999);
        assert!(parse_args(&args("--suite other")).is_err());
        assert!(parse_args(&args("1 2 3")).is_err());
        let o = parse_args(&args("--record --binary /usr/sbin/exim --report 7")).unwrap();
        assert!(o.record && o.report == Some(None) && o.first == 7);
    }

    #[test]
    fn date_format() {
        assert!(now_utc().ends_with(" UTC"));
    }
}
