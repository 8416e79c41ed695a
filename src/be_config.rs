//! The configuration as `-be` sees it: main options, macros, named lists,
//! and the list/lookup hooks of expansion conditions.
//!
//! This reads only what expansions need (main-section settings, macros,
//! named lists); the full reader lives in `config`.

use std::collections::HashMap;

use crate::be::ConfigView;
use crate::cli::Options;
use crate::expand::{lists, ExpandError, ListKind};

pub struct BeConfig {
    file: String,
    options: HashMap<String, String>,
    macros: Vec<(String, String)>,
    named: HashMap<(char, String), String>,
}

const DEFAULT_PATHS: &[&str] = &["/etc/rexim/configure", "/etc/exim4/exim4.conf"];

pub fn load(opts: &Options) -> Result<BeConfig, String> {
    let mut cfg = BeConfig { file: String::new(), options: HashMap::new(), macros: Vec::new(), named: HashMap::new() };
    for (n, v) in &opts.defines {
        cfg.macros.push((n.clone(), v.clone()));
    }
    let (path, text) = match &opts.config_file {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => (absolute(p), t),
            Err(_) => {
                let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
                return Err(format!("{now} non-existent configuration file(s): {p}"));
            }
        },
        None => match DEFAULT_PATHS.iter().find_map(|p| std::fs::read_to_string(p).ok().map(|t| (p.to_string(), t))) {
            Some(found) => found,
            None => ("(embedded default configuration)".to_string(), crate::texts::DEFAULT_CONFIG.to_string()),
        },
    };
    cfg.file = path;
    cfg.read_main(&text);
    Ok(cfg)
}

fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        return p.to_string();
    }
    std::env::current_dir().map(|d| d.join(p).display().to_string()).unwrap_or_else(|_| p.to_string())
}

impl BeConfig {
    fn read_main(&mut self, text: &str) {
        let mut skipping: Vec<bool> = Vec::new();
        let mut pending = String::new();
        for raw in text.lines() {
            let line = raw.trim_end();
            if !pending.is_empty() {
                pending.push_str(line.trim_start());
            } else {
                pending.push_str(line);
            }
            if pending.ends_with('\\') {
                pending.pop();
                continue;
            }
            let line = std::mem::take(&mut pending);
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix('.') {
                let (dir, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let defined = self.macros.iter().any(|(n, _)| n == arg.trim());
                match dir {
                    "ifdef" => skipping.push(!defined),
                    "ifndef" => skipping.push(defined),
                    "else" => {
                        if let Some(s) = skipping.last_mut() {
                            *s = !*s;
                        }
                    }
                    "endif" => {
                        skipping.pop();
                    }
                    _ => {}
                }
                continue;
            }
            if skipping.iter().any(|s| *s) || t.is_empty() || t.starts_with('#') {
                continue;
            }
            if t.starts_with("begin ") || t == "begin" {
                break;
            }
            if t.starts_with(|c: char| c.is_ascii_uppercase()) {
                if let Some((n, v)) = t.split_once('=') {
                    let n = n.trim_end_matches('=').trim().to_string();
                    if !self.macros.iter().any(|(m, _)| *m == n) {
                        let v = self.expand_macros(v.trim()).into_owned();
                        self.macros.push((n, v));
                    }
                    continue;
                }
            }
            let t = self.expand_macros(t).into_owned();
            let mut words = t.splitn(2, char::is_whitespace);
            let first = words.next().unwrap_or("");
            let kind = match first {
                "domainlist" | "domainlist_cache" => Some('d'),
                "hostlist" | "hostlist_cache" => Some('h'),
                "addresslist" | "addresslist_cache" => Some('a'),
                "localpartlist" | "localpartlist_cache" => Some('l'),
                _ => None,
            };
            if let Some(kind) = kind {
                if let Some((n, v)) = words.next().unwrap_or("").split_once('=') {
                    self.named.insert((kind, n.trim().to_string()), v.trim().to_string());
                }
                continue;
            }
            if let Some((n, v)) = t.split_once('=') {
                self.options.insert(n.trim().to_string(), v.trim().to_string());
            }
        }
    }
}

impl ConfigView for BeConfig {
    fn option(&self, name: &str) -> Option<String> {
        self.options.get(name).cloned()
    }

    fn config_file(&self) -> String {
        self.file.clone()
    }

    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)> {
        let kinds: &[char] = match &kind {
            Some(k) => std::slice::from_ref(k),
            None => &['d', 'h', 'a', 'l'],
        };
        kinds.iter().find_map(|k| self.named.get(&(*k, name.to_string())).map(|t| (*k, t.clone())))
    }

    fn expand_macros<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        let mut s = std::borrow::Cow::Borrowed(line);
        // Later definitions were pushed last; Exim tries each macro in turn.
        for (name, value) in self.macros.iter().rev() {
            if s.contains(name.as_str()) {
                s = std::borrow::Cow::Owned(s.replace(name.as_str(), value));
            }
        }
        s
    }

    fn define_macro(&mut self, name: &str, value: &str) {
        self.macros.retain(|(n, _)| n != name);
        self.macros.push((name.to_string(), value.to_string()));
    }

    fn list_match(&self, kind: ListKind, subject: &str, list: &str) -> Result<bool, ExpandError> {
        let sep = if kind == ListKind::Host { ':' } else { ':' };
        for item in lists::list_items_sep(list, sep) {
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
                    let inner = self.named.get(&(k, name.to_string())).cloned().unwrap_or_default();
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

    fn lookup(&self, key: Option<&str>, search_type: &str, query: &str) -> Result<Option<crate::expand::Found>, ExpandError> {
        match (search_type, key) {
            ("lsearch", Some(key)) => Ok(lsearch(key, query)?.map(crate::expand::Found::value)),
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
