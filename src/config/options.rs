//! Option blocks (main options, a driver's generic or private options) and
//! Exim's readconf_handle_option(): one setting line into a typed slot.

use pest::Parser;

use super::main_table::OptionDef;
use super::syntax::{LineParser, Rule};
use super::texts;
use super::value::{self, Kind, Value};
use crate::expand;

/// The value of one option and where it was set.
#[derive(Debug, Clone)]
pub struct OptionSlot {
    pub value: Value,
    /// Set in the configuration (Exim's opt_set).
    pub set: bool,
    /// Set with `hide` (Exim's opt_secure).
    pub secure: bool,
    pub file: String,
    pub line: usize,
    /// Byte column of the value in the logical line.
    pub column: usize,
    /// For expanded strings: the compiled expansion (kept even when it is
    /// a syntax error: Exim starts anyway and fails when the option is used).
    pub compiled: Option<Result<std::sync::Arc<expand::Compiled>, expand::ExpandError>>,
}

/// A block of options described by a sorted static table.
#[derive(Debug, Clone)]
pub struct Options {
    pub table: &'static [OptionDef],
    pub slots: Vec<OptionSlot>,
    /// Synonyms that have been set: like Exim's separate hidden entries
    /// for them, a synonym may be set once besides its option.
    pub aliases_set: Vec<String>,
}

/// Find an option in a sorted table (Exim's find_option()).
pub fn find(table: &[OptionDef], name: &str) -> Option<usize> {
    table.binary_search_by(|d| d.name.cmp(name)).ok()
}

impl Options {
    /// A block with every option at its default.
    pub fn new(table: &'static [OptionDef]) -> Options {
        let slots = table
            .iter()
            .map(|d| {
                let value = match d.default {
                    None => Value::Unset,
                    // Tables hold defaults as -bP prints them: \n and \t
                    // stand for the control characters.
                    Some(text) if d.kind == Kind::Str => Value::Str(match text.contains('\\') {
                        true => text.replace("\\n", "\n").replace("\\t", "\t"),
                        false => text.to_string(),
                    }),
                    Some(text) => value::parse(d.kind, text, d.name).unwrap_or(Value::Unset),
                };
                let compiled = match (&value, d.expand) {
                    (Value::Str(s), true) => Some(compile_option(d.name, s)),
                    _ => None,
                };
                OptionSlot { value, set: false, secure: false, file: String::new(), line: 0, column: 0, compiled }
            })
            .collect();
        Options { table, slots, aliases_set: Vec::new() }
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        find(self.table, name)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.index(name).map(|i| &self.slots[i].value)
    }

    pub fn slot(&self, name: &str) -> Option<&OptionSlot> {
        self.index(name).map(|i| &self.slots[i])
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn get_bool(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn get_int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Int(i) | Value::Time(i) => Some(*i),
            _ => None,
        }
    }

    /// Set a value directly (computed defaults such as primary_hostname).
    pub fn set_value(&mut self, name: &str, v: Value) {
        if let Some(i) = self.index(name) {
            if let (Value::Str(s), true) = (&v, self.table[i].expand) {
                self.slots[i].compiled = Some(compile_option(self.table[i].name, s));
            }
            self.slots[i].value = v;
        }
    }
}

/// Compile an expandable option's value. headers_remove is a colon list
/// whose items are expanded one by one (a `::` in it is a literal colon),
/// so its items are compiled separately.
pub fn compile_option(name: &str, s: &str) -> Result<std::sync::Arc<expand::Compiled>, expand::ExpandError> {
    if name != "headers_remove" {
        return expand::compile(s);
    }
    let mut item = String::new();
    let mut chars = s.chars().peekable();
    let mut items = Vec::new();
    while let Some(c) = chars.next() {
        if c == ':' {
            if chars.peek() == Some(&':') {
                chars.next();
                item.push(':');
                continue;
            }
            items.push(std::mem::take(&mut item));
        } else {
            item.push(c);
        }
    }
    items.push(item);
    for i in &items {
        expand::compile(i.trim())?;
    }
    // The items compiled; the whole string may not (its `::` is only a
    // list escape). Users of headers_remove expand the items themselves.
    expand::compile(s).or_else(|_| expand::compile(""))
}

