//! The `begin rewrite` section: rules split and checked as Exim's
//! readconf_one_rewrite() does (the rewriting itself is another layer's).

use super::value::interpret_escape;

/// One rewrite rule: pattern, replacement and flag letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewriteRule {
    pub key: String,
    pub replacement: String,
    pub flags: String,
    pub file: String,
    pub line: usize,
}

/// Exim's string_dequote(): a quoted item with escapes, or a word up to
/// white space. Returns the item and the rest after it.
pub fn dequote(s: &str) -> (String, &str) {
    let b = s.as_bytes();
    if !s.starts_with('"') {
        let end = s.find(|c: char| c.is_ascii_whitespace()).unwrap_or(s.len());
        return (s[..end].to_string(), &s[end..]);
    }
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            let (c, n) = interpret_escape(&b[i + 1..]);
            crate::bytes::push_escaped(&mut out, &b[i + 1..], c);
            i += 1 + n;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if i < b.len() {
        i += 1;
    }
    (crate::bytes::utf8_buffer(out), &s[i.min(s.len())..])
}

/// Parse one rule; Err is Exim's text.
pub fn parse_rule(text: &str, file: &str, line: usize) -> Result<RewriteRule, String> {
    let (key, rest) = dequote(text);
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Err("missing rewrite replacement string".to_string());
    }
    let (replacement, rest) = dequote(rest);
    let mut flags = String::new();
    for c in rest.chars() {
        match c {
            ' ' | '\t' => {}
            'q' | 'w' | 'h' | 's' | 'f' | 't' | 'c' | 'b' | 'r' | 'E' | 'F' | 'T' | 'Q' | 'R' => flags.push(c),
            'S' => {
                if !key.starts_with('^') && !key.starts_with("\\N^") {
                    return Err("rewrite rule has the S flag but is not a regular expression".to_string());
                }
                flags.push(c);
            }
            _ => {
                return Err(format!(
                    "unknown rewrite flag character '{c}' (could be missing quotes round replacement item)"
                ))
            }
        }
    }
    Ok(RewriteRule { key, replacement, flags, file: file.to_string(), line })
}
