//! The configuration preprocessor: Exim's get_config_line().
//!
//! It turns physical lines into logical lines: comments and blank lines are
//! dropped, macros substituted (per physical line, before anything else),
//! `.ifdef`-style conditionals and `.include` handled, and lines ending in a
//! backslash joined with the next (whose leading white space is dropped).
//! A `begin NAME` line ends a section: `next_line` returns None and
//! `next_section` holds the name.

use std::path::Path;

use super::error::ConfigError;
use super::macros::Macros;
use super::texts;

/// Deepest `.ifdef` nesting (Exim's CSTATE_STACK_SIZE).
const CSTATE_STACK_SIZE: usize = 10;

struct SourceFile {
    name: String,
    dir: String,
    lines: Vec<String>,
    /// Index of the next physical line; also the number of the last read.
    next: usize,
}

/// In a line that defines a macro (`NAME = ...`), the length up to the
/// "=", which macro substitution leaves alone; otherwise 0.
pub fn defined_name_len(line: &str) -> usize {
    if !line.starts_with(|c: char| c.is_ascii_uppercase()) {
        return 0;
    }
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(line.len());
    let after = line[end..].trim_start_matches(is_space);
    if after.starts_with('=') { line.len() - after.len() } else { 0 }
}

impl SourceFile {
    fn new(name: &str, content: &[u8]) -> SourceFile {
        // Bytes that are not UTF-8 are kept (crate::bytes).
        let text = crate::bytes::from_bytes(content);
        let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
        let dir = match name.rfind('/') {
            Some(p) => name[..p].to_string(),
            None => ".".to_string(),
        };
        SourceFile { name: name.to_string(), dir, lines, next: 0 }
    }
}

/// A logical line and where it ended.
#[derive(Debug, Clone)]
pub struct Logical {
    pub text: String,
    pub file: String,
    pub line: usize,
}

/// The conditional directives: name, pushes (1) / pops (-1) / neither (0),
/// and the actions when a macro was found (action1) or not (action2).
const CONDITIONALS: &[(&str, i8, usize, usize)] = &[
    ("ifdef", 1, 0, 1),
    ("ifndef", 1, 1, 0),
    ("elifdef", 0, 2, 3),
    ("elifndef", 0, 3, 2),
    ("else", 0, 2, 2),
    ("endif", -1, 0, 0),
];

/// Exim's next_cstate table: state 0 is "using lines", 1 "skipping, may
/// switch on", 2 "skipping for good in this block".
const NEXT_CSTATE: [[u8; 4]; 3] = [[0, 1, 2, 2], [2, 2, 0, 1], [2, 2, 2, 2]];

pub struct Preprocessor {
    stack: Vec<SourceFile>,
    pub macros: Macros,
    cstate: u8,
    cstate_stack: Vec<u8>,
    /// Set when a `begin` line ended the section (None at end of file).
    pub next_section: Option<String>,
    /// The lines `-bP config` prints: logical lines and `# N "file"` marks.
    pub config_lines: Vec<String>,
}

impl Preprocessor {
    pub fn new(name: &str, content: &[u8], macros: Macros) -> Preprocessor {
        Preprocessor {
            stack: vec![SourceFile::new(name, content)],
            macros,
            cstate: 0,
            cstate_stack: Vec::new(),
            next_section: None,
            config_lines: Vec::new(),
        }
    }

