//! Regular expressions in lists and lookups: PCRE2, as Exim uses, compiled
//! once per (pattern, caselessness) and cached for the process.

use pcre2::bytes::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

type Cache = Mutex<HashMap<(String, bool), Arc<Regex>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Compile (or fetch) a pattern. Err is Exim's message:
/// `regular expression error: <pcre text> at offset <n> while compiling <re>`.
pub fn compile(pattern: &str, caseless: bool) -> Result<Arc<Regex>, String> {
    let key = (pattern.to_string(), caseless);
    if let Some(r) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(r);
    }
    let re = RegexBuilder::new().caseless(caseless).build(&crate::expand::regex_pattern(pattern)).map_err(|e| {
        // Display is "PCRE2: error compiling pattern[ at offset N]: <text>".
        let shown = e.to_string();
        let text = shown.split_once(": ").map(|(_, t)| t.to_string()).unwrap_or(shown.clone());
        let text = match text.split_once(": ") {
            Some((head, t)) if head.starts_with("error compiling") => t.to_string(),
            _ => text,
        };
        match e.offset() {
            Some(off) => format!("regular expression error: {text} at offset {off} while compiling {pattern}"),
            None => format!("regular expression error: {text} while compiling {pattern}"),
        }
    })?;
    let re = Arc::new(re);
    if let Ok(mut c) = cache().lock() {
        c.insert(key, re.clone());
    }
    Ok(re)
}

/// Match and return the captures ($0, $1, ...) as strings; unset groups
/// are empty, as in Exim.
pub fn captures(re: &Regex, subject: &str) -> Result<Option<Vec<String>>, String> {
    match re.captures(&crate::bytes::to_bytes(subject)) {
        Ok(Some(c)) => Ok(Some(
            (0..c.len())
                .map(|i| c.get(i).map(|m| crate::bytes::from_bytes(m.as_bytes()).into_owned()).unwrap_or_default())
                .collect(),
        )),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exim_error_text() {
        // Recorded from Exim 4.96 for the domain list item "^(".
        assert_eq!(compile("^(", true).unwrap_err(), "regular expression error: missing closing parenthesis at offset 2 while compiling ^(");
    }

    #[test]
    fn caseless_and_cached() {
        let a = compile(r"^x\d+\.e$", true).unwrap();
        let b = compile(r"^x\d+\.e$", true).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(captures(&a, "X12.E").unwrap().unwrap()[0], "X12.E");
        assert!(captures(&compile("^(?-i)x", true).unwrap(), "X").unwrap().is_none());
    }
}
