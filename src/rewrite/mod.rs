//! Address rewriting: the rules of `begin rewrite`, applied as Exim's
//! rewrite.c applies them, to envelope addresses, addresses in header
//! lines, and at SMTP time (`S`) to MAIL and RCPT arguments.
//!
//! The engine is pure: what it needs of the world (expansion, list
//! matching, the log) comes through `RewriteEnv`. `test` is `-brw`;
//! `header` rewrites the addresses of one header line.

pub mod header;
pub(crate) mod phrase;
pub mod test;

use crate::config::RewriteRule;
use crate::expand::ExpandError;
use crate::parse::Parser;

/// Which addresses a rule applies to, and how it works (Exim's
/// rewrite_* bits, whose values decide the order of `-brw`'s lines).
pub mod flags {
    pub const SENDER: u32 = 0x0001;
    pub const FROM: u32 = 0x0002;
    pub const TO: u32 = 0x0004;
    pub const CC: u32 = 0x0008;
    pub const BCC: u32 = 0x0010;
    pub const REPLY_TO: u32 = 0x0020;
    pub const ALL_HEADERS: u32 = 0x003f;
    pub const ENV_FROM: u32 = 0x0040;
    pub const ENV_TO: u32 = 0x0080;
    pub const ALL_ENVELOPE: u32 = 0x00c0;
    pub const ALL: u32 = 0x00ff;
    pub const SMTP: u32 = 0x0100;
    pub const QUALIFY: u32 = 0x0200;
    pub const REPEAT: u32 = 0x0400;
    pub const SMTP_SENDER: u32 = 0x0800;
    pub const WHOLE: u32 = 0x1000;
    pub const QUIT: u32 = 0x2000;
}
use flags::*;

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub key: String,
    pub replacement: String,
    pub flags: u32,
}

/// The rules of a configuration, and the union of their flags (Exim's
/// rewrite_existflags: which kinds of rewriting can happen at all).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub rules: Vec<Rule>,
    pub exist: u32,
}

