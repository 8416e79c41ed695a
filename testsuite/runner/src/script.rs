//! Parser for test scripts in the format of Exim's testsuite (test/README,
//! "TEST COMMANDS"): a title comment, comments, expected-status lines,
//! commands with `\` continuation, and data lines ending at `****`.

/// Whole-script flags: they may appear anywhere and apply to the whole run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    pub no_stdout_check: bool,
    pub no_stderr_check: bool,
    pub no_msglog_check: bool,
    pub no_message_check: bool,
    pub no_munge: bool,
    pub sortlog: bool,
    pub rmfiltertest: bool,
}

/// The exit status expected from the next command. `~N` means "N, but a
/// different status is only a warning" (the command is allowed to vary).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Expect {
    pub status: i32,
    pub tolerant: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// Line number (1-based) of the command's first line.
    pub line: usize,
    pub expect: Expect,
    /// The command text with continuation lines joined by a space.
    pub text: String,
    /// Data lines up to (not including) `****`, for commands that take them.
    pub data: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    pub title: String,
    pub flags: Flags,
    /// `need_ipv4`, `need_ipv6`, ... guards (without the `need_` prefix).
    pub needs: Vec<String>,
    /// Names given to `munge` commands.
    pub munges: Vec<String>,
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Commands that are followed by data lines and a `****` terminator.
const DATA_COMMANDS: &[&str] = &[
    "background",
    "catwrite",
    "client",
    "client-anytls",
    "client-gnutls",
    "client-ssl",
    "exim",
    "exim_exim",
    "perl",
    "server",
    "write",
];

/// The command word of a command line, after the prefixes runtest allows
/// before `exim`: environment settings, a delay in seconds, and `sudo`.
pub fn command_word(text: &str) -> &str {
    let mut words = text.split_whitespace().peekable();
    while let Some(w) = words.peek() {
        let is_env = w
            .split_once('=')
            .map(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(false);
        let is_delay = w.chars().all(|c| c.is_ascii_digit());
        let is_sudo = *w == "sudo" || (w.starts_with('-') && text.contains("sudo"));
        if is_env || is_delay || is_sudo {
            words.next();
        } else {
            break;
        }
    }
    words.next().unwrap_or("")
}

pub fn takes_data(text: &str) -> bool {
    DATA_COMMANDS.contains(&command_word(text))
}

fn parse_expect(line: &str) -> Option<Expect> {
    let (tolerant, digits) = match line.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        digits.parse().ok().map(|status| Expect { status, tolerant })
    } else {
        None
    }
}

fn set_flag(flags: &mut Flags, word: &str) -> bool {
    let slot = match word {
        "no_stdout_check" => &mut flags.no_stdout_check,
        "no_stderr_check" => &mut flags.no_stderr_check,
        "no_msglog_check" => &mut flags.no_msglog_check,
        "no_message_check" => &mut flags.no_message_check,
        "no_munge" => &mut flags.no_munge,
        "sortlog" => &mut flags.sortlog,
        "rmfiltertest" => &mut flags.rmfiltertest,
        _ => return false,
    };
    *slot = true;
    true
}

/// Parse a script. Bytes that are not UTF-8 are taken as Latin-1 by the
/// caller (see `decode`), so any file parses.
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let lines: Vec<&str> = body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut script = Script::default();
    let mut i = 0;
    if let Some(first) = lines.first() {
        if let Some(title) = first.strip_prefix('#') {
            script.title = title.trim().to_string();
        }
    }
    let mut expect: Option<Expect> = None;
    while i < lines.len() {
        let lineno = i + 1;
        let raw = lines[i];
        i += 1;
        let trimmed = raw.trim_end();
        if trimmed.trim_start().is_empty() {
            continue;
        }
        if trimmed.starts_with("### ") {
            script.commands.push(Command { line: lineno, expect: Expect::default(), text: trimmed.to_string(), data: None });
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some(e) = parse_expect(trimmed.trim()) {
            expect = Some(e);
            continue;
        }
        // Join continuation lines ("\" at the end, trailing blanks allowed).
        let mut text = trimmed.trim_start().to_string();
        while text.ends_with('\\') {
            text.pop();
            match lines.get(i) {
                Some(next) => {
                    text = format!("{} {}", text.trim_end(), next.trim());
                    i += 1;
                }
                None => break,
            }
            text = text.trim_end().to_string();
        }
        let word = command_word(&text).to_string();
        if set_flag(&mut script.flags, text.trim()) {
            continue;
        }
        if let Some(need) = word.strip_prefix("need_") {
            script.needs.push(need.to_string());
            continue;
        }
        if word == "munge" {
            let name = text.split_whitespace().nth(1).unwrap_or("").to_string();
            script.munges.push(name);
            continue;
        }
        let data = if takes_data(&text) {
            let mut data = Vec::new();
            loop {
                match lines.get(i) {
                    Some(l) if *l == "****" || l.trim_end() == "****" => {
                        i += 1;
                        break;
                    }
                    Some(l) => {
                        data.push(l.strip_suffix('\r').unwrap_or(l).to_string());
                        i += 1;
                    }
                    // Like runtest, the end of the file ends the last data.
                    None => break,
                }
            }
            Some(data)
        } else {
            None
        };
        script.commands.push(Command { line: lineno, expect: expect.take().unwrap_or_default(), text, data });
    }
    Ok(script)
}

