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
    let re = RegexBuilder::new().build(pattern).map_err(|e| {
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

/// `$0`, `$1`... from a match.
pub fn groups(caps: &Captures) -> Vec<String> {
    (0..caps.len())
        .map(|i| caps.get(i).map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned()).unwrap_or_default())
        .collect()
}
