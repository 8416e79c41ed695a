//! Reading `begin authenticators` for the drivers rexim has (plaintext),
//! until the configuration reader supplies them.

use super::{Authenticator, Plaintext, PlaintextOptions};

/// The authenticators section of a configuration text.
pub fn from_config_text(text: &str) -> Vec<Box<dyn Authenticator>> {
    let mut out: Vec<Box<dyn Authenticator>> = Vec::new();
    let mut in_section = false;
    let mut current: Option<(PlaintextOptions, String)> = None;
    let finish = |cur: Option<(PlaintextOptions, String)>, out: &mut Vec<Box<dyn Authenticator>>| {
        if let Some((mut o, driver)) = cur {
            if o.public_name.is_empty() {
                // public_name defaults to the instance name, upper-cased.
                o.public_name = o.name.to_ascii_uppercase();
            }
            if driver == "plaintext" {
                out.push(Box::new(Plaintext::new(o)));
            }
        }
    };
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim_end();
        if let Some(p) = line.strip_suffix('\\') {
            pending.push_str(p.trim_start());
            continue;
        }
        let joined = if pending.is_empty() { line.to_string() } else { format!("{pending}{}", line.trim_start()) };
        pending.clear();
        let t = joined.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(section) = t.strip_prefix("begin ") {
            finish(current.take(), &mut out);
            in_section = section.trim() == "authenticators";
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some(name) = t.strip_suffix(':') {
            if !name.contains(char::is_whitespace) {
                finish(current.take(), &mut out);
                let o = PlaintextOptions { name: name.to_string(), ..Default::default() };
                current = Some((o, String::new()));
                continue;
            }
        }
        let Some((o, driver)) = current.as_mut() else { continue };
        let (k, v) = match t.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim().to_string()),
            None => (t, String::new()),
        };
        let v = unquote(&v);
        match k {
            "driver" => *driver = v,
            "public_name" => o.public_name = v,
            "server_prompts" => o.server_prompts = Some(v),
            "server_condition" => o.server_condition = Some(v),
            "server_set_id" => o.server_set_id = Some(v),
            "server_advertise_condition" => o.server_advertise_condition = Some(v),
            _ => {}
        }
    }
    finish(current.take(), &mut out);
    out
}

/// Exim's quoted option values: backslash escapes inside double quotes.
fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else { return v.to_string() };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}
