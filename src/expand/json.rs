//! The JSON forms of `${extract}` and `forall_json`/`forany_json`.
//!
//! Exim does not build a document tree: it scans for the wanted member or
//! element and returns its text. This scanner does the same.

use super::ast::JsonMode;
use super::error::ExpandError;

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end (exclusive) of the JSON value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => {
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'\\' => j += 2,
                    b'"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
            None
        }
        b'{' | b'[' => {
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = value_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace() {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

fn finish(text: &str, mode: JsonMode) -> String {
    match mode {
        JsonMode::Jsons if text.starts_with('"') => {
            let b = text.as_bytes();
            match value_end(b, 0) {
                Some(end) => text[1..end - 1].to_string(),
                None => text.to_string(),
            }
        }
        _ => text.to_string(),
    }
}

/// Exim returns an element's text up to the next separator at its level,
/// trailing white space included.
fn element_text(s: &str, start: usize, end: usize) -> (&str, usize) {
    let b = s.as_bytes();
    let mut j = end;
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    (&s[start..j], j)
}

/// The elements of a JSON array, as text.
fn elements(s: &str) -> Option<Vec<&str>> {
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut out = Vec::new();
    if b.get(i) == Some(&b']') {
        return Some(out);
    }
    loop {
        let end = value_end(b, i)?;
        let (text, j) = element_text(s, i, end);
        out.push(text);
        i = j;
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b']' => return Some(out),
            _ => return None,
        }
    }
}

/// Members of a JSON object as (key, value text).
fn members(s: &str) -> Option<Vec<(String, &str)>> {
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut out = Vec::new();
    if b.get(i) == Some(&b'}') {
        return Some(out);
    }
    loop {
        let kend = value_end(b, i)?;
        let key = s[i..kend].trim_matches('"').to_string();
        i = skip_ws(b, kend);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let vend = value_end(b, i)?;
        let (text, j) = element_text(s, i, vend);
        out.push((key, text));
        i = j;
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return Some(out),
            _ => return None,
        }
    }
}

/// `${extract json{key}{doc}}` or `${extract json{N}{doc}}`.
pub fn extract(key: &str, doc: &str, mode: JsonMode) -> Result<Option<String>, ExpandError> {
    let fail = |m: &str| Err(ExpandError::Failed(m.to_string()));
    let lead = doc.trim_start().as_bytes().first().copied();
    if let Ok(n) = key.trim().parse::<i64>() {
        if n <= 0 {
            return fail("first argument of \"extract\" must be greater than zero");
        }
        if lead != Some(b'[') {
            return fail("missing '[' wrapping array for extract json");
        }
        let Some(els) = elements(doc) else {
            return fail("missing ']' wrapping array for extract json");
        };
        return Ok(els.get(n as usize - 1).map(|t| finish(t, mode)));
    }
    if lead != Some(b'{') {
        return fail("missing '{' wrapping object for extract json");
    }
    let Some(ms) = members(doc) else {
        return fail("missing '}' wrapping object for extract json");
    };
    Ok(ms.into_iter().find(|(k, _)| k == key).map(|(_, v)| finish(v, mode)))
}

pub fn array_items(doc: &str, mode: JsonMode) -> Result<Vec<String>, ExpandError> {
    match elements(doc) {
        Some(els) => Ok(els.into_iter().map(|t| finish(t, mode)).collect()),
        None => Err(ExpandError::Failed(format!("\"{doc}\" is not a JSON array"))),
    }
}
