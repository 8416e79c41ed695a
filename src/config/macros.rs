//! Configuration macros: built-in feature macros, `-D` definitions and
//! `NAME = value` / `NAME == value` lines (Exim's macro_read_assignment()).

use super::texts;

/// Longest macro name plus one (Exim's MACRO_NAMELEN is 64).
const MACRO_NAMELEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macro {
    pub name: String,
    pub replacement: String,
    /// Defined with -D: definitions in the file are then ignored.
    pub command_line: bool,
}

/// All macros in definition order: built-ins (names starting with `_`)
/// first, then command-line and file macros (Exim's `macros_user`).
/// The built-ins are made when first needed, as in Exim: only a line with
/// `_` before an upper-case letter, `.ifdef _...` or `-bP macros` looks at
/// them, and making their 700 names was a quarter of a `-be` start-up.
#[derive(Debug, Clone, Default)]
pub struct Macros {
    builtins: std::sync::OnceLock<Vec<Macro>>,
    user: Vec<Macro>,
}

/// Why a macro line was refused. Exim logs all of these with LOG_PANIC
/// (not DIE) before exiting; `with_line` is false for the ones it reports
/// without the file and line.
pub struct MacroError {
    pub message: String,
    pub with_line: bool,
}

impl Macros {
    pub fn new(defines: &[(String, String)]) -> Macros {
        let user = defines
            .iter()
            .map(|(name, value)| Macro { name: name.clone(), replacement: value.clone(), command_line: true })
            .collect();
        Macros { builtins: std::sync::OnceLock::new(), user }
    }

    fn builtins(&self) -> &[Macro] {
        self.builtins.get_or_init(|| {
            super::commands::builtin_macros()
                .into_iter()
                .map(|(name, replacement)| Macro { name, replacement, command_line: false })
                .collect()
        })
    }

    pub fn user(&self) -> &[Macro] {
        &self.user
    }

    /// Every macro, built-ins first.
    pub fn all(&self) -> impl Iterator<Item = &Macro> {
        self.builtins().iter().chain(&self.user)
    }

    /// Read `NAME = value` or `NAME == value` (the line starts with the name).
    pub fn read_assignment(&mut self, line: &str) -> Result<(), MacroError> {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            if i >= MACRO_NAMELEN - 1 {
                return Err(MacroError { message: texts::macro_name_too_long(MACRO_NAMELEN - 1), with_line: true });
            }
            i += 1;
        }
        let name = &line[..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return Err(MacroError { message: texts::MALFORMED_MACRO.to_string(), with_line: true });
        }
        i += 1;
        let redef = i < b.len() && b[i] == b'=';
        if redef {
            i += 1;
        }
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = &line[i..];
        let mut found = None;
        for (idx, m) in self.user.iter().enumerate() {
            if m.name == name {
                if !m.command_line && !redef {
                    return Err(MacroError {
                        message: format!(
                            "macro \"{name}\" is already defined (use \"==\" if you want to redefine it)"
                        ),
                        with_line: false,
                    });
                }
                found = Some(idx);
                break;
            }
            if m.name.len() < name.len() && name.contains(m.name.as_str()) {
                return Err(MacroError {
                    message: format!(
                        "\"{name}\" cannot be defined as a macro because previously defined macro \"{}\" is a substring",
                        m.name
                    ),
                    with_line: false,
                });
            }
        }
        match found {
            Some(idx) if self.user[idx].command_line => Ok(()),
            Some(idx) => {
                self.user[idx].replacement = value.to_string();
                Ok(())
            }
            None if redef => Err(MacroError {
                message: format!("can't redefine an undefined macro \"{name}\""),
                with_line: false,
            }),
            None => {
                self.user.push(Macro { name: name.to_string(), replacement: value.to_string(), command_line: false });
                Ok(())
            }
        }
    }

    /// Substitute macros in one physical line as Exim's get_config_line()
    /// does: every macro in definition order, plain substring matches, the
    /// replacement not rescanned for the same macro. Built-ins are only
    /// considered when the scan starts at `_`. `skip` bytes at the start are
    /// left alone (the name of a macro being defined). Returns whether any
    /// substitution happened.
    pub fn substitute(&self, line: &mut String, skip: usize) -> bool {
        fn macro_start(b: &[u8], i: usize) -> bool {
            b[i].is_ascii_uppercase() || (b[i] == b'_' && i + 1 < b.len() && b[i + 1].is_ascii_uppercase())
        }
        fn next_start(s: &str, mut i: usize) -> usize {
            let b = s.as_bytes();
            while i < b.len() && !macro_start(b, i) {
                i += 1;
            }
            i
        }
        let mut s = next_start(line, skip);
        if s >= line.len() {
            return false;
        }
        let builtins = if line.as_bytes()[s] == b'_' { self.builtins() } else { &[] };
        let mut found = false;
        for m in builtins.iter().chain(&self.user) {
            s = next_start(line, s);
            if s >= line.len() {
                break;
            }
            let mut t = s;
            while let Some(off) = line[t..].find(m.name.as_str()) {
                let p = t + off;
                line.replace_range(p..p + m.name.len(), &m.replacement);
                t = next_start(line, p + m.replacement.len());
                found = true;
                if t >= line.len() {
                    break;
                }
            }
        }
        found
    }

    pub fn find(&self, name: &str) -> Option<&Macro> {
        self.all().find(|m| m.name == name)
    }
}

/// Parse the argument of `-D` (`NAME`, `NAME=value`, spaces allowed around
/// the `=`) as Exim's command line does.
pub fn parse_define(arg: &str) -> Result<(String, String), String> {
    let s = arg.trim_start();
    if !s.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err("exim: macro name set by -D must start with an upper case letter".to_string());
    }
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let name = &s[..end];
    let rest = s[end..].trim_start();
    if rest.is_empty() {
        return Ok((name.to_string(), String::new()));
    }
    match rest.strip_prefix('=') {
        Some(v) => Ok((name.to_string(), v.trim_start().to_string())),
        None => Err(format!("exim: bad -D argument: {arg}")),
    }
}
