//! rexim: an Exim-compatible mail server core.
//!
//! `docs/ARCHITECTURE.md` says where things live and how data flows.

pub mod acl;
pub mod alloc;
pub mod auth;
pub mod be;
pub mod be_config;
pub mod bytes;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dns;
pub mod dsn;
pub mod environment;
pub mod expand;
pub mod hintsdb;
pub mod lists;
pub mod log;
pub mod parse;
pub mod lookups;
pub mod proxy;
pub mod ratelimit;
pub mod rewrite;
pub mod smtp;
pub mod spool;
pub mod texts;
pub mod tls;
