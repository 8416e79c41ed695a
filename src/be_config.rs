//! The configuration as `-be` sees it: `config::Config` behind the
//! `be::ConfigView` interface (main options as variables, macros, named
//! lists), plus the list-matching and lookup hooks of expansion conditions.

use crate::be::ConfigView;
use crate::config::{self, Config, Value};


/// A main option's value as the expansion variable of the same name shows it.
fn value_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::Unset => return None,
        Value::Bool(b) => if *b { "true".into() } else { "false".into() },
        Value::Int(n) | Value::Time(n) => n.to_string(),
        Value::TimeList(l) => l.iter().map(i64::to_string).collect::<Vec<_>>().join(":"),
        Value::Str(s) => s.clone(),
        Value::Id(id) => id.to_string(),
        Value::IdList(l) => l.iter().map(u32::to_string).collect::<Vec<_>>().join(":"),
    })
}

fn config_kind(kind: char) -> Option<config::ListKind> {
    Some(match kind {
        'd' => config::ListKind::Domain,
        'h' => config::ListKind::Host,
        'a' => config::ListKind::Address,
        'l' => config::ListKind::LocalPart,
        _ => return None,
    })
}

impl ConfigView for Config {
    fn option(&self, name: &str) -> Option<String> {
        Config::option(self, name).and_then(value_text)
    }

    fn config_file(&self) -> String {
        Config::config_file(self)
    }

    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)> {
        let kinds: &[char] = match &kind {
            Some(k) => std::slice::from_ref(k),
            None => &['d', 'h', 'a', 'l'],
        };
        kinds.iter().find_map(|k| {
            let list = Config::named_list(self, config_kind(*k)?, name)?;
            Some((*k, list.value.clone()))
        })
    }

    fn expand_macros<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        // Built-in names are `_` and an upper-case letter on.
        let b = line.as_bytes();
        let builtin = names_builtin(b);
        if self.macros.user().is_empty() && !builtin {
            return std::borrow::Cow::Borrowed(line);
        }
        std::borrow::Cow::Owned(Config::expand_macros(self, line))
    }

    fn define_macro(&mut self, line: &str) -> Result<String, String> {
        let newest = |c: &Config| c.macros.user().last().map(|m| m.name.clone()).unwrap_or_default();
        self.macros.read_assignment(line).map(|()| newest(self)).map_err(|e| {
            let error = if e.with_line {
                config::ConfigError::at(&Config::config_file(self), self.lines, e.message)
            } else {
                config::ConfigError::general(e.message)
            };
            error.to_string()
        })
    }
}

/// Whether a line has `_` and an upper-case letter, the start of a
/// built-in macro's name. Eight bytes at a step: `-be` lines are short,
/// and memchr's set-up, or a byte loop, cost more than the whole scan.
fn names_builtin(b: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const UNDERSCORES: u64 = LO * b'_' as u64;
    let starts_at = |i: usize| b[i] == b'_' && b.get(i + 1).is_some_and(u8::is_ascii_uppercase);
    let mut at = 0;
    while at + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[at..at + 8]);
        // A word has a zero byte where it had an `_`; the mask marks those
        // (and may mark a byte after one, which starts_at then refuses).
        let v = u64::from_le_bytes(word) ^ UNDERSCORES;
        let mut marks = v.wrapping_sub(LO) & !v & HI;
        while marks != 0 {
            if starts_at(at + marks.trailing_zeros() as usize / 8) {
                return true;
            }
            marks &= marks - 1;
        }
        at += 8;
    }
    (at..b.len()).any(starts_at)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_builtin() {
        let cases = [
            ("", false),
            ("_", false),
            ("_A", true),
            ("abcdefgh", false),
            ("abcdefg_A", true),
            ("abcdefg_a", false),
            ("abcdefgh_X", true),
            ("\x7f\u{df}\u{5f5f} ${lc:A}", false),
            ("$primary_hostname", false),
            ("${length_5:abc} _OPT_MAIN_QUEUE_ONLY", true),
        ];
        for (line, want) in cases {
            assert_eq!(super::names_builtin(line.as_bytes()), want, "{line}");
        }
    }
}
