//! The configuration as `-be` sees it: `config::Config` behind the
//! `be::ConfigView` interface (main options as variables, macros, named
//! lists), plus the list-matching and lookup hooks of expansion conditions.

use crate::be::ConfigView;
use crate::config::{self, Config, Value};
use crate::expand::{lists, ExpandError, ListKind};

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
        if self.macros.user().is_empty() {
            return std::borrow::Cow::Borrowed(line);
        }
        std::borrow::Cow::Owned(Config::expand_macros(self, line))
    }

    fn define_macro(&mut self, line: &str) -> Result<(), String> {
        self.macros.read_assignment(line).map_err(|e| e.message)
    }

    fn list_match(&self, kind: ListKind, subject: &str, list: &str) -> Result<bool, ExpandError> {
        for item in lists::list_items(list) {
            let (negated, item) = match item.strip_prefix('!') {
                Some(rest) => (true, rest.trim_start().to_string()),
                None => (false, item),
            };
            let hit = match item.strip_prefix('+') {
                Some(name) => {
                    let k = match kind {
                        ListKind::Host => 'h',
                        ListKind::Domain => 'd',
                        ListKind::Address => 'a',
                        ListKind::LocalPart => 'l',
                    };
                    let inner = ConfigView::named_list(self, Some(k), name).map(|(_, t)| t).unwrap_or_default();
                    self.list_match(kind, subject, &inner)?
                }
                None => simple_item_match(kind, subject, &item)?,
            };
            if hit {
                return Ok(!negated);
            }
        }
        Ok(false)
    }

    fn lookup(&self, key: Option<&str>, search_type: &str, query: &str) -> Result<Option<String>, ExpandError> {
        match (search_type, key) {
            ("lsearch", Some(key)) => lsearch(key, query),
            _ => Err(ExpandError::Failed(format!("unknown lookup type \"{search_type}\""))),
        }
    }
}

fn simple_item_match(kind: ListKind, subject: &str, item: &str) -> Result<bool, ExpandError> {
    if item == "*" {
        return Ok(true);
    }
    if item.starts_with('^') {
        let re = pcre2::bytes::RegexBuilder::new()
            .caseless(kind != ListKind::LocalPart)
            .build(item)
            .map_err(|e| ExpandError::Failed(format!("regular expression error in \"{item}\": {e}")))?;
        return Ok(re.is_match(subject.as_bytes()).unwrap_or(false));
    }
    match kind {
        ListKind::Host => {
            let ip: std::net::IpAddr = match subject.parse() {
                Ok(ip) => ip,
                Err(_) => return Ok(false),
            };
            if let Ok(net) = item.parse::<ipnet::IpNet>() {
                return Ok(net.contains(&ip));
            }
            Ok(item.parse::<std::net::IpAddr>().map(|i| i == ip).unwrap_or(false))
        }
        ListKind::Domain | ListKind::LocalPart => {
            if let Some(suffix) = item.strip_prefix('*') {
                return Ok(subject.to_ascii_lowercase().ends_with(&suffix.to_ascii_lowercase()));
            }
            Ok(if kind == ListKind::Domain { subject.eq_ignore_ascii_case(item) } else { subject == item })
        }
        ListKind::Address => {
            if let Some(domain) = item.strip_prefix("*@") {
                return Ok(subject.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain)));
            }
            Ok(subject.eq_ignore_ascii_case(item))
        }
    }
}

fn lsearch(key: &str, file: &str) -> Result<Option<String>, ExpandError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        ExpandError::Failed(format!("failed to open {file} for linear search: {}", crate::texts::errno_text(&e)))
    })?;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() || line.starts_with('#') || line.starts_with(char::is_whitespace) {
            continue;
        }
        let (k, rest) = match line.strip_prefix('"') {
            Some(q) => match q.split_once('"') {
                Some((k, r)) => (k.to_string(), r),
                None => continue,
            },
            None => {
                let end = line.find(|c: char| c == ':' || c.is_whitespace()).unwrap_or(line.len());
                (line[..end].to_string(), &line[end..])
            }
        };
        if !k.eq_ignore_ascii_case(key) {
            continue;
        }
        let rest = rest.trim_start();
        let mut value = rest.strip_prefix(':').unwrap_or(rest).trim().to_string();
        while let Some(next) = lines.peek() {
            if next.starts_with(char::is_whitespace) && !next.trim().is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(next.trim());
                lines.next();
            } else {
                break;
            }
        }
        return Ok(Some(value));
    }
    Ok(None)
}
