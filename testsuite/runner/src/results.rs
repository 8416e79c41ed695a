//! Results of a run: the JSON result file and the one-page compatibility
//! report (docs/compat-testsuite.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Passed,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct TestResult {
    pub num: u32,
    pub category: String,
    pub title: String,
    pub class: String,
    pub status: Status,
    /// Labels of the outputs that differed.
    pub mismatches: Vec<String>,
    /// For failures: the likely cause (see runner::diagnose).
    pub cause: String,
    pub seconds: f64,
}

pub struct RunInfo {
    pub suite: String,
    pub binary: String,
    pub version: String,
    pub started: String,
}

pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn counts(results: &[TestResult]) -> (usize, usize, usize) {
    let p = results.iter().filter(|r| r.status == Status::Passed).count();
    let f = results.iter().filter(|r| matches!(r.status, Status::Failed(_))).count();
    (p, f, results.len() - p - f)
}

pub fn to_json(info: &RunInfo, results: &[TestResult]) -> String {
    let (p, f, s) = counts(results);
    let mut out = String::new();
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "  \"suite\": {},", json_string(&info.suite));
    let _ = writeln!(out, "  \"binary\": {},", json_string(&info.binary));
    let _ = writeln!(out, "  \"version\": {},", json_string(&info.version));
    let _ = writeln!(out, "  \"started\": {},", json_string(&info.started));
    let _ = writeln!(out, "  \"passed\": {}, \"failed\": {}, \"skipped\": {},", p, f, s);
    let _ = writeln!(out, "  \"tests\": [");
    for (i, r) in results.iter().enumerate() {
        let (status, reason) = match &r.status {
            Status::Passed => ("passed", ""),
            Status::Failed(w) => ("failed", w.as_str()),
            Status::Skipped(w) => ("skipped", w.as_str()),
        };
        let mism: Vec<String> = r.mismatches.iter().map(|m| json_string(m)).collect();
        let _ = write!(
            out,
            "    {{\"test\": \"{:04}\", \"category\": {}, \"title\": {}, \"class\": {}, \"status\": \"{}\", \"reason\": {}, \"mismatches\": [{}], \"cause\": {}, \"seconds\": {:.2}}}",
            r.num,
            json_string(&r.category),
            json_string(&r.title),
            json_string(&r.class),
            status,
            json_string(reason),
            mism.join(", "),
            json_string(&r.cause),
            r.seconds
        );
        let _ = writeln!(out, "{}", if i + 1 < results.len() { "," } else { "" });
    }
    let _ = writeln!(out, "  ]\n}}");
    out
}

/// Read the tests of a result file written by `to_json` (one test per
/// line, keys in a fixed order), to merge an earlier run into a report.
pub fn from_json(text: &str) -> Vec<TestResult> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_end_matches(',');
        if !line.starts_with("{\"test\": ") {
            continue;
        }
        let fields = json_fields(line);
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let reason = get("reason");
        let status = match get("status").as_str() {
            "passed" => Status::Passed,
            "failed" => Status::Failed(reason),
            _ => Status::Skipped(reason),
        };
        out.push(TestResult {
            num: get("test").parse().unwrap_or(0),
            category: get("category"),
            title: get("title"),
            class: get("class"),
            status,
            mismatches: Vec::new(),
            cause: get("cause"),
            seconds: get("seconds").parse().unwrap_or(0.0),
        });
    }
    out
}

/// The string and number members of one flat JSON object (arrays skipped).
fn json_fields(obj: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let chars: Vec<char> = obj.chars().collect();
    let mut i = 0;
    let read_string = |i: &mut usize| -> String {
        let mut s = String::new();
        *i += 1;
        while *i < chars.len() && chars[*i] != '"' {
            if chars[*i] == '\\' && *i + 1 < chars.len() {
                *i += 1;
                match chars[*i] {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    'u' => {
                        let hex: String = chars[*i + 1..(*i + 5).min(chars.len())].iter().collect();
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap_or(0xfffd)).unwrap_or('\u{fffd}'));
                        *i += 4;
                    }
                    c => s.push(c),
                }
            } else {
                s.push(chars[*i]);
            }
            *i += 1;
        }
        *i += 1;
        s
    };
    while i < chars.len() {
        if chars[i] != '"' {
            i += 1;
            continue;
        }
        let key = read_string(&mut i);
        while i < chars.len() && (chars[i] == ':' || chars[i] == ' ') {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        match chars[i] {
            '"' => {
                let v = read_string(&mut i);
                fields.push((key, v));
            }
            '[' => {
                while i < chars.len() && chars[i] != ']' {
                    if chars[i] == '"' {
                        read_string(&mut i);
                    } else {
                        i += 1;
                    }
                }
            }
            _ => {
                let start = i;
                while i < chars.len() && chars[i] != ',' && chars[i] != '}' {
                    i += 1;
                }
                fields.push((key, chars[start..i].iter().collect::<String>().trim().to_string()));
            }
        }
    }
    fields
}

