//! Exim's `${...}` string expansion language.
//!
//! A string is compiled once (pest grammar in `grammar/expand.pest`) into an
//! AST and evaluated many times against a `Context` that supplies variables.

mod error;

pub use error::ExpandError;

/// A compiled expansion string.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub source: String,
}

/// Compile an expansion string. Placeholder until the grammar lands.
pub fn compile(source: &str) -> Result<Compiled, ExpandError> {
    Ok(Compiled { source: source.to_string() })
}
