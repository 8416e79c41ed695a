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
        // (A scan without an early exit, which the compiler vectorises:
        // lines are short, and memchr's set-up cost more than the scan.)
        let underscore = b.iter().fold(false, |seen, &c| seen | (c == b'_'));
        let builtin = underscore && memchr::memchr_iter(b'_', b).any(|i| b.get(i + 1).is_some_and(u8::is_ascii_uppercase));
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
