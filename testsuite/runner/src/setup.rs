//! The per-test environment: a fresh work directory DIR holding the
//! substituted configuration (DIR/test-config), aux-var, dnszones, a link to
//! aux-fixed, the spool and mail folders, and DIR/eximdir/exim -> binary.

use crate::subst::{self, Params, PORT_RANGE};
use std::fs;
use std::io;
use std::net::TcpListener;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where a suite's data lives (Exim's layout: scripts/, confs/, stdout/ ...).
#[derive(Debug, Clone)]
pub struct Suite {
    /// "ours" or "exim": selects the skip.toml section.
    pub name: String,
    pub root: PathBuf,
}

impl Suite {
    pub fn path(&self, sub: &str) -> PathBuf {
        self.root.join(sub)
    }
}

struct PwEntry {
    name: String,
    uid: u32,
    gid: u32,
    gecos: String,
}

fn passwd_entries() -> Vec<PwEntry> {
    let text = fs::read_to_string("/etc/passwd").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 5 {
                return None;
            }
            Some(PwEntry { name: f[0].into(), uid: f[2].parse().ok()?, gid: f[3].parse().ok()?, gecos: f[4].into() })
        })
        .collect()
}

fn group_name(gid: u32) -> String {
    let text = fs::read_to_string("/etc/group").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3 && f[2].parse::<u32>().ok() == Some(gid)).then(|| f[0].to_string())
        })
        .next()
        .unwrap_or_else(|| gid.to_string())
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for its length; gethostname NUL-terminates or truncates.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether every port of [base, base+PORT_RANGE) can be bound on loopback.
fn range_free(base: u16) -> bool {
    (0..PORT_RANGE).all(|o| TcpListener::bind(("127.0.0.1", base + o)).is_ok())
}

/// Find a free port range, preferring Exim's own numbers so that outputs
/// need no port munging at all.
pub fn find_ports(preferred: u16) -> Option<u16> {
    let mut base = preferred;
    while base < 60000 {
        if range_free(base) {
            return Some(base);
        }
        base += PORT_RANGE;
    }
    None
}

#[derive(Debug, Clone)]
pub struct HostOptions {
    pub ipv4: String,
    pub ipv6: Option<String>,
}

/// The values of the standard substitutions that do not depend on the test.
/// CALLER is `caller` when given (`--caller`), else the user running the
/// runner.
pub fn base_params(binary: &Path, host: &HostOptions, port_base: u16, caller: Option<&crate::caller::Caller>) -> Params {
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = caller.map(|c| (c.uid, c.gid)).unwrap_or_else(|| unsafe { (libc::getuid(), libc::getgid()) });
    let users = passwd_entries();
    let me = users.iter().find(|e| e.uid == uid);
    let caller = me.map(|e| e.name.clone()).unwrap_or_else(|| uid.to_string());
    // A gecos equal to the login (root's "root") could not be told apart
    // from CALLER when munging, so the name then stays the literal word.
    let caller_name = match me {
        Some(e) if !e.gecos.is_empty() && e.gecos.split(',').next() != Some(e.name.as_str()) => {
            e.gecos.split(',').next().unwrap_or("").to_string()
        }
        _ => "CALLER_NAME".to_string(),
    };
    let exim = ["Debian-exim", "exim", "mail"].iter().find_map(|n| users.iter().find(|e| e.name == *n));
    let (exim_user, exim_uid, exim_gid) = exim.map(|e| (e.name.clone(), e.uid, e.gid)).unwrap_or(("exim".into(), 93, 93));
    Params {
        dir: String::new(),
        exim_path: String::new(),
        caller,
        caller_uid: uid,
        caller_gid: gid,
        caller_group: group_name(gid),
        caller_name,
        exim_group: group_name(exim_gid),
        exim_user,
        exim_uid,
        exim_gid,
        mail_group: if group_name(8) == "mail" { "mail".into() } else { group_name(exim_gid) },
        hostname: host_name(),
        ipv4: host.ipv4.clone(),
        ipv6: host.ipv6.clone().unwrap_or_else(|| "<no IPv6 address found>".into()),
        port_base,
        v4net: "224".into(),
        v6net: "ff00".into(),
        testnum: String::new(),
    }
    .with_binary(binary)
}

impl Params {
    fn with_binary(self, _binary: &Path) -> Params {
        self
    }
}

