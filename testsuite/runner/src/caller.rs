//! The unprivileged caller (`--caller USER`): Exim's runtest runs exim as
//! the invoking non-root user, CALLER, with the Exim group as a secondary
//! group (test/README, REQUIREMENTS 3). The runner stays root for its own
//! work and runs `exim` commands (those without `sudo`) as this user.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The credentials `exim` commands run with.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (the Exim group among them).
    pub groups: Vec<u32>,
}

/// A login runtest accepts: no dash or equal sign (local_part prefix and
/// suffix tests), none of the names the tests use as recipients.
pub fn valid_name(name: &str) -> Result<(), String> {
    const TAKEN: &[&str] = &["abcd", "root", "userx", "usery", "userz", "xyz"];
    if name.is_empty() || name.len() > 31 || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') || name.len() == 1 || TAKEN.contains(&name) {
        return Err(format!("--caller {}: a login of lowercase letters, digits and '_' (no '-' or '='), not one of the tests' user names", name));
    }
    Ok(())
}

fn field(db: &str, name: &str, index: usize) -> Option<String> {
    fs::read_to_string(db).ok()?.lines().map(|l| l.split(':').collect::<Vec<_>>()).find(|f| f.first() == Some(&name)).and_then(|f| f.get(index).map(|s| s.to_string()))
}

/// The user `name`, created when missing (with a gecos name, a primary
/// group of its own and `exim_group` as a secondary group), and added to
/// `exim_group` when it is not in it yet.
pub fn ensure(name: &str, exim_group: &str) -> Result<Caller, String> {
    valid_name(name)?;
    if field("/etc/passwd", name, 2).is_none() {
        let st = Command::new("useradd")
            .args(["--no-create-home", "--user-group", "--shell", "/bin/sh", "--comment", "Exim Testsuite Caller", "--groups", exim_group, name])
            .status()
            .map_err(|e| format!("useradd: {}", e))?;
        if !st.success() {
            return Err(format!("useradd {} failed ({})", name, st));
        }
    }
    let members = field("/etc/group", exim_group, 3).unwrap_or_default();
    if !members.split(',').any(|m| m == name) {
        let st = Command::new("usermod").args(["--append", "--groups", exim_group, name]).status().map_err(|e| format!("usermod: {}", e))?;
        if !st.success() {
            return Err(format!("usermod -aG {} {} failed ({})", exim_group, name, st));
        }
    }
    lookup(name)
}

/// The credentials of an existing user, with its supplementary groups.
pub fn lookup(name: &str) -> Result<Caller, String> {
    let uid = field("/etc/passwd", name, 2).and_then(|v| v.parse().ok()).ok_or_else(|| format!("no user {}", name))?;
    let gid = field("/etc/passwd", name, 3).and_then(|v| v.parse().ok()).ok_or_else(|| format!("no user {}", name))?;
    let text = fs::read_to_string("/etc/group").unwrap_or_default();
    let mut groups: Vec<u32> = vec![gid];
    for l in text.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 4 && f[3].split(',').any(|m| m == name) {
            if let Ok(g) = f[2].parse() {
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
        }
    }
    Ok(Caller { name: name.to_string(), uid, gid, groups })
}

/// Debian's Exim keeps root privilege with `-C` for the Exim user only for
/// a file listed in its TRUSTED_CONFIG_LIST (any other non-root caller
/// always loses it); DIR/test-config is one fixed path, listed once.
/// Returns whether the list was changed. (Any `-D` on the command line
/// still makes Exim give up privilege for a non-root caller.)
pub fn trust_config(list: &Path, config: &Path) -> Result<bool, String> {
    let line = config.display().to_string();
    let text = fs::read_to_string(list).unwrap_or_default();
    if text.lines().any(|l| l.trim() == line) {
        return Ok(false);
    }
    let mut f = fs::OpenOptions::new().create(true).append(true).open(list).map_err(|e| format!("{}: {}", list.display(), e))?;
    let sep = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
    f.write_all(format!("{}{}\n", sep, line).as_bytes()).map_err(|e| format!("{}: {}", list.display(), e))?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(list, fs::Permissions::from_mode(0o644)).map_err(|e| format!("{}: {}", list.display(), e))?;
    Ok(true)
}

/// Become the caller in a child between fork and exec: supplementary
/// groups, then the group, then the user (the order matters: after
/// setuid the others are no longer allowed).
///
/// # Safety
/// Only async-signal-safe calls: meant for `CommandExt::pre_exec`.
pub unsafe fn become_caller(groups: &[libc::gid_t], gid: u32, uid: u32) -> std::io::Result<()> {
    if libc::setgroups(groups.len(), groups.as_ptr()) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("eximtest").is_ok());
        for bad in ["exim-test", "a=b", "userx", "x", "", "Root"] {
            assert!(valid_name(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn root_is_found() {
        let r = lookup("root").unwrap();
        assert_eq!((r.uid, r.gid), (0, 0));
        assert!(r.groups.contains(&0));
        assert!(lookup("no_such_user_here").is_err());
    }

    #[test]
    fn config_listed_once() {
        let dir = std::env::temp_dir().join(format!("rexim-caller-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let list = dir.join("trusted_configs");
        fs::write(&list, "/etc/other").unwrap();
        assert!(trust_config(&list, Path::new("/r/test/test-config")).unwrap());
        assert!(!trust_config(&list, Path::new("/r/test/test-config")).unwrap());
        assert_eq!(fs::read_to_string(&list).unwrap(), "/etc/other\n/r/test/test-config\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn child_runs_as_another_user() {
        use std::os::unix::process::CommandExt;
        // nobody exists on every Debian system.
        let n = lookup("nobody").unwrap();
        let groups: Vec<libc::gid_t> = n.groups.clone();
        let (gid, uid) = (n.gid, n.uid);
        let mut c = Command::new("/usr/bin/id");
        c.arg("-u");
        // SAFETY: become_caller makes only async-signal-safe calls.
        unsafe {
            c.pre_exec(move || become_caller(&groups, gid, uid));
        }
        let out = c.output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), uid.to_string());
    }
}
