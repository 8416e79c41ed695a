//! `-brw`: how the rules rewrite an address in each place it can appear
//! (Exim's rewrite_test()).

use super::{flags::*, rewrite_one, RewriteEnv, Rules};
use crate::parse::Parser;

/// The places, in the order of Exim's flag bits.
const PLACES: [&str; 8] = ["  sender", "    from", "      to", "      cc", "     bcc", "reply-to", "env-from", "  env-to"];

/// Exim's big_buffer_size: a longer address is refused.
const BIG_BUFFER: usize = 16384;

/// The report for one address, as `-brw` prints it.
pub fn test(rules: &Rules, s: &str, qualify_recipient: &str, env: &mut dyn RewriteEnv) -> String {
    let mut out = String::new();
    if s.len() > BIG_BUFFER - 7 {
        out.push_str("address too long\n");
        return out;
    }
    // <> is allowed at SMTP time, as for a sender.
    if rules.exist & SMTP != 0 {
        let new = rewrite_one(rules, s, SMTP | SMTP_SENDER, env).address;
        if new != s {
            out.push_str(&format!("    SMTP: {}\n", if new.is_empty() { "<>" } else { &new }));
        }
    }
    if rules.exist & !SMTP == 0 {
        return out;
    }
    let s = if s.contains('@') { s.to_string() } else { format!("{s}@{qualify_recipient}") };
    let mut parser = Parser::new(false);
    let parsed = match parser.extract_address(s.as_bytes(), false) {
        Ok(p) => p,
        Err(e) => {
            let mut chars = e.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or_default();
            out.push_str(&format!("Syntax error in {s}\n{first}{}\n", chars.as_str()));
            return out;
        }
    };
    let address = crate::bytes::utf8_buffer(parsed.address);
    for (i, place) in PLACES.iter().enumerate() {
        let flag = 1 << i;
        let r = rewrite_one(rules, &address, flag, env);
        let shown = if r.address.is_empty() {
            "<>".to_string()
        } else if r.whole || flag & ALL_HEADERS == 0 {
            r.address
        } else {
            format!("{}{}{}", &s[..parsed.start], r.address, &s[parsed.end..])
        };
        out.push_str(&format!("{place}: {shown}\n"));
    }
    out
}