/// The parts of a setting line: hidden flag, name, and the rest (after the
/// name and its trailing white space), with the byte offset of the rest.
pub struct Setting<'a> {
    pub hide: bool,
    pub name: &'a str,
    pub rest: &'a str,
    pub rest_offset: usize,
}

pub fn split_setting(line: &str) -> Setting<'_> {
    let mut setting = Setting { hide: false, name: "", rest: line, rest_offset: 0 };
    if let Ok(mut pairs) = LineParser::parse(Rule::setting, line) {
        for p in pairs.next().expect("setting").into_inner() {
            match p.as_rule() {
                Rule::hide => setting.hide = true,
                Rule::name => setting.name = p.as_str(),
                Rule::rest => {
                    setting.rest = p.as_str();
                    setting.rest_offset = p.as_span().start();
                }
                _ => {}
            }
        }
    }
    setting
}

/// The outcome of a setting line that is not for this block.
pub enum Handled {
    Done,
    /// The name is not in the table (the caller decides on the error).
    Unknown(String),
}

/// An error in a setting: the message and the column it refers to.
pub struct SettingError {
    pub message: String,
    pub column: usize,
}

fn err(message: impl Into<String>, column: usize) -> SettingError {
    SettingError { message: message.into(), column }
}

/// How a repeatable option accumulates.
#[derive(Clone, Copy)]
enum Repeat {
    /// Conditions are and-ed: ${if and{{bool_lax{old}}{bool_lax{new}}}}.
    Condition,
    /// Lists are joined with the separator.
    List(char),
}

/// Exim's opt_rep_str: the items of the new list (its separator may be
/// changed with `<`) appended to the old one with `sep`, separators inside
/// items doubled (string_nextinlist() and string_append_listele()).
fn accumulate_list(old: Option<&str>, new: &str, sep: char) -> String {
    let mut out = old.unwrap_or("").to_string();
    for item in list_items(new, sep) {
        if !out.is_empty() {
            out.push(sep);
        }
        for c in item.chars() {
            out.push(c);
            if c == sep {
                out.push(sep);
            }
        }
    }
    out
}

/// Exim's string_nextinlist() over a whole list, default separator `sep`.
pub fn list_items(list: &str, default_sep: char) -> Vec<String> {
    let b: Vec<char> = list.chars().collect();
    let mut i = 0;
    let mut sep = default_sep;
    while i < b.len() && b[i].is_ascii_whitespace() && b[i] != sep {
        i += 1;
    }
    if i + 1 < b.len() && b[i] == '<' && (b[i + 1].is_ascii_punctuation() || b[i + 1].is_ascii_control()) {
        sep = b[i + 1];
        i += 2;
    }
    let special = sep.is_ascii_control();
    let mut items = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() && b[i] != sep {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] == sep {
            i += 1;
            if i >= b.len() || b[i] != sep || special {
                items.push(String::new());
                continue;
            }
        }
        let mut item = String::new();
        loop {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != sep {
                i += 1;
            }
            item.extend(&b[start..i]);
            if i >= b.len() {
                break;
            }
            i += 1;
            if i >= b.len() || b[i] != sep || special {
                break;
            }
        }
        while item.ends_with(|c: char| c.is_ascii_whitespace()) && !item[..item.len() - 1].ends_with('\\') {
            item.pop();
        }
        items.push(item);
    }
    items
}

/// The driver options Exim lets a configuration set more than once.
fn repeatable(name: &str) -> Option<Repeat> {
    match name {
        "condition" => Some(Repeat::Condition),
        "headers_add" => Some(Repeat::List('\n')),
        "headers_remove" => Some(Repeat::List(':')),
        "set" => Some(Repeat::List(';')),
        _ => None,
    }
}