fn substitute_file(p: &Params, from: &Path, to: &Path) -> io::Result<()> {
    let bytes = fs::read(from)?;
    let text = crate::script::decode(&bytes);
    let out = subst::substitute(p, &text);
    fs::write(to, crate::script::encode(&out))
}

fn substitute_tree(p: &Params, from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            substitute_tree(p, &entry.path(), &target)?;
        } else {
            substitute_file(p, &entry.path(), &target)?;
            let mode = entry.metadata()?.permissions().mode() & 0o7777;
            fs::set_permissions(&target, fs::Permissions::from_mode(mode))?;
        }
    }
    Ok(())
}

/// The name a zone source gets in DIR/dnszones: V4NET/V6NET in file names
/// are replaced like in the contents (V6NET split and inverted, as fakens
/// expects for reverse zones).
fn zone_name(p: &Params, name: &str) -> String {
    let inv6: String = {
        let digits: Vec<char> = p.v6net.chars().collect();
        digits.iter().rev().map(|c| c.to_string()).collect::<Vec<_>>().join(".")
    };
    name.replace("V4NET", &p.v4net).replace("V6NET", &inv6)
}

/// Create DIR afresh for one test.
/// Main options whose default differs in Exim's test-harness mode, set to
/// the harness value at the top of DIR/test-config when the test's conf
/// leaves them alone and the binary has the option (its _OPT_MAIN_ macro).
const HARNESS_DEFAULTS: &[(&str, &str)] = &[
    // Exim's harness mode advertises SMTPUTF8 only where a test asks for it.
    ("smtputf8_advertise_hosts", "feature _opt_main_smtputf8_advertise_hosts"),
];

pub fn prepare(p: &Params, suite: &Suite, testnum: &str, binary: &Path, features: &crate::requires::Features) -> io::Result<()> {
    let dir = Path::new(&p.dir);
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)?;
    // Exim, running as its own user, must reach the spool and mail folders.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    for sub in ["spool", "spool/log", "test-mail"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    // The spool belongs to Exim's user, as when Exim creates it itself.
    for sub in ["spool", "spool/log"] {
        let path = std::ffi::CString::new(dir.join(sub).as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
        // SAFETY: path is a valid NUL-terminated string.
        if unsafe { libc::chown(path.as_ptr(), p.exim_uid, p.exim_gid) } != 0 {
            let e = io::Error::last_os_error();
            // Not root: Exim then runs as the caller and needs no chown.
            if e.raw_os_error() != Some(libc::EPERM) {
                return Err(e);
            }
        }
        // A non-root caller (in the Exim group) must be able to write
        // there when Exim gives up privilege for -D or an untrusted -C.
        fs::set_permissions(dir.join(sub), fs::Permissions::from_mode(if p.caller_uid == 0 { 0o750 } else { 0o770 }))?;
    }
    fs::set_permissions(dir.join("test-mail"), fs::Permissions::from_mode(0o777))?;
    fs::create_dir_all(dir.join("eximdir"))?;
    symlink(binary, dir.join("eximdir/exim"))?;
    let fixed = suite.path("aux-fixed");
    if fixed.is_dir() {
        symlink(fixed.canonicalize()?, dir.join("aux-fixed"))?;
    }
    let var = suite.path("aux-var-src");
    if var.is_dir() {
        substitute_tree(p, &var, &dir.join("aux-var"))?;
    }
    let zones = suite.path("dnszones-src");
    fs::create_dir_all(dir.join("dnszones"))?;
    if zones.is_dir() {
        for entry in fs::read_dir(&zones)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let name = zone_name(p, &entry.file_name().to_string_lossy());
                substitute_file(p, &entry.path(), &dir.join("dnszones").join(name))?;
            }
        }
    }
    let conf = suite.path("confs").join(testnum);
    let text = if conf.is_file() { crate::script::decode(&fs::read(&conf)?) } else { String::new() };
    let mut text = subst::substitute(p, &text);
    for (option, feature) in HARNESS_DEFAULTS {
        // The setting takes the place of the conf's first line when that
        // is a comment, so that line numbers (in errors and debug output)
        // stay those of the conf.
        // Only Exim's own suite was recorded from a test-harness build; our
        // suite is recorded through this runner from the binary as it is.
        if suite.name == "exim" && !text.contains(option) && features.has(feature) && text.starts_with('#') {
            let rest = text.split_once('\n').map(|(_, r)| r).unwrap_or("");
            text = format!("{} =\n{}", option, rest);
        }
    }
    fs::write(dir.join("test-config"), crate::script::encode(&text))?;
    Ok(())
}