    /// Current file and line, for error messages.
    pub fn position(&self) -> (String, usize) {
        let f = self.stack.last().expect("file stack never empty");
        (f.name.clone(), f.next)
    }

    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        let (file, line) = self.position();
        ConfigError::at(&file, line, message)
    }

    fn save_position(&mut self) {
        let (file, line) = self.position();
        self.config_lines.push(format!("# {line} \"{file}\""));
    }

    /// Read the next logical line. None: end of section or of file.
    pub fn next_line(&mut self) -> Result<Option<Logical>, ConfigError> {
        let mut buf = String::new();
        let mut have_line = false;
        loop {
            let physical = {
                let f = self.stack.last_mut().expect("file stack never empty");
                if f.next < f.lines.len() {
                    f.next += 1;
                    Some(f.lines[f.next - 1].clone())
                } else {
                    None
                }
            };
            let mut physical = match physical {
                Some(p) => p,
                None => {
                    if self.stack.len() > 1 {
                        self.stack.pop();
                        self.save_position();
                        continue;
                    }
                    if !self.cstate_stack.is_empty() {
                        return Err(self.error(texts::ENDIF_MISSING));
                    }
                    if have_line {
                        break;
                    }
                    self.next_section = None;
                    return Ok(None);
                }
            };
            if self.position().1 == 1 {
                self.save_position();
            }
            if physical.ends_with('\n') {
                physical.pop();
            }
            // Leading white space is always ignored.
            let lead = physical.len() - physical.trim_start_matches(is_space).len();
            let mut line = physical[lead..].to_string();

            // Macro substitution; not in the name of a macro being defined.
            let skip = if have_line { 0 } else { defined_name_len(&line) };
            let macro_found = self.macros.substitute(&mut line, skip);
            let line = line.trim_start_matches(is_space).to_string();

            if line.starts_with('#') {
                continue;
            }
            if line.starts_with('.') {
                if let Some(handled) = self.conditional(&line, macro_found)? {
                    if handled {
                        continue;
                    }
                }
            }
            if self.cstate != 0 {
                continue;
            }
            if let Some(rest) = include_directive(&line) {
                self.include(rest.0, rest.1)?;
                continue;
            }
            buf.push_str(&line);
            let trimmed = buf.trim_end_matches(is_space).len();
            buf.truncate(trimmed);
            if !buf.is_empty() {
                have_line = true;
                if !buf.ends_with('\\') {
                    break;
                }
                buf.pop();
            }
        }

        self.config_lines.push(buf.clone());
        if buf.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("begin ")) {
            let name = buf[6..].trim_start_matches(is_space).to_string();
            self.next_section = Some(name);
            return Ok(None);
        }
        let (file, line) = self.position();
        Ok(Some(Logical { text: buf, file, line }))
    }

    /// Handle a conditional directive. Some(true): it was one.
    fn conditional(&mut self, line: &str, macro_found: bool) -> Result<Option<bool>, ConfigError> {
        for &(name, pushpop, action1, action2) in CONDITIONALS {
            if !line[1..].starts_with(name) {
                continue;
            }
            // Exim tests for ' ', 't' (sic), newline or end after the name;
            // anything else makes it ignore the line.
            match line.as_bytes().get(1 + name.len()) {
                None | Some(b' ') | Some(b't') | Some(b'\n') => {}
                Some(_) => return Ok(Some(true)),
            }
            let action = if macro_found { action1 } else { action2 };
            if pushpop > 0 {
                if self.cstate_stack.len() >= CSTATE_STACK_SIZE {
                    return Err(self.error(format!(".{name} nested too deeply")));
                }
                self.cstate_stack.push(self.cstate);
                self.cstate = NEXT_CSTATE[self.cstate as usize][action];
            } else {
                let Some(&top) = self.cstate_stack.last() else {
                    return Err(self.error(format!(".{name} without matching .ifdef")));
                };
                if pushpop < 0 {
                    self.cstate = top;
                    self.cstate_stack.pop();
                } else {
                    self.cstate = NEXT_CSTATE[self.cstate as usize][action];
                }
            }
            return Ok(Some(true));
        }
        Ok(Some(false))
    }

    fn include(&mut self, if_exists: bool, arg: &str) -> Result<(), ConfigError> {
        let mut name = arg.trim_matches(is_space);
        if name.len() >= 2 && name.starts_with('"') && name.ends_with('"') {
            name = &name[1..name.len() - 1];
        }
        let path = if name.starts_with('/') {
            name.to_string()
        } else if if_exists {
            return Err(self.error(format!(".include specifies a non-absolute path \"{name}\"")));
        } else {
            format!("{}/{}", self.stack.last().expect("stack").dir, name)
        };
        if if_exists && !Path::new(&path).exists() {
            return Ok(());
        }
        self.save_position();
        // Exim opens a directory (`.include` with no name) and reads nothing.
        let content = if Path::new(&path).is_dir() { Ok(Vec::new()) } else { std::fs::read(&path) };
        let content = content
            .map_err(|_| self.error(format!("failed to open included configuration file {path}")))?;
        self.stack.push(SourceFile::new(&path, &content));
        Ok(())
    }
}

fn is_space(c: char) -> bool {
    c == ' ' || ('\t'..='\r').contains(&c)
}

/// `.include NAME` or `.include_if_exists NAME`: (if_exists, NAME). The
/// end of the line counts as white space (Exim sees the newline there).
fn include_directive(line: &str) -> Option<(bool, &str)> {
    let rest = line.strip_prefix(".include")?;
    if rest.is_empty() || rest.starts_with(is_space) {
        return Some((false, rest.get(1..).unwrap_or("")));
    }
    let rest = rest.strip_prefix("_if_exists")?;
    if rest.is_empty() || rest.starts_with(is_space) {
        return Some((true, rest.get(1..).unwrap_or("")));
    }
    None
}
