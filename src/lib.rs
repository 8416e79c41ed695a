//! rexim: an Exim-compatible mail server core.
//!
//! `docs/ARCHITECTURE.md` says where things live and how data flows.

pub mod be;
pub mod be_config;
pub mod cli;
pub mod environment;
pub mod expand;
pub mod auth;
pub mod daemon;
pub mod log;
pub mod smtp;
pub mod spool;
pub mod tls;
pub mod texts;
