//! Running a selection of tests of one suite and collecting results.

use crate::classify::classify;
use crate::compare;
use crate::exec::{Context, Failure};
use crate::munge::Munger;
use crate::named_munge;
use crate::requires::Features;
use crate::results::{Status, TestResult};
use crate::script::{self, Script};
use crate::setup::{self, Suite};
use crate::skiplist::SkipList;
use crate::subst::Params;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Selection {
    pub first: u32,
    pub last: u32,
    /// Case-insensitive substring of the category or the title.
    pub name: Option<String>,
}

impl Selection {
    fn wants(&self, num: u32, category: &str, title: &str) -> bool {
        if num < self.first || num > self.last {
            return false;
        }
        match &self.name {
            Some(n) => {
                let n = n.to_ascii_lowercase();
                category.to_ascii_lowercase().contains(&n) || title.to_ascii_lowercase().contains(&n)
            }
            None => true,
        }
    }
}

pub struct Runner {
    pub suite: Suite,
    pub binary: PathBuf,
    pub kind: String,
    pub base: Params,
    pub features: Features,
    pub skips: SkipList,
    pub runs: PathBuf,
    pub record: bool,
    pub keep: bool,
    pub listen_ips: Vec<String>,
    /// `--caller`: exim commands without `sudo` run as this user.
    pub caller: Option<crate::caller::Caller>,
}

/// One test found in scripts/.
pub struct Found {
    pub num: u32,
    pub name: String,
    pub category: String,
    pub path: PathBuf,
    pub requires: Vec<String>,
}

