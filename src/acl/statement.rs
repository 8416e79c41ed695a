//! ACL statements: the raw form the configuration reader hands over, the
//! checked form the interpreter runs, and a small reader of ACL text for
//! inline ACLs and ACL files (which Exim reads the same way).

use super::conditions::{self, CondId};
use super::texts;
use super::AclError;

/// Exim's ACL verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Accept,
    Defer,
    Deny,
    Discard,
    Drop,
    Require,
    Warn,
}

/// Sorted, as Exim's `verbs[]`.
const VERBS: &[(&str, Verb)] = &[
    ("accept", Verb::Accept),
    ("defer", Verb::Defer),
    ("deny", Verb::Deny),
    ("discard", Verb::Discard),
    ("drop", Verb::Drop),
    ("require", Verb::Require),
    ("warn", Verb::Warn),
];

impl Verb {
    pub fn from_name(name: &str) -> Option<Verb> {
        VERBS.binary_search_by(|(n, _)| n.cmp(&name)).ok().map(|i| VERBS[i].1)
    }

    pub fn name(self) -> &'static str {
        VERBS.iter().find(|(_, v)| *v == self).map(|(n, _)| *n).unwrap_or("?")
    }
}

/// One condition or modifier as written, before checking: `name` may carry
/// a leading `!`; for `set`, the name is `set` and the variable leads the
/// value (`acl_m_x = value`) as in the configuration text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItem {
    pub name: String,
    pub value: String,
    pub file: String,
    pub line: u32,
}

/// A statement as the configuration reader delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    pub verb: String,
    pub file: String,
    pub line: u32,
    pub items: Vec<RawItem>,
}

/// A checked condition or modifier.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: CondId,
    pub negated: bool,
    /// For `set`: the variable name without `acl_` prefix removed
    /// (`acl_m_x`, `acl_c0`).
    pub varname: Option<String>,
    pub value: String,
    /// The value compiled once; None when it has nothing to expand or
    /// does not compile (the error is reported when it is used).
    pub compiled: Option<std::sync::Arc<crate::expand::Compiled>>,
    /// True when the value has no `$` or `\\`: it is used as it is.
    pub literal: bool,
    /// A literal list argument, compiled on first use.
    pub list: std::sync::OnceLock<std::sync::Arc<crate::lists::compiled::CompiledList>>,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub verb: Verb,
    pub file: String,
    pub line: u32,
    pub items: Vec<Item>,
}

/// A checked ACL.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    pub statements: Vec<Statement>,
}

/// Check raw statements: verbs, condition names, negation, `set` names.
/// Errors carry Exim's text and the line, as readconf reports them.
pub fn compile(raw: &[RawStatement]) -> Result<Acl, AclError> {
    let mut statements = Vec::with_capacity(raw.len());
    for r in raw {
        let verb = Verb::from_name(&r.verb).ok_or_else(|| AclError::config(&r.file, r.line, texts::unknown_verb(&r.verb)))?;
        let mut items = Vec::with_capacity(r.items.len());
        for it in &r.items {
            items.push(compile_item(verb, it)?);
        }
        statements.push(Statement { verb, file: r.file.clone(), line: r.line, items });
    }
    Ok(Acl { statements })
}

fn compile_item(verb: Verb, it: &RawItem) -> Result<Item, AclError> {
    let (negated, name) = match it.name.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, it.name.as_str()),
    };
    let err = |m: String| AclError::config(&it.file, it.line, m);
    let whole = || format!("{} = {}", it.name, it.value);
    let id = conditions::find(name).ok_or_else(|| err(texts::unknown_condition(&whole())))?;
    let def = conditions::def(id);
    if negated && def.modifier {
        return Err(err(texts::negated_modifier(name)));
    }
    if id == CondId::Endpass && !matches!(verb, Verb::Accept | Verb::Discard) {
        return Err(err(texts::endpass_verb(verb.name())));
    }
    let mut value = it.value.clone();
    let mut varname = None;
    if id == CondId::Set {
        let (var, rest) = split_set(&value).ok_or_else(|| err(texts::bad_set(&value)))?;
        varname = Some(var);
        value = rest;
    }
    // Values are compiled when the ACL is read, so that evaluation does
    // not look them up (a long host list would be hashed each time).
    // Errors are left for evaluation time, where Exim reports them.
    let literal = !value.contains(['$', '\\']);
    let compiled = if literal { None } else { crate::expand::compile_uncached(&value).ok().map(std::sync::Arc::new) };
    Ok(Item { id, negated, varname, value, compiled, literal, list: Default::default() })
}

