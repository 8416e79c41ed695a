//! SMTP authentication, server side: the `Authenticator` trait the
//! session drives, and the plaintext driver (PLAIN, LOGIN).

pub mod plaintext;

pub use plaintext::{Plaintext, PlaintextOptions};

/// What an authenticator says after a step of the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Send `334 <challenge>` (already base64) and wait for a response.
    Challenge(String),
    /// Success, with the id from `server_set_id`.
    Ok(Option<String>),
    /// Failure (535), with the id for the log.
    Fail(Option<String>),
    /// Temporary failure (435).
    Defer(String),
    /// The client sent `*`.
    Cancelled,
    /// Undecodable base64.
    Bad64,
}

/// Expand an option of the authenticator (its name, as Exim's -bh trace
/// shows it, and its text) with the `$authN` values set; `Err` carries
/// Exim's expansion error, `Ok(None)` a forced failure.
pub type Expander<'a> = dyn FnMut(&str, &str, &[String]) -> Result<Option<String>, String> + 'a;

/// One configured authenticator (server side).
pub trait Authenticator: Send + Sync {
    /// The instance name (`A=name` in logs).
    fn name(&self) -> &str;
    /// The mechanism advertised in EHLO (`public_name`).
    fn public_name(&self) -> &str;
    /// `server_advertise_condition`, unexpanded.
    fn advertise_condition(&self) -> Option<&str>;
    /// Start an exchange; `initial` is the initial response, if any.
    fn start(&self, initial: Option<&str>, expand: &mut Expander<'_>) -> (AuthState, AuthStep);
    /// Continue with the client's response line.
    fn step(&self, state: AuthState, response: &str, expand: &mut Expander<'_>) -> (AuthState, AuthStep);
}

/// The data an exchange has gathered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthState {
    pub values: Vec<String>,
}