fn table_row(out: &mut String, name: &str, rs: &[&TestResult]) {
    let p = rs.iter().filter(|r| r.status == Status::Passed).count();
    let f = rs.iter().filter(|r| matches!(r.status, Status::Failed(_))).count();
    let s = rs.len() - p - f;
    let ran = p + f;
    let pct = if ran > 0 { format!("{:.0}%", 100.0 * p as f64 / ran as f64) } else { "-".into() };
    let _ = writeln!(out, "| {} | {} | {} | {} | {} | {} |", name, rs.len(), p, f, s, pct);
}

/// The compatibility report: pass counts per Exim test category, the
/// classes of 0000-Basic, and the reasons for skips and failures.
pub fn report(info: &RunInfo, results: &[TestResult]) -> String {
    let (p, f, s) = counts(results);
    let mut out = String::new();
    let _ = writeln!(out, "# Testsuite compatibility report\n");
    let _ = writeln!(out, "Generated by `rexim-runtest --report` (do not edit by hand).\n");
    let _ = writeln!(out, "- suite: {}\n- binary: `{}` (version {})\n- run started: {}\n- result: {} passed, {} failed, {} skipped\n", info.suite, info.binary, info.version, info.started, p, f, s);
    let _ = writeln!(out, "\"Pass rate\" counts the tests that ran (passed + failed).\n");
    let _ = writeln!(out, "## Per category\n");
    let _ = writeln!(out, "| category | tests | passed | failed | skipped | pass rate |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    let mut by_cat: BTreeMap<&str, Vec<&TestResult>> = BTreeMap::new();
    for r in results {
        by_cat.entry(&r.category).or_default().push(r);
    }
    for (cat, rs) in &by_cat {
        table_row(&mut out, cat, rs);
    }
    let basic: Vec<&TestResult> = results.iter().filter(|r| r.category == "0000-Basic").collect();
    if !basic.is_empty() {
        let _ = writeln!(out, "\n## 0000-Basic by class\n");
        let _ = writeln!(out, "| class | tests | passed | failed | skipped | pass rate |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for (c, desc) in crate::classify::CLASSES {
            let rs: Vec<&TestResult> = basic.iter().copied().filter(|r| r.class == *c).collect();
            table_row(&mut out, &format!("({}) {}", c, desc), &rs);
        }
    }
    let mut skip_reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut fail_reasons: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for r in results {
        match &r.status {
            Status::Skipped(w) => *skip_reasons.entry(w.clone()).or_default() += 1,
            Status::Failed(w) => fail_reasons.entry(if r.cause.is_empty() { w.clone() } else { r.cause.clone() }).or_default().push(r.num),
            Status::Passed => {}
        }
    }
    if !skip_reasons.is_empty() {
        let _ = writeln!(out, "\n## Skip reasons\n");
        let _ = writeln!(out, "| tests | reason |\n|---:|---|");
        let mut v: Vec<_> = skip_reasons.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (w, n) in v {
            let _ = writeln!(out, "| {} | {} |", n, w.replace('|', "\\|"));
        }
    }
    if !fail_reasons.is_empty() {
        let _ = writeln!(out, "\n## Failures by likely cause\n");
        let _ = writeln!(out, "The cause is a guess from the test's outputs (see `diagnose` in testsuite/runner/src/runner.rs); the JSON result file has each test's differing outputs.\n");
        let _ = writeln!(out, "| tests | likely cause |\n|---|---|");
        let mut v: Vec<_> = fail_reasons.into_iter().collect();
        v.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        for (w, nums) in v {
            let list: Vec<String> = nums.iter().take(30).map(|n| format!("{:04}", n)).collect();
            let more = if nums.len() > 30 { format!(" (+{} more)", nums.len() - 30) } else { String::new() };
            let _ = writeln!(out, "| {}{} | {} |", list.join(" "), more, w.replace('|', "\\|"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(num: u32, status: Status) -> TestResult {
        TestResult { num, category: "0000-Basic".into(), title: "t \"q\"".into(), class: "a".into(), status, mismatches: vec!["stdout".into()], cause: String::new(), seconds: 0.5 }
    }

    #[test]
    fn json_escapes_and_counts() {
        let info = RunInfo { suite: "exim".into(), binary: "/usr/sbin/exim".into(), version: "4.96".into(), started: "now".into() };
        let j = to_json(&info, &[r(1, Status::Passed), r(2, Status::Failed("stdout".into())), r(3, Status::Skipped("why".into()))]);
        assert!(j.contains("\"passed\": 1, \"failed\": 1, \"skipped\": 1"));
        assert!(j.contains("\"title\": \"t \\\"q\\\"\""));
        assert_eq!(json_string("a\nb\u{1}"), "\"a\\nb\\u0001\"");
        let back = from_json(&j);
        assert_eq!(back.len(), 3);
        assert_eq!(back[0].num, 1);
        assert_eq!(back[1].status, Status::Failed("stdout".into()));
        assert_eq!(back[2].status, Status::Skipped("why".into()));
        assert_eq!(back[0].title, "t \"q\"");
    }

    #[test]
    fn report_has_category_table_and_classes() {
        let info = RunInfo { suite: "exim".into(), binary: "b".into(), version: "v".into(), started: "s".into() };
        let rep = report(&info, &[r(1, Status::Passed), r(2, Status::Failed("stdout".into()))]);
        assert!(rep.contains("| 0000-Basic | 2 | 1 | 1 | 0 | 50% |"), "{}", rep);
        assert!(rep.contains("| (a) testing options"));
    }
}
