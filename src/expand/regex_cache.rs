//! Administrators' regular expressions: PCRE2 as in Exim, compiled once.
//!
//! A pattern that is used again and again (a `-be` workload, an option
//! expanded for every message) is also JIT-compiled once it has been used
//! `JIT_AFTER` times. The JIT gives the interpreter's results; where it
//! fails (its stack is smaller than the interpreter's heap frames) the
//! match is run again by the interpreter, whose result or error counts, so
//! nothing an administrator sees depends on the JIT.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use pcre2::bytes::{CaptureLocations, Match, Regex, RegexBuilder};

use super::error::ExpandError;
use super::WordHashBuild;

/// Patterns kept compiled, at most (the cache is emptied when full).
const CACHE_LIMIT: usize = 1024;

/// Uses of a pattern before it is JIT-compiled: a string seen once is not
/// worth the JIT's compile time.
const JIT_AFTER: u32 = 4;

/// A compiled pattern and a match buffer kept for its next use.
pub struct CachedRegex {
    re: Regex,
    jit: OnceCell<Option<Regex>>,
    uses: Cell<u32>,
    /// PCRE2's match data (and the heap frames it grows), reused.
    locations: RefCell<Option<CaptureLocations>>,
}

impl CachedRegex {
    fn new(re: Regex) -> Self {
        CachedRegex { re, jit: OnceCell::new(), uses: Cell::new(0), locations: RefCell::new(None) }
    }

    fn used(&self) {
        let n = self.uses.get().saturating_add(1);
        self.uses.set(n);
        if n >= JIT_AFTER && self.jit.get().is_none() {
            let jit = RegexBuilder::new().jit_if_available(true).build(self.re.as_str()).ok();
            let _ = self.jit.set(jit);
        }
    }

    /// A match buffer for this pattern: the kept one, or a new one when it
    /// is in use (a nested expansion with the same pattern).
    pub fn take_locations(&self) -> CaptureLocations {
        self.locations.borrow_mut().take().unwrap_or_else(|| self.re.capture_locations())
    }

    /// Give the buffer back for the next use; only a pattern in frequent
    /// use keeps one (PCRE2's heap frames in it are 20 KiB and more).
    pub fn put_locations(&self, locs: CaptureLocations) {
        if self.uses.get() >= JIT_AFTER {
            *self.locations.borrow_mut() = Some(locs);
        }
    }

    /// The first match at or after `start`, its groups left in `locs`.
    pub fn captures_read_at<'s>(&self, locs: &mut CaptureLocations, subject: &'s [u8], start: usize) -> Result<Option<Match<'s>>, pcre2::Error> {
        if let Some(Some(jit)) = self.jit.get() {
            if let Ok(found) = jit.captures_read_at(locs, subject, start) {
                return Ok(found);
            }
        }
        self.re.captures_read_at(locs, subject, start)
    }

    /// `$0`, `$1`... of a match, for a condition that sets them.
    pub fn groups(&self, subject: &[u8]) -> Result<Option<Vec<String>>, pcre2::Error> {
        let mut locs = self.take_locations();
        let found = self.captures_read_at(&mut locs, subject, 0);
        let groups = match found {
            Ok(Some(_)) => Ok(Some(groups(&locs, subject))),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        self.put_locations(locs);
        groups
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Rc<CachedRegex>, WordHashBuild>> = RefCell::new(HashMap::default());
}

/// Compile (or fetch) a pattern; `what` names the item for the error text.
pub fn compile(pattern: &str, what: &str) -> Result<Rc<CachedRegex>, ExpandError> {
    if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        re.used();
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
    let re = Rc::new(CachedRegex::new(re));
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        // Patterns made from variables could otherwise grow it for ever.
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(pattern.to_string(), re.clone())
    });
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

/// `$0`, `$1`... from the groups of a match in `subject`.
pub fn groups(locs: &CaptureLocations, subject: &[u8]) -> Vec<String> {
    (0..locs.len())
        .map(|i| locs.get(i).map(|(s, e)| crate::bytes::from_bytes(&subject[s..e]).into_owned()).unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A match deep enough to overflow the JIT's default stack gets the
    /// interpreter's answer (its heap frames go further), as Exim, which
    /// does not JIT, would give it.
    #[test]
    fn jit_failure_falls_back_to_the_interpreter() {
        let pattern = "^(a|b)*$";
        let re = compile(pattern, "match").expect("compiles");
        for _ in 0..JIT_AFTER {
            compile(pattern, "match").expect("cached");
        }
        assert!(matches!(re.jit.get(), Some(Some(_))), "JIT-compiled by now");
        let subject = vec![b'a'; 200_000];
        let jit = re.jit.get().and_then(Option::as_ref).expect("jit");
        let mut locs = re.take_locations();
        assert!(jit.captures_read_at(&mut locs, &subject, 0).is_err(), "the JIT alone runs out of stack");
        let groups = re.groups(&subject).expect("the interpreter matches");
        assert_eq!(groups.map(|g| g[1].clone()), Some("a".to_string()));
    }

    #[test]
    fn groups_and_buffer_reuse() {
        let re = compile("^([a-z]+)(\\d+)?", "match").expect("compiles");
        for _ in 0..2 * JIT_AFTER {
            assert_eq!(re.groups(b"foo123").unwrap(), Some(vec!["foo123".into(), "foo".into(), "123".into()]));
            assert_eq!(re.groups(b"bar").unwrap(), Some(vec!["bar".into(), "bar".into(), String::new()]));
            assert_eq!(re.groups(b"123").unwrap(), None);
        }
    }
}
