//! rexim: an Exim-compatible mail server core.
//!
//! `docs/ARCHITECTURE.md` says where things live and how data flows.

pub mod be;
pub mod be_config;
pub mod cli;
pub mod environment;
pub mod expand;
pub mod acl;
pub mod hintsdb;
pub mod ratelimit;
pub mod texts;
