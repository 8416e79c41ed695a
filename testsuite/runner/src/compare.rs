//! Comparing a test's munged output with the expected files: logs, stdout,
//! stderr, delivered mail and message logs, in runtest's order (which also
//! fixes the order in which message ids get their fixed values).

use crate::munge::{drop_build_lines, drop_harness_build_lines, sort_log, Munger};
use crate::named_munge::{self, Kind};
use crate::script::{decode, encode, Flags};
use crate::setup::Suite;
use std::fs;
use std::path::{Path, PathBuf};

const SERVER_SEPARATOR: &str = "\n******** SERVER ********\n";

/// One output of a test, after munging, with where its expectation lives.
#[derive(Debug, Clone)]
pub struct Output {
    /// Label shown in reports ("stdout", "mail/0005.CALLER" ...).
    pub label: String,
    pub expected_path: PathBuf,
    pub actual: String,
}

#[derive(Debug, Clone)]
pub struct Mismatch {
    pub label: String,
    pub diff: String,
}

fn read(path: &Path) -> Option<String> {
    fs::read(path).ok().map(|b| decode(&b))
}

/// A file and its server twin, joined like runtest does.
fn with_server(main: Option<String>, server: Option<String>) -> Option<String> {
    match (main, server) {
        (m, Some(s)) => Some(format!("{}{}{}", m.unwrap_or_default(), SERVER_SEPARATOR, s)),
        (m, None) => m,
    }
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// Gather and munge the outputs of a finished test.
pub fn collect(dir: &Path, suite: &Suite, testnum: &str, flags: &Flags, munges: &[String], munger: &mut Munger) -> Vec<Output> {
    let mut outs = Vec::new();
    let conf = read(&dir.join("test-config")).unwrap_or_default();
    let mut push = |label: String, expected: PathBuf, text: Option<String>, m: &mut Munger, sort: bool| {
        let mut t = text.unwrap_or_default();
        if !flags.no_munge {
            let munged = if label == "stderr" { m.munge_stderr(&t) } else { m.munge(&t) };
            t = drop_build_lines(&munged, &conf);
            if suite.name == "exim" {
                t = drop_harness_build_lines(&t);
            }
            t = named_munge::apply(munges, Kind::of_label(&label), &t);
        }
        if sort {
            t = sort_log(&t);
        }
        outs.push(Output { label, expected_path: expected, actual: t });
    };
    let log = dir.join("spool/log");
    for (kind, sub) in [("paniclog", "paniclog"), ("rejectlog", "rejectlog"), ("mainlog", "log")] {
        let text = with_server(read(&log.join(kind)), read(&log.join(format!("server{}", kind))));
        push(sub.to_string(), suite.path(sub).join(testnum), text, munger, kind == "mainlog" && flags.sortlog);
    }
    if !flags.no_stdout_check {
        let text = with_server(read(&dir.join("test-stdout")), read(&dir.join("test-stdout-server")));
        let text = if flags.rmfiltertest { text.map(|t| remove_filter_lines(&t)) } else { text };
        push("stdout".into(), suite.path("stdout").join(testnum), text, munger, false);
    }
    if !flags.no_stderr_check {
        let text = with_server(read(&dir.join("test-stderr")), read(&dir.join("test-stderr-server")));
        push("stderr".into(), suite.path("stderr").join(testnum), text, munger, false);
    }
    if !flags.no_message_check {
        let mail = dir.join("test-mail");
        for f in files_under(&mail) {
            let rel = f.strip_prefix(&mail).unwrap().to_string_lossy().into_owned();
            let name = format!("{}.{}", testnum, munger.munge(&rel));
            push(format!("mail/{}", name), suite.path("mail").join(&name), read(&f), munger, false);
        }
    }
    if !flags.no_msglog_check {
        let msglog = dir.join("spool/msglog");
        for f in files_under(&msglog) {
            let id = f.file_name().unwrap().to_string_lossy().into_owned();
            let name = format!("{}.{}", testnum, munger.munge(&id));
            push(format!("msglog/{}", name), suite.path("msglog").join(&name), read(&f), munger, false);
        }
    }
    outs
}

/// `rmfiltertest`: drop the repetitive lines filter tests print.
fn remove_filter_lines(t: &str) -> String {
    t.lines()
        .filter(|l| !(l.starts_with("Sender    : ") || l.starts_with("Recipient : ") || l.starts_with("Testing Exim filter file") || l.starts_with("Return-path taken from")))
        .map(|l| format!("{}\n", l))
        .collect()
}

/// Expected files that the test should have produced but did not (mail and
/// msglogs are per file: a missing delivery is a failure too).
pub fn missing_expected(suite: &Suite, testnum: &str, outs: &[Output], flags: &Flags) -> Vec<Mismatch> {
    let mut missing = Vec::new();
    for (sub, skip) in [("mail", flags.no_message_check), ("msglog", flags.no_msglog_check)] {
        if skip {
            continue;
        }
        let prefix = format!("{}.", testnum);
        if let Ok(rd) = fs::read_dir(suite.path(sub)) {
            let mut names: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with(&prefix)).collect();
            names.sort();
            for n in names {
                let label = format!("{}/{}", sub, n);
                if !outs.iter().any(|o| o.label == label || o.label.starts_with(&format!("{}/", label))) {
                    let p = suite.path(sub).join(&n);
                    if p.is_file() {
                        missing.push(Mismatch { label, diff: format!("expected file {} was not produced\n", p.display()) });
                    }
                }
            }
        }
    }
    missing
}

