//! `${run{command}}`: the command is split into arguments like Exim's
//! transport_set_up_command (white space, with quotes), and run without a
//! shell or a PATH search; its standard error joins its standard output.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

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

/// The outcome of `${run}`: its output and `$runrc`.
pub struct RunResult {
    pub output: String,
    pub rc: i32,
}

pub fn run_command(options: &str, command: &str) -> Result<RunResult, ExpandError> {
    for opt in options.split(',').filter(|o| !o.is_empty()) {
        if opt != "preexpand" {
            return Err(ExpandError::Failed(format!("bad option '{opt}' for run")));
        }
    }
    let args = split_args(command);
    let Some((prog, rest)) = args.split_first() else {
        return Err(ExpandError::Failed("missing command name in \"run\" item".into()));
    };
    // Exim execs the command as given: a name without a slash is not
    // looked up in PATH, and a failed exec is exit status 127.
    if !prog.contains('/') {
        return Ok(RunResult { output: String::new(), rc: 127 });
    }
    let (mut reader, writer) = std::io::pipe()
        .map_err(|e| ExpandError::Failed(format!("couldn't create pipe: {}", crate::texts::errno_text(&e))))?;
    let writer2 = writer
        .try_clone()
        .map_err(|e| ExpandError::Failed(format!("couldn't create pipe: {}", crate::texts::errno_text(&e))))?;
    // Arguments are bytes, as Exim passes them.
    let os = |s: &String| -> std::ffi::OsString {
        std::os::unix::ffi::OsStringExt::from_vec(crate::bytes::to_bytes(s).into_owned())
    };
    let child = Command::new(os(prog)).args(rest.iter().map(os)).stdin(Stdio::null()).stdout(writer).stderr(writer2).spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) => return Ok(RunResult { output: String::new(), rc: 127 }),
    };
    let mut out = Vec::new();
    let _ = reader.read_to_end(&mut out);
    let status = child
        .wait()
        .map_err(|e| ExpandError::Failed(format!("wait for child process failed: {}", crate::texts::errno_text(&e))))?;
    let rc = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(RunResult { output: crate::bytes::fgets_text(out), rc })
}
