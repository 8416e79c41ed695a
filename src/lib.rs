//! rexim: an Exim-compatible mail server core.
//!
//! `docs/ARCHITECTURE.md` says where things live and how data flows.

pub mod cli;
pub mod dns;
pub mod expand;
pub mod lists;
pub mod lookups;
pub mod texts;