/// Compare one output with its expected file (absent = expected empty).
pub fn compare(o: &Output) -> Option<Mismatch> {
    let expected = read(&o.expected_path).unwrap_or_default();
    let actual = if expected.is_empty() && o.label == "stderr" {
        // Section lines copied to stderr alone do not make stderr
        // "output", nor does the separator before a daemon's empty stderr
        // (some expected files have it, others have no file).
        let rest: String = o.actual.lines().filter(|l| !l.starts_with("### ") && *l != SERVER_SEPARATOR.trim()).collect();
        if rest.trim().is_empty() { String::new() } else { o.actual.clone() }
    } else {
        o.actual.clone()
    };
    if expected == actual {
        return None;
    }
    Some(Mismatch { label: o.label.clone(), diff: unified_diff(&expected, &actual, &o.expected_path.display().to_string(), &o.label) })
}

pub fn unified_diff(expected: &str, actual: &str, expected_name: &str, actual_name: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(expected_name, &format!("{} (munged actual)", actual_name))
        .to_string()
}

/// `--record`: write the munged outputs as the expected files (empty
/// outputs remove the expected file, as an absent file means empty).
pub fn record(outs: &[Output]) -> std::io::Result<usize> {
    let mut written = 0;
    for o in outs {
        if o.actual.is_empty() {
            if o.expected_path.exists() {
                fs::remove_file(&o.expected_path)?;
            }
            continue;
        }
        if let Some(parent) = o.expected_path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&o.expected_path, encode(&o.actual))?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_output_is_appended_after_separator() {
        assert_eq!(with_server(Some("a\n".into()), Some("b\n".into())).unwrap(), "a\n\n******** SERVER ********\nb\n");
        assert_eq!(with_server(None, None), None);
    }

    #[test]
    fn diff_shows_changes() {
        let d = unified_diff("a\nb\n", "a\nc\n", "exp", "stdout");
        assert!(d.contains("-b\n+c\n"), "{}", d);
    }

    #[test]
    fn stderr_with_only_section_lines_counts_as_empty() {
        let o = Output { label: "stderr".into(), expected_path: "/nonexistent/x".into(), actual: "### part\n".into() };
        assert!(compare(&o).is_none());
        let o = Output { label: "stdout".into(), expected_path: "/nonexistent/x".into(), actual: "x\n".into() };
        assert!(compare(&o).is_some());
    }
}
