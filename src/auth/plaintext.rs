//! Exim's plaintext authenticator: `server_prompts` (colon list) are sent
//! base64-encoded one at a time; the initial response is split at NULs;
//! the answers become $auth1, $auth2...; `server_condition` decides.

use base64::Engine;

use super::{AuthState, AuthStep, Authenticator, Expander};

/// The driver options the configuration reader fills in.
#[derive(Debug, Clone, Default)]
pub struct PlaintextOptions {
    pub name: String,
    pub public_name: String,
    pub server_prompts: Option<String>,
    pub server_condition: Option<String>,
    pub server_set_id: Option<String>,
    pub server_advertise_condition: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Plaintext {
    pub options: PlaintextOptions,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Plaintext {
    pub fn new(options: PlaintextOptions) -> Plaintext {
        Plaintext { options }
    }

    fn prompts(&self) -> Vec<String> {
        // An Exim list: ":" separated, "::" a literal colon.
        let Some(p) = &self.options.server_prompts else { return Vec::new() };
        crate::lists::list_items(p, crate::lists::ListSep::Default)
    }

    /// Ask for the next value or decide.
    fn next(&self, state: AuthState, expand: &mut Expander<'_>) -> (AuthState, AuthStep) {
        let prompts = self.prompts();
        if state.values.len() < prompts.len() {
            let p = b64().encode(prompts[state.values.len()].as_bytes());
            return (state, AuthStep::Challenge(p));
        }
        let cond = self.options.server_condition.clone().unwrap_or_default();
        let result = match expand("server_condition", &cond, &state.values) {
            Err(e) => return (state, AuthStep::Defer(e)),
            Ok(None) => false,
            Ok(Some(v)) => matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "yes" | "true"),
        };
        let id = match &self.options.server_set_id {
            Some(s) => expand("server_set_id", s, &state.values).ok().flatten(),
            None => None,
        };
        if result {
            (state, AuthStep::Ok(id))
        } else {
            (state, AuthStep::Fail(id))
        }
    }

    fn add_response(&self, mut state: AuthState, data: &str) -> Result<AuthState, AuthStep> {
        if data == "*" {
            return Err(AuthStep::Cancelled);
        }
        let raw = if data == "=" { Vec::new() } else { b64().decode(data.trim()).map_err(|_| AuthStep::Bad64)? };
        for part in raw.split(|b| *b == 0) {
            state.values.push(String::from_utf8_lossy(part).into_owned());
        }
        Ok(state)
    }
}

impl Authenticator for Plaintext {
    fn name(&self) -> &str {
        &self.options.name
    }

    fn public_name(&self) -> &str {
        &self.options.public_name
    }

    fn advertise_condition(&self) -> Option<&str> {
        self.options.server_advertise_condition.as_deref()
    }

    fn start(&self, initial: Option<&str>, expand: &mut Expander<'_>) -> (AuthState, AuthStep) {
        let state = AuthState::default();
        let state = match initial {
            Some(data) => match self.add_response(state, data) {
                Ok(s) => {
                    // PLAIN's leading NUL gives an empty first value, kept as $auth1.
                    s
                }
                Err(step) => return (AuthState::default(), step),
            },
            None => state,
        };
        self.next(state, expand)
    }

    fn step(&self, state: AuthState, response: &str, expand: &mut Expander<'_>) -> (AuthState, AuthStep) {
        match self.add_response(state.clone(), response) {
            Ok(s) => self.next(s, expand),
            Err(step) => (state, step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expander(vals_seen: &mut Vec<Vec<String>>) -> impl FnMut(&str, &str, &[String]) -> Result<Option<String>, String> + '_ {
        move |_: &str, s: &str, v: &[String]| {
            vals_seen.push(v.to_vec());
            Ok(Some(if s == "cond" { if v.get(1).map(String::as_str) == Some("u") && v.get(2).map(String::as_str) == Some("p") { "yes".into() } else { "no".into() } } else { v.get(1).cloned().unwrap_or_default() }))
        }
    }

    #[test]
    fn plain_and_login() {
        let plain = Plaintext::new(PlaintextOptions {
            name: "plain".into(),
            public_name: "PLAIN".into(),
            server_prompts: Some(":".into()),
            server_condition: Some("cond".into()),
            server_set_id: Some("id".into()),
            ..Default::default()
        });
        let mut seen = Vec::new();
        let (_, step) = plain.start(Some("AHUAcA=="), &mut expander(&mut seen));
        assert_eq!(step, AuthStep::Ok(Some("u".into())));
        let (s, step) = plain.start(None, &mut expander(&mut seen));
        assert_eq!(step, AuthStep::Challenge(String::new()));
        let (_, step) = plain.step(s, "AHUAeA==", &mut expander(&mut seen));
        assert_eq!(step, AuthStep::Fail(Some("u".into())));
        let login = Plaintext::new(PlaintextOptions {
            name: "login".into(),
            public_name: "LOGIN".into(),
            server_prompts: Some("Username:: : Password::".into()),
            server_condition: Some("cond".into()),
            ..Default::default()
        });
        let (s, step) = login.start(None, &mut expander(&mut seen));
        assert_eq!(step, AuthStep::Challenge("VXNlcm5hbWU6".into()));
        let (s, step) = login.step(s, "dQ==", &mut expander(&mut seen));
        assert_eq!(step, AuthStep::Challenge("UGFzc3dvcmQ6".into()));
        let (_, step) = login.step(s, "*", &mut expander(&mut seen));
        assert_eq!(step, AuthStep::Cancelled);
    }
}
