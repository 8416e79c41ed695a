//! Address rewriting (src/rewrite) never panics and always ends, whatever
//! a header line holds (its addresses come from the client) and whatever
//! the rules' replacements produce: random bytes, and random sequences of
//! the pieces addresses are made of, through every kind of rule.
//! Bounded: a few thousand cases.

use proptest::prelude::*;
use rexim::config::RewriteRule;
use rexim::expand::ExpandError;
use rexim::rewrite::header::{rewrite_header, HeaderPolicy};
use rexim::rewrite::{flags, rewrite_one, RewriteEnv, Rules};

/// An environment whose replacements are fixed texts chosen by the test
/// (no expansion), whose patterns match what contains them, and whose
/// regular expressions match everything.
struct Env {
    replacement: String,
}

impl RewriteEnv for Env {
    fn expand(&mut self, text: &str, parts: Option<(&str, &str)>, numeric: Vec<String>) -> Result<String, ExpandError> {
        if text == "FAIL" {
            return Err(ExpandError::ForcedFail("forced".into()));
        }
        let (lp, d) = parts.unwrap_or(("", ""));
        Ok(self.replacement.replace("LP", lp).replace("DOM", d).replace("N0", numeric.first().map_or("", |s| s.as_str())))
    }
    fn match_address(&mut self, subject: &str, item: &str) -> Option<Vec<String>> {
        (item == "*" || subject.contains(item)).then(|| vec![subject.to_string()])
    }
    fn match_regex(&mut self, subject: &str, _pattern: &str) -> Option<Vec<String>> {
        Some(vec![subject.to_string()])
    }
    fn log_panic(&mut self, _line: &str) {}
    fn log_main(&mut self, _line: &str) {}
    fn log_rewrites(&self) -> bool {
        true
    }
    fn qualify_recipient(&self) -> String {
        "q.example".into()
    }
    fn headers_charset(&self) -> String {
        "UTF-8".into()
    }
}

fn rules(replacement_key: &str) -> Rules {
    let rule = |key: &str, replacement: &str, flags: &str| RewriteRule {
        key: key.into(),
        replacement: replacement.into(),
        flags: flags.into(),
        file: String::new(),
        line: 0,
    };
    Rules::from_config(&[
        rule("^.*", "REPL", "S"),
        rule("keep", "*", ""),
        rule("fail", "FAIL", "q"),
        rule(replacement_key, "REPL", "wQR"),
        rule("*", "REPL", "Eh"),
    ])
}

fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a", "b.c", "@", "<", ">", "\"", "\\", "(", ")", ",", ";", ":", ".", "[", "]", " ", "\t", "\n", "keep", "fail",
        "Name ", "g:", "@r.s,", "\u{fc}", "\u{10ff90}", "\0", "<>",
    ])
}

fn replacement() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..8).prop_map(|p| p.concat() + "LP@DOM")
}

fn check(text: &str, repl: &str) {
    let rules = rules("a");
    let mut env = Env { replacement: repl.to_string() };
    let policy = HeaderPolicy {
        rules: &rules,
        allow_unqualified_sender: true,
        allow_unqualified_recipient: false,
        qualify_domain: "d.example",
        qualify_recipient: "r.example",
        allow_domain_literals: false,
    };
    for (name, flag) in [("From", flags::FROM), ("To", flags::TO), ("Resent-Cc", flags::CC)] {
        if let Some(new) = rewrite_header(&format!("{name}: {text}\n"), flag, &policy, &mut env) {
            assert!(new.starts_with(name), "{new:?}");
        }
    }
    for flag in [flags::ENV_FROM, flags::ENV_TO, flags::SMTP, flags::SENDER] {
        let _ = rewrite_one(&rules, text, flag, &mut env);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_text(bytes in prop::collection::vec(any::<u8>(), 0..120), repl in replacement()) {
        check(&rexim::bytes::from_bytes(&bytes), &repl);
    }

    #[test]
    fn address_pieces(pieces in prop::collection::vec(piece(), 0..40), repl in replacement()) {
        check(&pieces.concat(), &repl);
    }
}
