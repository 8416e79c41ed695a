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
    /// Whether it serves (Exim's `au->server`); one that does not is
    /// still configured, so EHLO checks `auth_advertise_hosts`.
    fn is_server(&self) -> bool {
        true
    }
    /// Start an exchange; `initial` is the initial response, if any.
    fn start(&self, initial: Option<&str>, expand: &mut Expander<'_>) -> (AuthState, AuthStep);
    /// Continue with the client's response line.
    fn step(&self, state: AuthState, response: &str, expand: &mut Expander<'_>) -> (AuthState, AuthStep);
}

/// An authenticator that does not serve here: only client options (for
/// the smtp transport), or a driver rexim has no server side for. It is
/// never advertised nor chosen by AUTH.
pub struct NotServing {
    pub name: String,
    pub public_name: String,
}

impl Authenticator for NotServing {
    fn name(&self) -> &str {
        &self.name
    }
    fn public_name(&self) -> &str {
        &self.public_name
    }
    fn advertise_condition(&self) -> Option<&str> {
        None
    }
    fn is_server(&self) -> bool {
        false
    }
    fn start(&self, _initial: Option<&str>, _expand: &mut Expander<'_>) -> (AuthState, AuthStep) {
        (AuthState::default(), AuthStep::Fail(None))
    }
    fn step(&self, state: AuthState, _response: &str, _expand: &mut Expander<'_>) -> (AuthState, AuthStep) {
        (state, AuthStep::Fail(None))
    }
}

/// The data an exchange has gathered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthState {
    pub values: Vec<String>,
}
