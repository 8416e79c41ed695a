//! rexim-testsuite: runs test scripts in the format of Exim's testsuite
//! against rexim or any Exim-compatible binary (see docs/testsuite.md).

pub mod caller;
pub mod classify;
pub mod cli;
pub mod client;
pub mod compare;
pub mod dump;
pub mod escapes;
pub mod exec;
pub mod munge;
pub mod named_munge;
pub mod netns;
pub mod requires;
pub mod results;
pub mod runner;
pub mod script;
pub mod server;
pub mod setup;
pub mod skiplist;
pub mod subst;
pub mod tls;