/// Scripts and outputs are bytes, not always UTF-8 (Latin-1 and 8-bit
/// tests): each byte becomes the char of the same value, so any file parses
/// and `encode` gives back exactly the original bytes.
pub fn decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// The inverse of `decode`.
pub fn encode(text: &str) -> Vec<u8> {
    text.chars().map(|c| c as u32 as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_comments_and_expect() {
        let s = parse("# My title\n# comment\n\n1\nexim -bs\nquit\n****\nexim -bV\n****\n").unwrap();
        assert_eq!(s.title, "My title");
        assert_eq!(s.commands.len(), 2);
        assert_eq!(s.commands[0].expect, Expect { status: 1, tolerant: false });
        assert_eq!(s.commands[0].data.as_deref(), Some(&["quit".to_string()][..]));
        assert_eq!(s.commands[1].expect.status, 0);
        assert_eq!(s.commands[1].line, 8);
    }

    #[test]
    fn tolerant_status() {
        let s = parse("# t\n~2\nsleep 1\n").unwrap();
        assert_eq!(s.commands[0].expect, Expect { status: 2, tolerant: true });
    }

    #[test]
    fn continuation_with_trailing_blanks() {
        let s = parse("# t\nexim -bP a \\ \n   b \\\n   c\n****\n").unwrap();
        assert_eq!(s.commands[0].text, "exim -bP a b c");
    }

    #[test]
    fn flags_needs_and_munges() {
        let s = parse("# t\nneed_ipv4\nno_msglog_check  \nsortlog\nmunge loopback\nkilldaemon\n").unwrap();
        assert!(s.flags.no_msglog_check && s.flags.sortlog);
        assert_eq!(s.needs, vec!["ipv4"]);
        assert_eq!(s.munges, vec!["loopback"]);
        assert_eq!(s.commands.len(), 1);
        assert!(s.commands[0].data.is_none());
    }

    #[test]
    fn section_lines_are_commands() {
        let s = parse("# t\n### first part\nexim -be\n****\n").unwrap();
        assert_eq!(s.commands[0].text, "### first part");
    }

    #[test]
    fn prefixed_exim_takes_data() {
        assert!(takes_data("3 exim -bs"));
        assert!(takes_data("LDAPTLS_REQCERT=never exim -be"));
        assert!(takes_data("sudo exim -be"));
        assert!(takes_data("client-anytls 127.0.0.1 1225"));
        assert!(!takes_data("killdaemon"));
        assert!(!takes_data("sleep 3"));
        assert_eq!(command_word("A=1 2 sudo exim -q"), "exim");
    }

    #[test]
    fn end_of_file_ends_data() {
        let s = parse("# t\nexim -be\nabc").unwrap();
        assert_eq!(s.commands[0].data.as_deref(), Some(&["abc".to_string()][..]));
        let s = parse("# t\nexim -bS\n.\n").unwrap();
        assert_eq!(s.commands[0].data.as_deref(), Some(&[".".to_string()][..]));
    }

    #[test]
    fn bytes_round_trip() {
        assert_eq!(decode(b"a\xe9b"), "a\u{e9}b");
        assert_eq!(encode(&decode("\u{e9}t\u{e9}".as_bytes())), "\u{e9}t\u{e9}".as_bytes());
    }
}