/// All scripts of the suite, in number order.
pub fn find_tests(suite: &Suite) -> Vec<Found> {
    let mut found = Vec::new();
    let Ok(cats) = fs::read_dir(suite.path("scripts")) else { return found };
    let mut cats: Vec<_> = cats.flatten().filter(|e| e.path().is_dir()).collect();
    cats.sort_by_key(|e| e.file_name());
    for cat in cats {
        let category = cat.file_name().to_string_lossy().into_owned();
        let requires: Vec<String> = fs::read_to_string(cat.path().join("REQUIRES"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let Ok(files) = fs::read_dir(cat.path()) else { continue };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.len() == 4 && name.chars().all(|c| c.is_ascii_digit()) {
                found.push(Found { num: name.parse().unwrap(), name, category: category.clone(), path: f.path(), requires: requires.clone() });
            }
        }
    }
    found.sort_by_key(|f| f.num);
    found
}

/// Commands this runner cannot run here: tests using them are skipped
/// with the reason, never failed for a harness gap. Exim's utilities are
/// needed where the scripts run them (rexim's hints databases are dumped
/// by the runner itself).
fn unsupported(s: &Script, binary: &Path) -> Option<String> {
    let rexim = crate::skiplist::binary_kind(binary) == "rexim";
    if let Some(name) = s.munges.iter().find(|n| !named_munge::exists(n)) {
        return Some(format!("harness: unknown munge '{}'", name));
    }
    for c in &s.commands {
        let word = script::command_word(&c.text);
        let needs_tool = match word {
            "dump" => !rexim,
            "exim_lock" | "exinext" | "exigrep" | "exiqgrep" | "dbmbuild" | "eximstats" => true,
            _ => false,
        };
        let program = crate::exec::utility_program(word);
        if needs_tool && crate::exec::find_utility(binary, program).is_none() {
            return Some(format!("harness: Exim's {} utility is not installed (neither beside the binary nor on PATH)", program));
        }
        let t = format!(" {} ", c.text);
        if t.contains("-DSERVER=wait:") {
            return Some("harness: inetd-style -DSERVER=wait: is not implemented".into());
        }
    }
    None
}

/// A guess at why a test failed, from its outputs, for the report. The
/// causes are the known differences between Exim's test-harness setup and
/// this one (see docs/testsuite.md).
pub fn diagnose(s: &Script, actual: &str, diffs: &[compare::Mismatch], failure: Option<&str>) -> String {
    let labels: Vec<&str> = diffs.iter().map(|d| d.label.as_str()).collect();
    let diff_text: String = diffs.iter().map(|d| d.diff.as_str()).collect();
    let uses_debug = s.commands.iter().any(|c| c.text.split_whitespace().any(|w| w.starts_with("-d") && !w.starts_with("-dropcr")));
    if actual.contains("is on the fixed_never_users list") || actual.contains("lost privilege for using -C option") {
        return "harness difference: CALLER is root (Debian Exim refuses deliveries as root, fixed_never_users=0) or a re-exec with -C lost privilege".into();
    }
    if let Some(f) = failure {
        if f.contains("Server return code") {
            return "the scripted server's conversation differed (see stdout)".into();
        }
        if f.contains("timed out") {
            return "a command timed out".into();
        }
        if f.contains("runaway") {
            return "harness difference: delivery loop (a failed delivery as root bounced on and on; killed)".into();
        }
    }
    if actual.contains("attempt to use tainted ACL text") {
        return "Debian's Exim 4.96 (patched) rejects tainted ACL text the test-harness build accepted".into();
    }
    let dns_signs = ["host lookup did not complete", "lookup of host", "Unrouteable address", "gave DEFER", "no IP address found", "all relevant MX records", "dnslookup", "Host lookup", "host name lookup"];
    if dns_signs.iter().any(|d| diff_text.contains(d)) {
        return "harness difference: DNS (Exim's harness answers from dnszones via fakens; real Exim uses the system resolver)".into();
    }
    if labels.iter().all(|l| *l == "stderr") && uses_debug {
        return "debug output (-d) differs from the test-harness build's".into();
    }
    if diff_text.contains("CALLER_NAME") || diff_text.contains("F=<x@y>") || diff_text.contains("CALLER@") && diff_text.contains("trusted") {
        return "harness difference: root is a trusted caller (the suite runs Exim as an untrusted user)".into();
    }
    if let Some(f) = failure {
        if f.contains("exit status") {
            return "unexpected exit status".into();
        }
        return f.to_string();
    }
    format!("output differs: {}", labels.join(", "))
}

fn first_lines(text: &str, n: usize) -> String {
    text.lines().take(n).map(|l| format!("    {}\n", l)).collect()
}

impl Runner {
    /// The class of test `num` of `category` (see classify).
    pub fn class_of(&self, num: u32, category: &str) -> Option<String> {
        let name = format!("{:04}", num);
        let text = fs::read(self.suite.path("scripts").join(category).join(&name)).ok()?;
        let s = script::parse(&script::decode(&text)).ok()?;
        Some(classify(&s, self.expects_delivery(&name)).to_string())
    }

    /// Whether the expected output shows deliveries: delivery lines in the
    /// expected log, or delivered mail.
    fn expects_delivery(&self, name: &str) -> bool {
        let log = fs::read(self.suite.path("log").join(name)).map(|b| script::decode(&b)).unwrap_or_default();
        if log.lines().any(|l| [" => ", " -> ", " *> ", " ** ", " == "].iter().any(|m| l.contains(m))) {
            return true;
        }
        let prefix = format!("{}.", name);
        fs::read_dir(self.suite.path("mail"))
            .map(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with(&prefix)))
            .unwrap_or(false)
    }

    fn skip_reason(&self, t: &Found, s: Option<&Script>) -> Option<String> {
        if let Some(r) = self.skips.reason(&self.suite.name, &self.kind, t.num, &t.category) {
            return Some(r);
        }
        for req in &t.requires {
            if let Err(e) = self.features.check(req) {
                return Some(e);
            }
        }
        if let Some(s) = s {
            for need in &s.needs {
                match need.as_str() {
                    "ipv4" if self.features.ipv4 => {}
                    "ipv6" if self.features.ipv6 => {}
                    "move_frozen_messages" if self.features.has("support move_frozen_messages") => {}
                    "largefiles" if self.features.large_files => {}
                    other => return Some(format!("need_{}: not available here", other)),
                }
            }
            return unsupported(s, &self.binary);
        }
        None
    }

    /// Run the selected tests, printing a progress line for each.
    pub fn run(&self, sel: &Selection, out: &mut dyn Write) -> Vec<TestResult> {
        let mut results: Vec<TestResult> = Vec::new();
        for t in find_tests(&self.suite) {
            let text = script::decode(&fs::read(&t.path).unwrap_or_default());
            let parsed = script::parse(&text);
            let title = parsed.as_ref().map(|s| s.title.clone()).unwrap_or_default();
            if !sel.wants(t.num, &t.category, &title) {
                continue;
            }
            let started = Instant::now();
            let class = parsed.as_ref().map(|s| classify(s, self.expects_delivery(&t.name))).unwrap_or("c").to_string();
            let mut r = TestResult {
                num: t.num,
                category: t.category.clone(),
                title: title.clone(),
                class,
                status: Status::Passed,
                mismatches: Vec::new(),
                cause: String::new(),
                seconds: 0.0,
            };
            r.status = match &parsed {
                Err(e) => Status::Failed(format!("script error: {}", e)),
                Ok(s) => match self.skip_reason(&t, Some(s)) {
                    Some(reason) => Status::Skipped(reason),
                    None => self.run_one(&t, s, &mut r.mismatches, &mut r.cause, out),
                },
            };
            r.seconds = started.elapsed().as_secs_f64();
            results.push(r);
            let last = results.last().unwrap();
            let (p, f, k) = crate::results::counts(&results);
            let word = match &last.status {
                Status::Passed => "ok".to_string(),
                Status::Failed(w) => format!("FAILED ({})", w),
                Status::Skipped(w) => format!("skipped ({})", w),
            };
            let short = t.category.split_once('-').map(|(_, n)| n).unwrap_or(&t.category);
            let _ = writeln!(out, "{}/{} {} ... {}  [{} passed, {} failed, {} skipped]", short, t.name, title, word, p, f, k);
            let _ = out.flush();
        }
        results
    }

    fn run_one(&self, t: &Found, s: &Script, mismatches: &mut Vec<String>, cause: &mut String, out: &mut dyn Write) -> Status {
        // DIR is the same path for every test (cleaned before each), so that
        // DIR/test-config can be listed in Exim's TRUSTED_CONFIG_LIST; a
        // failed test's directory is then moved to runs/NNNN.
        let dir = self.runs.join("test");
        let mut p = self.base.clone();
        p.dir = dir.display().to_string();
        p.exim_path = dir.join("eximdir/exim").display().to_string();
        p.testnum = t.name.clone();
        if let Err(e) = setup::prepare(&p, &self.suite, &t.name, &self.binary, &self.features) {
            return Status::Failed(format!("cannot set up {}: {}", dir.display(), e));
        }
        let mut ctx = Context::new(p.clone(), self.binary.clone(), self.listen_ips.clone());
        ctx.caller = self.caller.clone();
        let mut failure: Option<String> = None;
        for c in &s.commands {
            match ctx.run(c) {
                Ok(rc) if rc == c.expect.status => {}
                Ok(rc) if c.expect.tolerant => ctx.warnings.push(format!("line {}: exit status {} (expected {})", c.line, rc, c.expect.status)),
                Ok(rc) => {
                    failure = Some(format!("line {}: exit status {} (expected {}): {}", c.line, rc, c.expect.status, c.text.chars().take(60).collect::<String>()));
                    break;
                }
                Err(Failure(e)) => {
                    failure = Some(format!("line {}: {}", c.line, e));
                    break;
                }
            }
        }
        if let Err(Failure(e)) = ctx.cleanup() {
            failure.get_or_insert(e);
        }
        let mut munger = Munger::new(&p, &self.features.version);
        let outs = compare::collect(&dir, &self.suite, &t.name, &s.flags, &s.munges, &mut munger);
        if self.record {
            return match compare::record(&outs) {
                Ok(_) if failure.is_none() => {
                    self.finish_dir(&dir, &t.name, true);
                    Status::Passed
                }
                Ok(_) => {
                    self.finish_dir(&dir, &t.name, false);
                    Status::Failed(format!("recorded, but {}", failure.unwrap()))
                }
                Err(e) => Status::Failed(format!("cannot record: {}", e)),
            };
        }
        let mut diffs: Vec<compare::Mismatch> = outs.iter().filter_map(compare::compare).collect();
        diffs.extend(compare::missing_expected(&self.suite, &t.name, &outs, &s.flags));
        for m in &diffs {
            mismatches.push(m.label.clone());
        }
        if !diffs.is_empty() {
            let all: String = diffs.iter().map(|m| m.diff.clone()).collect();
            let _ = fs::write(dir.join("test-diff"), script::encode(&all));
            let _ = write!(out, "{}", first_lines(&all, 12));
        }
        let passed = failure.is_none() && diffs.is_empty();
        if !passed {
            let all_out: String = outs.iter().map(|o| o.actual.as_str()).collect();
            *cause = diagnose(s, &all_out, &diffs, failure.as_deref());
        }
        let kept = self.finish_dir(&dir, &t.name, passed);
        if !diffs.is_empty() {
            let _ = writeln!(out, "    (full diff: {})", kept.join("test-diff").display());
        }
        match (failure, diffs.is_empty()) {
            (Some(f), _) => Status::Failed(f),
            (None, false) => Status::Failed(format!("output differs: {}", diffs.iter().map(|d| d.label.as_str()).collect::<Vec<_>>().join(", "))),
            (None, true) => Status::Passed,
        }
    }

    /// Remove the work directory of a passed test (unless --keep); keep a
    /// failed one as runs/NNNN. Returns where it is kept.
    fn finish_dir(&self, dir: &Path, name: &str, passed: bool) -> PathBuf {
        let kept = self.runs.join(name);
        let _ = fs::remove_dir_all(&kept);
        if passed && !self.keep {
            let _ = fs::remove_dir_all(dir);
            return kept;
        }
        if fs::rename(dir, &kept).is_ok() {
            kept
        } else {
            dir.to_path_buf()
        }
    }
}
