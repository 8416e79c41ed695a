//! The `begin retry` section, parsed and checked as Exim's
//! readconf_retries() does (Exim's error texts).

use super::rewrite::dequote;
use super::value::read_time;

/// One retry rule: letter, timeout and parameters (seconds; the G/H
/// multiplier times 1000).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryRule {
    pub letter: char,
    pub timeout: i64,
    pub p1: i64,
    pub p2: i64,
}

/// One line of the retry section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    pub pattern: String,
    /// The error name as written ("*", "timeout_connect_MX", "quota_7d"...).
    pub error: String,
    pub senders: Option<String>,
    pub rules: Vec<RetryRule>,
    pub file: String,
    pub line: usize,
}

fn skip_ws(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii_whitespace())
}

/// Case-insensitive comparison of the first `n` bytes (Exim's strncmpic,
/// which also stops at the end of the shorter string).
fn strncmpic(a: &str, b: &str, n: usize) -> bool {
    let a = a.as_bytes();
    let b = b.as_bytes();
    for i in 0..n {
        let (x, y) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
        if !x.eq_ignore_ascii_case(&y) {
            return false;
        }
        if x == 0 {
            return true;
        }
    }
    true
}

/// Exim's readconf_retry_error(): check an error name; Err is Exim's text.
pub fn check_error(e: &str) -> Result<(), String> {
    let q = e.find('_').unwrap_or(e.len());
    let head = &e[..q];
    let tail = e.get(q + 1..).unwrap_or("");
    let tail_len = e.len().saturating_sub(q + 1);
    if head.eq_ignore_ascii_case("quota") {
        if q != e.len() && read_time(tail, None).is_none_or(|t| t < 0) {
            return Err("bad time value".to_string());
        }
    } else if head.eq_ignore_ascii_case("refused") {
        if q != e.len() && !strncmpic(tail, "MX", tail_len) && !strncmpic(tail, "A", tail_len) {
            return Err("A or MX expected after \"refused\"".to_string());
        }
    } else if head.eq_ignore_ascii_case("timeout") {
        let extras = ["A", "MX", "connect", "connect_A", "connect_MX", "DNS"];
        if q != e.len() && !extras.iter().any(|x| strncmpic(tail, x, tail_len)) {
            return Err("\"A\", \"MX\", or \"connect\" expected after \"timeout\"".to_string());
        }
    } else if ["mail_4", "rcpt_4", "data_4"].iter().any(|p| strncmpic(e, p, 6)) {
        let b = e.as_bytes();
        let bad = if b.len() != 8 {
            true
        } else {
            let (a, c) = (b[6], b[7]);
            if a.is_ascii_digit() {
                !(c.is_ascii_digit() || c == b'x')
            } else {
                a != b'x' || c != b'x'
            }
        };
        if bad {
            return Err(format!(
                "{}_4 must be followed by xx, dx, or dd, where x is literal and d is any digit",
                &e[..4.min(e.len())]
            ));
        }
    } else if (head.eq_ignore_ascii_case("auth") && strncmpic(tail, "failed", tail_len))
        || strncmpic(e, "lost_connection", e.len())
        || strncmpic(e, "tls_required", e.len())
        || strncmpic(e, "lookup", e.len())
        || e == "*"
    {
    } else {
        return Err(format!("unknown or malformed retry error \"{e}\""));
    }
    Ok(())
}

/// Exim's retry_arg(): `,value`; type 1 allows a decimal point.
fn retry_arg<'a>(s: &'a str, fixed: bool) -> Result<(i64, &'a str), String> {
    let Some(rest) = s.strip_prefix(',') else {
        return Err("comma expected".to_string());
    };
    let rest = skip_ws(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || (fixed && c == '.')))
        .unwrap_or(rest.len());
    let after = &rest[end..];
    if let Some(c) = after.chars().next() {
        if !c.is_ascii_whitespace() && c != ',' && c != ';' {
            return Err("comma or semicolon expected".to_string());
        }
    }
    let item = &rest[..end];
    let v = if fixed { read_fixed_item(item) } else { read_time(item, None).unwrap_or(-1) };
    Ok((if item.is_empty() { -1 } else { v }, after))
}

/// Exim's readconf_readfixed() on a whole item.
fn read_fixed_item(s: &str) -> i64 {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return -1;
    }
    let mut i = 0;
    let mut v: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = (v * 10 + (b[i] - b'0') as i64).min(i32::MAX as i64);
        i += 1;
    }
    v *= 1000;
    if i < b.len() && b[i] == b'.' {
        let mut m = 100;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            v += (b[i] - b'0') as i64 * m;
            m /= 10;
            i += 1;
        }
    }
    if i == b.len() {
        v
    } else {
        -1
    }
}

/// Parse one retry line; Err is Exim's text.
pub fn parse_line(text: &str, file: &str, line: usize) -> Result<RetryConfig, String> {
    let (pattern, rest) = dequote(text);
    let rest = skip_ws(rest);
    let end = rest.find(|c: char| !c.is_ascii_graphic()).unwrap_or(rest.len());
    if end == 0 {
        return Err("missing error type in retry rule".to_string());
    }
    let error = rest[..end].to_string();
    check_error(&error)?;
    let mut p = skip_ws(&rest[end..]);
    let mut senders = None;
    if let Some(r) = p.strip_prefix("senders") {
        let r = skip_ws(r);
        let Some(r) = r.strip_prefix('=') else {
            return Err("\"=\" expected after \"senders\" in retry rule".to_string());
        };
        let (s, r) = dequote(skip_ws(r));
        senders = Some(s);
        p = r;
    }
    p = skip_ws(p);
    let mut rules = Vec::new();
    while let Some(c) = p.chars().next() {
        let letter = c.to_ascii_uppercase();
        let (timeout, r) = retry_arg(&p[c.len_utf8()..], false)?;
        let (p1, p2, r) = match letter {
            'F' => {
                let (p1, r) = retry_arg(r, false)?;
                (p1, 0, r)
            }
            'G' | 'H' => {
                let (p1, r) = retry_arg(r, false)?;
                let (p2, r) = retry_arg(r, true)?;
                (p1, p2, r)
            }
            _ => return Err("unknown retry rule letter".to_string()),
        };
        if timeout <= 0 || p1 <= 0 || (letter != 'F' && p2 < 1000) {
            return Err("bad parameters for retry rule".to_string());
        }
        rules.push(RetryRule { letter, timeout, p1, p2 });
        let r = skip_ws(r);
        p = match r.strip_prefix(';') {
            Some(r) => skip_ws(r),
            None if r.is_empty() => r,
            None => return Err("semicolon expected".to_string()),
        };
    }
    Ok(RetryConfig { pattern, error, senders, rules, file: file.to_string(), line })
}
