//! `${run{command}}`: the command is split into arguments like Exim's
//! transport_set_up_command (white space, with quotes), and run without
//! a shell.

use std::process::Command;

use super::error::ExpandError;

fn split_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut arg = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            while let Some(ch) = chars.next() {
                if ch == c {
                    break;
                }
                if ch == '\\' && c == '"' {
                    if let Some(n) = chars.next() {
                        arg.push(n);
                    }
                    continue;
                }
                arg.push(ch);
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                arg.push(ch);
                chars.next();
            }
        }
        args.push(arg);
    }
    args
}

pub fn run_command(_options: &str, command: &str) -> Result<(bool, String), ExpandError> {
    let args = split_args(command);
    let Some((prog, rest)) = args.split_first() else {
        return Err(ExpandError::Failed("missing command name in \"run\" item".into()));
    };
    let out = Command::new(prog)
        .args(rest)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| ExpandError::Failed(format!("couldn't create child process: {}", crate::texts::errno_text(&e))))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok((out.status.success(), text))
}