impl Rules {
    pub fn from_config(rules: &[RewriteRule]) -> Rules {
        let rules: Vec<Rule> = rules
            .iter()
            .map(|r| Rule { key: r.key.clone(), replacement: r.replacement.clone(), flags: rule_flags(&r.flags) })
            .collect();
        let exist = rules.iter().fold(0, |a, r| a | r.flags);
        Rules { rules, exist }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// A rule's flag letters as bits; a rule with no letter that says where
/// it applies applies everywhere but at SMTP time.
fn rule_flags(letters: &str) -> u32 {
    let mut f = letters.chars().fold(0, |f, c| {
        f | match c {
            'E' => ALL_ENVELOPE,
            'F' => ENV_FROM,
            'T' => ENV_TO,
            'Q' => QUALIFY,
            'R' => REPEAT,
            'S' => SMTP,
            'b' => BCC,
            'c' => CC,
            'f' => FROM,
            'h' => ALL_HEADERS,
            'q' => QUIT,
            'r' => REPLY_TO,
            's' => SENDER,
            't' => TO,
            'w' => WHOLE,
            _ => 0,
        }
    });
    if f & (ALL | SMTP) == 0 {
        f |= ALL;
    }
    f
}

/// What the engine needs of its surroundings.
pub trait RewriteEnv {
    /// Expand a string; `parts` are `$local_part` and `$domain` (none at
    /// SMTP time), `numeric` the variables from `$0` on.
    fn expand(&mut self, text: &str, parts: Option<(&str, &str)>, numeric: Vec<String>) -> Result<String, ExpandError>;
    /// Match an address against an address list of one item (already
    /// expanded), casefully: the numeric variables on a match.
    fn match_address(&mut self, subject: &str, item: &str) -> Option<Vec<String>>;
    /// Match text against a regular expression (SMTP-time rules).
    fn match_regex(&mut self, subject: &str, pattern: &str) -> Option<Vec<String>>;
    /// A line for the main and panic logs.
    fn log_panic(&mut self, line: &str);
    /// A line for the main log.
    fn log_main(&mut self, line: &str);
    /// `log_selector = +address_rewrite`: each rewrite is logged.
    fn log_rewrites(&self) -> bool;
    /// The domain that qualifies an address a `Q` rule left unqualified.
    fn qualify_recipient(&self) -> String;
    fn headers_charset(&self) -> String;
}

/// What rewriting an address produced.
pub struct Rewritten {
    pub address: String,
    /// A `w` rule replaced the whole header address (phrase included).
    pub whole: bool,
    /// The address before each rewrite that happened (Exim notes them in
    /// X-rewrote- header lines for envelope addresses).
    pub steps: Vec<String>,
}

/// Exim's rewrite_one(): run `subject` through the rules that apply to
/// `flag`. Returns the subject unchanged when nothing applied.
pub fn rewrite_one(rules: &Rules, subject: &str, flag: u32, env: &mut dyn RewriteEnv) -> Rewritten {
    let mut yield_ = subject.to_string();
    let mut current = subject.to_string();
    let mut whole = false;
    let mut steps = Vec::new();
    // Where the address lies in the yield of a `w` rule.
    let (mut yield_start, mut yield_end) = (0, 0);
    for (number, rule) in rules.rules.iter().enumerate() {
        if rule.flags & flag == 0 {
            continue;
        }
        let mut count = 0;
        loop {
            let new = if flag & SMTP != 0 {
                let key = match env.expand(&rule.key, None, Vec::new()) {
                    Ok(k) => k,
                    Err(ExpandError::ForcedFail(_)) => break,
                    Err(e) => {
                        env.log_panic(&format!(
                            "failed to expand \"{}\" while checking for SMTP rewriting: {}",
                            rule.key,
                            e.message()
                        ));
                        break;
                    }
                };
                let Some(numeric) = env.match_regex(&current, &key) else { break };
                env.expand(&rule.replacement, None, numeric)
            } else {
                let Ok(key) = env.expand(&rule.key, None, Vec::new()) else { break };
                let Some(numeric) = env.match_address(&current, &key) else { break };
                if rule.replacement == "*" {
                    // Not to be rewritten, by this rule or any other.
                    return Rewritten { address: yield_, whole, steps };
                }
                let (local_part, domain) = current.rsplit_once('@').unwrap_or((&current, ""));
                let (local_part, domain) = (local_part.to_string(), domain.to_string());
                env.expand(&rule.replacement, Some((&local_part, &domain)), numeric)
            };
            let new = match new {
                Ok(n) => n,
                Err(ExpandError::ForcedFail(_)) if rule.flags & QUIT != 0 => return Rewritten { address: yield_, whole, steps },
                Err(ExpandError::ForcedFail(_)) => break,
                Err(e) => {
                    env.log_panic(&format!("Expansion of {} failed while rewriting: {}", rule.replacement, e.message()));
                    return Rewritten { address: yield_, whole, steps };
                }
            };
            let null_ok = flag == ENV_FROM || flag == SMTP | SMTP_SENDER;
            let mut parser = Parser::new(false);
            let parsed = match parser.extract_address(new.as_bytes(), null_ok) {
                Ok(p) => p,
                Err(e) => {
                    env.log_panic(&format!("Rewrite of {current} yielded unparseable address: {e} in address {new}"));
                    return Rewritten { address: yield_, whole, steps };
                }
            };
            let (mut new, mut newparsed) = (new, crate::bytes::utf8_buffer(parsed.address));
            let (start, mut end) = (parsed.start, parsed.end);
            if parsed.domain == 0 && (!newparsed.is_empty() || !null_ok) {
                if rule.flags & QUALIFY == 0 {
                    env.log_panic(&format!("Rewrite of {current} yielded unqualified address \"{new}\""));
                    return Rewritten { address: yield_, whole, steps };
                }
                newparsed = format!("{newparsed}@{}", env.qualify_recipient());
                new = format!("{}{newparsed}{}", &new[..start], &new[end..]);
                end = start + newparsed.len();
            }
            steps.push(current.clone());
            if env.log_rewrites() {
                env.log_main(&format!("\"{yield_}\" from {} rewritten as \"{new}\" by rule {}", place_name(flag), number + 1));
            }
            if flag & SMTP != 0 {
                yield_ = new;
            } else if flag & ALL_HEADERS != 0 && rule.flags & WHOLE != 0 {
                let (text, s, e) = phrase::whole_address(&new, start, end, &env.headers_charset());
                yield_ = text;
                (yield_start, yield_end) = (s, e);
                whole = true;
            } else if whole && flag & ALL_HEADERS != 0 {
                yield_ = format!("{}{newparsed}{}", &yield_[..yield_start], &yield_[yield_end..]);
                yield_end = yield_start + newparsed.len();
            } else {
                yield_ = newparsed.clone();
            }
            current = newparsed;
            if rule.flags & QUIT != 0 {
                return Rewritten { address: yield_, whole, steps };
            }
            if rule.flags & REPEAT != 0 {
                count += 1;
                if count < 10 {
                    continue;
                }
                env.log_panic("rewrite rule repeat ignored after 10 times");
            }
            break;
        }
    }
    Rewritten { address: yield_, whole, steps }
}

/// How the log names the place of a rewrite.
fn place_name(flag: u32) -> &'static str {
    match flag {
        SENDER => "sender:",
        FROM => "from:",
        TO => "to:",
        CC => "cc:",
        BCC => "bcc:",
        REPLY_TO => "reply-to:",
        ENV_FROM => "env-from",
        ENV_TO => "env-to",
        SMTP => "smtp recipient",
        f if f == SMTP | SMTP_SENDER => "smtp sender",
        _ => "?",
    }
}

/// Exim's rewrite_address() for an envelope address: qualified first,
/// then rewritten when some rule is for that side of the envelope.
pub fn rewrite_envelope(rules: &Rules, address: &str, is_recipient: bool, qualify_domain: &str, env: &mut dyn RewriteEnv) -> Rewritten {
    let address = if !address.is_empty() && !address.contains('@') {
        format!("{address}@{qualify_domain}")
    } else {
        address.to_string()
    };
    let flag = if is_recipient { ENV_TO } else { ENV_FROM };
    if rules.exist & flag == 0 || address.is_empty() {
        return Rewritten { address, whole: false, steps: Vec::new() };
    }
    rewrite_one(rules, &address, flag, env)
}

/// An SMTP-time rewrite of a MAIL or RCPT argument, when some rule has
/// the `S` flag; None when nothing changed it. (Exim does it for MAIL as
/// for RCPT: only `-brw` takes the argument for a sender's, which may
/// become `<>`.)
pub fn rewrite_smtp(rules: &Rules, argument: &str, env: &mut dyn RewriteEnv) -> Option<String> {
    if rules.exist & SMTP == 0 {
        return None;
    }
    let r = rewrite_one(rules, argument, SMTP, env).address;
    (r != argument).then_some(r)
}
