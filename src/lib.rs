//! rexim: an Exim-compatible mail server core.
//!
//! `docs/ARCHITECTURE.md` says where things live and how data flows.

pub mod acl;
pub mod be;
pub mod be_config;
pub mod cli;
pub mod config;
pub mod dns;
pub mod dsn;
pub mod environment;
pub mod expand;
pub mod hintsdb;
pub mod lists;
pub mod lookups;
pub mod proxy;
pub mod ratelimit;
pub mod texts;
