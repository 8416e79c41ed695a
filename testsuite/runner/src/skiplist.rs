//! testsuite/skip.toml: every test that is skipped, with its reason.
//!
//! The file is a small TOML subset: `[section]` headers and
//! `"key" = "reason"` lines, `#` comments. Sections: `ours`, `exim`, and
//! per-binary refinements `ours.rexim`, `ours.exim`, `exim.rexim`,
//! `exim.exim` (the binary kind is "rexim" when the binary's name contains
//! "rexim", else "exim"). Keys: a test number "0123", a range "0100-0199",
//! or a category directory name "2100-OpenSSL".

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct SkipList {
    /// section -> (key, reason) in file order
    sections: BTreeMap<String, Vec<(String, String)>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SkipError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for SkipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "skip.toml line {}: {}", self.line, self.message)
    }
}

fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The first `target` outside double quotes (backslash escapes inside).
fn find_unquoted(line: &str, target: char) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            '\\' if in_quotes && !escaped => {
                escaped = true;
                continue;
            }
            '"' if !escaped => in_quotes = !in_quotes,
            c if c == target && !in_quotes => return Some(i),
            _ => {}
        }
        escaped = false;
    }
    None
}

/// Split `"key" = "value"` at the `=` that is outside quotes.
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    find_unquoted(line, '=').map(|i| (&line[..i], &line[i + 1..]))
}

fn strip_comment(line: &str) -> &str {
    match find_unquoted(line, '#') {
        Some(i) => &line[..i],
        None => line,
    }
}

impl SkipList {
    pub fn parse(text: &str) -> Result<SkipList, SkipError> {
        let mut list = SkipList::default();
        let mut section = String::new();
        for (i, raw) in text.lines().enumerate() {
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().replace('"', "");
                list.sections.entry(section.clone()).or_default();
                continue;
            }
            let (k, v) = split_assignment(line).ok_or(SkipError { line: i + 1, message: "expected \"key\" = \"reason\"".into() })?;
            let key = unquote(k).or_else(|| Some(k.trim().to_string()).filter(|k| !k.is_empty() && !k.contains(' ')));
            let (key, reason) = match (key, unquote(v)) {
                (Some(k), Some(r)) => (k, r),
                _ => return Err(SkipError { line: i + 1, message: "expected \"key\" = \"reason\"".into() }),
            };
            if section.is_empty() {
                return Err(SkipError { line: i + 1, message: "entry outside a [section]".into() });
            }
            if reason.trim().is_empty() {
                return Err(SkipError { line: i + 1, message: format!("test {} has no reason", key) });
            }
            list.sections.entry(section.clone()).or_default().push((key, reason));
        }
        Ok(list)
    }

    /// The reason to skip test `num` of `category` in `suite` for a binary
    /// of `kind`; the per-binary section wins over the suite's.
    pub fn reason(&self, suite: &str, kind: &str, num: u32, category: &str) -> Option<String> {
        for section in [format!("{}.{}", suite, kind), suite.to_string()] {
            if let Some(entries) = self.sections.get(&section) {
                for (key, reason) in entries {
                    if key_matches(key, num, category) {
                        return Some(reason.clone());
                    }
                }
            }
        }
        None
    }

    pub fn len(&self) -> usize {
        self.sections.values().map(|v| v.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn key_matches(key: &str, num: u32, category: &str) -> bool {
    if key == category {
        return true;
    }
    if let Some((a, b)) = key.split_once('-') {
        if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
            return (a..=b).contains(&num);
        }
        return false;
    }
    key.parse::<u32>().map(|k| k == num).unwrap_or(false)
}

/// "rexim" or "exim", from the binary's file name.
pub fn binary_kind(binary: &std::path::Path) -> &'static str {
    let real = binary.canonicalize().unwrap_or_else(|_| binary.to_path_buf());
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.contains("rexim") || binary.to_string_lossy().contains("rexim") {
        "rexim"
    } else {
        "exim"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
# comment
[exim]
"0002" = "helper: aux-fixed/0002.runfile is excluded"  # trailing comment
"1000-1099" = "harness difference: no IPv6 address"
"2100-OpenSSL" = "harness difference: TLS client"

[exim.rexim]
"0001" = "missing feature: -bP"
"#;

    #[test]
    fn reasons_by_number_range_category_and_kind() {
        let l = SkipList::parse(SAMPLE).unwrap();
        assert_eq!(l.reason("exim", "exim", 2, "0000-Basic").unwrap(), "helper: aux-fixed/0002.runfile is excluded");
        assert!(l.reason("exim", "exim", 1050, "1000-Basic-ipv6").unwrap().starts_with("harness"));
        assert!(l.reason("exim", "exim", 2101, "2100-OpenSSL").is_some());
        assert!(l.reason("exim", "exim", 1, "0000-Basic").is_none());
        assert_eq!(l.reason("exim", "rexim", 1, "0000-Basic").unwrap(), "missing feature: -bP");
        assert!(l.reason("ours", "exim", 2, "0000-Basic").is_none());
        assert_eq!(l.len(), 4);
    }

    #[test]
    fn errors() {
        assert_eq!(SkipList::parse("\"1\" = \"x\"").unwrap_err().line, 1);
        assert!(SkipList::parse("[exim]\n\"1\" = \"\"").is_err());
        assert!(SkipList::parse("[exim]\nnonsense").is_err());
    }
}
