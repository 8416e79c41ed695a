//! Administrators' regular expressions: PCRE2 as in Exim, compiled once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pcre2::bytes::{Captures, Regex, RegexBuilder};

use super::error::ExpandError;

thread_local! {
    static CACHE: RefCell<HashMap<String, Rc<Regex>>> = RefCell::new(HashMap::new());
}

/// Compile (or fetch) a pattern; `what` names the item for the error text.
pub fn compile(pattern: &str, what: &str) -> Result<Rc<Regex>, ExpandError> {
    if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = RegexBuilder::new().build(&pcre_pattern(pattern)).map_err(|e| {
        let offset = e.offset().unwrap_or(0);
        let text = e.to_string();
        // The crate's text is "PCRE2: error compiling pattern at offset N: msg".
        let msg = text.rsplit_once(": ").map(|(_, m)| m.to_string()).unwrap_or(text);
        let _ = what;
        ExpandError::Failed(format!("regular expression error in \"{pattern}\": {msg} at offset {offset}"))
    })?;
    let re = Rc::new(re);
    CACHE.with(|c| c.borrow_mut().insert(pattern.to_string(), re.clone()));
    Ok(re)
}

/// The pattern for PCRE2, which takes text: a byte that is not UTF-8
/// (a reserved character, see crate::bytes) is written as `\x{HH}`,
/// which matches that byte in PCRE2's byte mode; after a backslash that
/// escapes it the backslash serves, and inside `\Q...\E` the quoting is
/// interrupted around it.
pub fn pcre_pattern(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !crate::bytes::has_raw(pattern) {
        return std::borrow::Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len() + 16);
    let (mut escaped, mut quoted) = (false, false);
    for c in pattern.chars() {
        match crate::bytes::reserved_byte(c) {
            Some(b) if quoted => out.push_str(&format!("\\E\\x{{{b:02x}}}\\Q")),
            Some(b) if escaped => out.push_str(&format!("x{{{b:02x}}}")),
            Some(b) => out.push_str(&format!("\\x{{{b:02x}}}")),
            None => {
                if escaped && c == 'Q' {
                    quoted = true;
                } else if escaped && c == 'E' {
                    quoted = false;
                }
                out.push(c);
            }
        }
        escaped = !escaped && c == '\\';
    }
    std::borrow::Cow::Owned(out)
}

/// `$0`, `$1`... from a match.
pub fn groups(caps: &Captures) -> Vec<String> {
    (0..caps.len())
        .map(|i| caps.get(i).map(|m| crate::bytes::from_bytes(m.as_bytes()).into_owned()).unwrap_or_default())
        .collect()
}