/// `acl_m_x = value` → ("acl_m_x", "value"); the name must be `acl_c` or
/// `acl_m` followed by a digit or underscore (spec "ACL variables").
fn split_set(s: &str) -> Option<(String, String)> {
    let s = s.trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let name = &s[..end];
    let tail = name.strip_prefix("acl_c").or_else(|| name.strip_prefix("acl_m"))?;
    if !tail.starts_with(|c: char| c.is_ascii_digit() || c == '_') {
        return None;
    }
    let rest = s[end..].trim_start().strip_prefix('=')?;
    Some((name.to_string(), rest.trim().to_string()))
}

/// Read ACL text (an inline ACL or an ACL file): the lines are processed
/// as configuration lines (continuations, comments, blank lines); a line
/// starting with a verb starts a statement, other lines add a condition
/// or modifier. The configuration reader's own output replaces this for
/// ACLs in the configuration file.
pub fn read_text(text: &str, file: &str) -> Result<Vec<RawStatement>, AclError> {
    let mut out: Vec<RawStatement> = Vec::new();
    for (line_no, line) in logical_lines(text) {
        let mut rest = line.trim();
        let word_end = rest.find(|c: char| c.is_whitespace() || c == '=' || c == '!').unwrap_or(rest.len());
        let word = &rest[..word_end];
        if Verb::from_name(word).is_some() {
            out.push(RawStatement { verb: word.to_string(), file: file.to_string(), line: line_no, items: Vec::new() });
            rest = rest[word_end..].trim_start();
            if rest.is_empty() {
                continue;
            }
        }
        let Some(stmt) = out.last_mut() else {
            return Err(AclError::config(file, line_no, texts::unknown_verb(word)));
        };
        stmt.items.push(split_item(rest, file, line_no));
    }
    Ok(out)
}

/// `name = value`, `!name = value`, `endpass`, `set acl_m_x = value`.
fn split_item(s: &str, file: &str, line: u32) -> RawItem {
    let neg = s.starts_with('!');
    let body = if neg { s[1..].trim_start() } else { s };
    let end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
    let name = &body[..end];
    let after = body[end..].trim_start();
    let value = if name == "set" { after.to_string() } else { after.strip_prefix('=').map(|v| v.trim().to_string()).unwrap_or_else(|| after.to_string()) };
    RawItem { name: if neg { format!("!{name}") } else { name.to_string() }, value, file: file.to_string(), line }
}

/// Configuration-style logical lines: trailing backslash continues (leading
/// white space of the next line dropped), blank and `#` lines skipped, also
/// `#` lines inside a continuation.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(u32, String)> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let piece = match &cur {
            // Comment lines may sit between continuation lines (Exim's
            // acl_getline skips them); an empty line ends the statement.
            Some(_) if raw.trim_start().starts_with('#') => continue,
            Some(_) => raw.trim_start(),
            None => {
                let t = raw.trim_start();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                raw
            }
        };
        let (piece, more) = match piece.trim_end().strip_suffix('\\') {
            Some(p) => (p, true),
            None => (piece, false),
        };
        let entry = cur.get_or_insert_with(|| (i as u32 + 1, String::new()));
        entry.1.push_str(piece);
        if !more {
            out.push(cur.take().unwrap());
        }
    }
    if let Some(c) = cur {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_statements_with_continuations() {
        let t = "# c\naccept hosts = a : \\\n   b\n        !verify = sender\ndeny\n  set acl_m_x = 1\n";
        let s = read_text(t, "f").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].line, 2);
        assert_eq!(s[0].items[0].value, "a : b");
        assert_eq!(s[0].items[1].name, "!verify");
        assert_eq!(s[1].items[0].value, "acl_m_x = 1");
        let acl = compile(&s).unwrap();
        assert_eq!(acl.statements[1].items[0].varname.as_deref(), Some("acl_m_x"));
    }

    #[test]
    fn comment_lines_inside_a_continuation_are_skipped() {
        let t = "deny message = a \\   \n  # c\n   b\\\n   \n\ndeny message = c\n";
        let s = read_text(t, "f").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].items[0].value, "a b");
        assert_eq!(s[1].items[0].value, "c");
    }

    #[test]
    fn unknown_condition_is_exims_error() {
        let s = read_text("deny recipientx = a@b", "f").unwrap();
        let e = compile(&s).unwrap_err();
        assert_eq!(e.to_string(), "error in ACL: unknown ACL condition/modifier in \"recipientx = a@b\"");
    }
}
