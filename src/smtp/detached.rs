//! Commands a session starts and does not wait for (ETRN's
//! `smtp_etrn_command`): standard input, output and error are /dev/null,
//! as Exim's exim_nullstd() leaves them, and the child is reaped by a
//! thread so that none is left a zombie.

use crate::log::{Logger, Targets};

/// Start `argv`; when it cannot be run, log Exim's line naming `shown`
/// (the command as configured) to the main and panic logs.
pub fn run(argv: &[String], shown: &str, what: &str, log: &Logger) {
    let Some((program, args)) = argv.split_first() else { return };
    let started = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match started {
        Ok(mut child) => {
            let _ = std::thread::Builder::new().name("command-reaper".into()).spawn(move || child.wait());
        }
        Err(e) => log.write(Targets::PANIC, &format!("exec of \"{shown}\" ({what}) failed: {}", crate::texts::errno_text(&e))),
    }
}