/// Exim's readconf_handle_option() for one logical line. `aliases` maps
/// older names onto table names.
pub fn handle_option(
    line: &str,
    opts: &mut Options,
    aliases: &[(&str, &str)],
    file: &str,
    lineno: usize,
) -> Result<Handled, SettingError> {
    let trimmed = line.trim_start();
    let lead = line.len() - trimmed.len();
    if !trimmed.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(err(format!("option setting expected: {trimmed}"), lead));
    }
    let st = split_setting(line);
    let name = st.name;
    let (negated, offset) = if let Some(n) = name.strip_prefix("no_") {
        (true, name.len() - n.len())
    } else if let Some(n) = name.strip_prefix("not_") {
        (true, name.len() - n.len())
    } else {
        (false, 0)
    };
    let base = &name[offset..];
    let alias = aliases.iter().find(|(a, _)| *a == base);
    let lookup = alias.map(|(_, t)| *t).unwrap_or(base);
    let Some(idx) = opts.index(lookup) else {
        return Ok(Handled::Unknown(name.to_string()));
    };
    let def = &opts.table[idx];
    let repeat = repeatable(def.name);
    let already = match alias {
        Some((a, _)) => opts.aliases_set.iter().any(|s| s == a),
        None => opts.slots[idx].set && repeat.is_none(),
    };
    if already {
        return Err(err(format!("\"{name}\" option set for the second time"), lead));
    }
    let mut rest = st.rest;
    let mut col = st.rest_offset;
    if !def.kind.is_bool() {
        if negated {
            return Err(err(texts::NEGATION_NON_BOOLEAN, lead));
        }
        if rest.is_empty() {
            return Err(err(format!("unexpected end of line (data missing) after {name}"), col));
        }
        if !rest.starts_with('=') {
            return Err(err(format!("missing \"=\" after {name}"), col));
        }
    } else if !rest.is_empty() && (negated || !rest.starts_with('=')) {
        let comment = if rest.starts_with('#') { texts::COMMENT_ONLY_AT_LINE_START } else { "" };
        return Err(err(format!("extra characters follow boolean option {name}{comment}"), col));
    }
    if let Some(r) = rest.strip_prefix('=') {
        let r2 = r.trim_start();
        col += 1 + r.len() - r2.len();
        rest = r2;
    }
    let kind = def.kind;
    let mut v = match kind {
        Kind::Bool | Kind::ExpandBool if negated => Value::Bool(false),
        _ => value::parse(kind, rest, name).map_err(|m| err(m, col))?,
    };
    // Options that may be given more than once accumulate (Exim's
    // opt_rep_str and opt_rep_con).
    if let (Some(rep), Value::Str(new)) = (repeat, &v) {
        let old = match &opts.slots[idx].value {
            Value::Str(o) if opts.slots[idx].set => Some(o.as_str()),
            _ => None,
        };
        v = Value::Str(match rep {
            Repeat::Condition => match old {
                Some(old) => format!("${{if and{{{{bool_lax{{{old}}}}}{{bool_lax{{{new}}}}}}}}}"),
                None => new.clone(),
            },
            Repeat::List(sep) => accumulate_list(old, new, sep),
        });
    }
    // The tls authenticator's server_param is another name for server_param1.
    for (a, b) in [("server_param", "server_param1"), ("server_param1", "server_param")] {
        if def.name == a {
            if let Some(j) = opts.index(b) {
                opts.slots[j].value = v.clone();
            }
        }
    }
    // Exim keeps an expanded form of these in a hidden "*expand_NAME".
    if matches!(kind, Kind::ExpandBool | Kind::ExpandUid | Kind::ExpandGid) {
        if let (Value::Str(s), Some(j)) = (&v, opts.index(&format!("*expand_{}", def.name))) {
            opts.slots[j].value = Value::Str(s.clone());
        }
    }
    let compiled = match (&v, def.expand) {
        (Value::Str(s), true) => Some(compile_option(def.name, s)),
        _ => None,
    };
    // Exim's opt_bool_verify: `verify` and `fail_verify` set the _sender
    // and _recipient options together.
    if def.hidden && kind == Kind::Bool {
        for suffix in ["_sender", "_recipient"] {
            if let Some(j) = opts.index(&format!("{lookup}{suffix}")) {
                opts.slots[j].value = v.clone();
            }
        }
    }
    let set = match alias {
        Some((a, _)) => {
            opts.aliases_set.push(a.to_string());
            opts.slots[idx].set
        }
        None => true,
    };
    let slot = &mut opts.slots[idx];
    *slot = OptionSlot {
        value: v,
        set,
        secure: st.hide,
        file: file.to_string(),
        line: lineno,
        column: col,
        compiled,
    };
    Ok(Handled::Done)
}
