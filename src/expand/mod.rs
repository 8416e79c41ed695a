//! Exim's `${...}` string expansion language.
//!
//! A string is compiled once (pest grammar in `grammar/expand.pest`, then
//! `parse` builds the AST with Exim's error texts) and evaluated many times
//! by `eval::Evaluator` against a `Context` that supplies variables,
//! headers, lists, lookups and ACLs.

mod address;
mod arith;
pub mod ast;
pub mod conditions;
mod context;
mod crypteq;
mod encode;
mod error;
mod escape;
pub mod headers;
mod eval;
mod iconv;
mod ipaddr;
pub mod items;
mod json;
pub mod lists;
pub mod operators;
mod parse;
mod punycode;
mod quickparse;
mod readsocket;
mod regex_cache;
mod run;
mod srs;
mod strings;
pub mod variables;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

pub use arith::{readconf_printtime, readconf_readtime};
pub use context::{Context, Found, ListKind, WithAddressParts};
pub use error::ExpandError;
pub use encode::rfc2047;
pub use eval::Evaluator;
pub use regex_cache::pcre_pattern as regex_pattern;
pub use run::RunResult;

/// The address in an RFC 2822 mailbox (`Name <a@b>` or `a@b`), as
/// `${address:}` extracts it; `None` when it is malformed.
pub fn parse_address(s: &str) -> Option<String> {
    address::extract(s).map(|e| e.address)
}

/// Exim's string_printing(): control characters and bytes above 0x7f as
/// C escapes (tabs kept), as log lines of administrators' texts show them.
pub fn printing(s: &str) -> String {
    strings::string_printing(s, true, false)
}

/// A compiled expansion string.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub nodes: ast::Seq,
}

impl Compiled {
    /// True when the string has no `$` or `\` to interpret.
    pub fn literal(&self) -> Option<&str> {
        match self.nodes.as_slice() {
            [] => Some(""),
            [ast::Node::Lit(s)] => Some(s),
            _ => None,
        }
    }
}

/// The cache is keyed by whole expansion strings, for which SipHash's
/// protection against chosen keys buys nothing (the strings come from the
/// configuration) and costs a noticeable share of a lookup. This one takes
/// eight bytes at a step (the multiply-rotate of rustc's FxHasher).
#[derive(Default, Clone, Copy)]
pub(crate) struct WordHash(u64);

impl WordHash {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl std::hash::Hasher for WordHash {
    fn finish(&self) -> u64 {
        // The multiply mixes upwards; the table indexes by the low bits.
        self.0.rotate_left(26)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut last = [0u8; 8];
            last[..tail.len()].copy_from_slice(tail);
            self.add(u64::from_le_bytes(last) ^ ((tail.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }
}

pub(crate) type WordHashBuild = std::hash::BuildHasherDefault<WordHash>;

/// The compiled strings, and the hashes of strings compiled once.
#[derive(Default)]
struct Cache {
    compiled: HashMap<String, Arc<Compiled>, WordHashBuild>,
    seen_once: std::collections::HashSet<u64, std::hash::BuildHasherDefault<SeenHash>>,
}

/// The seen-once set holds hashes already: they are used as they are.
#[derive(Default)]
struct SeenHash(u64);

impl std::hash::Hasher for SeenHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

thread_local! {
    // Never dropped: freeing thousands of compiled strings at exit is
    // work for nothing.
    static CACHE: std::mem::ManuallyDrop<RefCell<Cache>> = std::mem::ManuallyDrop::new(RefCell::new(Cache::default()));
}

/// Strings compiled at run time (`${expand:}`, `sg` replacements, `-be`
/// lines) are cached, up to this many.
const CACHE_LIMIT: usize = 4096;

/// Compile an expansion string. A string is kept compiled from the second
/// time it is compiled on: most strings are either compiled once (a `-be`
/// line, a message's header) or many times (an option, a list item), and
/// keeping the first kind only fills the cache and the heap.
pub fn compile(source: &str) -> Result<Arc<Compiled>, ExpandError> {
    use std::hash::BuildHasher;
    let first_time = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(compiled) = c.compiled.get(source) {
            return Err(compiled.clone());
        }
        if c.seen_once.len() >= CACHE_LIMIT {
            c.seen_once.clear();
        }
        Ok(c.seen_once.insert(WordHashBuild::default().hash_one(source)))
    });
    let first_time = match first_time {
        Err(compiled) => return Ok(compiled),
        Ok(first) => first,
    };
    let compiled = Arc::new(Compiled { nodes: parse::parse(source)? });
    if !first_time {
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.compiled.len() >= CACHE_LIMIT {
                c.compiled.clear();
            }
            c.compiled.insert(source.to_string(), compiled.clone());
        });
    }
    Ok(compiled)
}

/// Compile without touching the cache (for strings seen once).
pub fn compile_uncached(source: &str) -> Result<Compiled, ExpandError> {
    Ok(Compiled { nodes: parse::parse(source)? })
}

/// Evaluate a compiled string.
pub fn evaluate(compiled: &Compiled, ctx: &mut dyn Context) -> Result<String, ExpandError> {
    Evaluator::new(ctx).seq(&compiled.nodes)
}

/// Compile and evaluate.
pub fn expand_string(source: &str, ctx: &mut dyn Context) -> Result<String, ExpandError> {
    match compile(source) {
        Ok(c) => evaluate(&c, ctx),
        Err(e) => Err(error_as_exim_meets_it(source, e, ctx)),
    }
}

/// Compile and evaluate into `out`, which is cleared first: a caller
/// that expands many strings in turn (`-be`) reuses one buffer.
pub fn expand_into(source: &str, ctx: &mut dyn Context, out: &mut String) -> Result<(), ExpandError> {
    out.clear();
    match compile(source) {
        Ok(c) => Evaluator::new(ctx).seq_into(&c.nodes, out).map(|_| ()),
        Err(e) => Err(error_as_exim_meets_it(source, e, ctx)),
    }
}

/// Compile and evaluate with `$1`, `$2`... set to `values`, as Exim sets
/// them for an authenticator's options.
pub fn expand_string_numbered(source: &str, ctx: &mut dyn Context, values: &[String]) -> Result<String, ExpandError> {
    match compile(source) {
        Ok(c) => Evaluator::new(ctx).with_numeric(values).seq(&c.nodes),
        Err(e) => Err(error_as_exim_meets_it(source, e, ctx)),
    }
}

/// Compile and evaluate with the numeric variables set from `$0` on
/// (an address rewrite's match).
pub fn expand_string_from_zero(source: &str, ctx: &mut dyn Context, numeric: Vec<String>) -> Result<String, ExpandError> {
    match compile(source) {
        Ok(c) => Evaluator::new(ctx).with_numeric_from_zero(numeric).seq(&c.nodes),
        Err(e) => Err(error_as_exim_meets_it(source, e, ctx)),
    }
}

/// Exim evaluates a string while it reads it: what comes before a syntax
/// error is evaluated, and an error there is the one reported. rexim
/// compiles first, so for a string that failed to compile the part before
/// the error is evaluated now (valid strings keep their one compilation).
pub fn error_as_exim_meets_it(source: &str, error: ExpandError, ctx: &mut dyn Context) -> ExpandError {
    let Some(seq) = parse::parse_to_error(source) else {
        return error;
    };
    let mut ev = Evaluator::new(ctx);
    ev.to_error = true;
    match ev.seq(&seq) {
        Err(e) => e,
        // The error was in a part that was skipped after all.
        Ok(_) => error,
    }
}
