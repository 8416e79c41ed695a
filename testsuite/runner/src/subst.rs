//! The "standard substitutions" of Exim's testsuite (test/README): names
//! such as DIR, CALLER, HOSTNAME, PORT_D in confs, scripts, aux-var-src and
//! dnszones-src are replaced by the values of this run.

use regex::{Captures, Regex};
use std::sync::OnceLock;

/// Port numbers: Exim's runtest hard-wires 1223..; we hunt for a free range
/// and the munger maps the real numbers back to these canonical ones.
pub const CANONICAL_PORT_BASE: u16 = 1223;

#[derive(Debug, Clone)]
pub struct Params {
    pub dir: String,
    pub exim_path: String,
    pub caller: String,
    pub caller_uid: u32,
    pub caller_gid: u32,
    pub caller_group: String,
    pub caller_name: String,
    pub exim_user: String,
    pub exim_group: String,
    pub exim_uid: u32,
    pub exim_gid: u32,
    /// The system's "mail" group (runtest's MAILGROUP).
    pub mail_group: String,
    pub hostname: String,
    pub ipv4: String,
    pub ipv6: String,
    /// First port of the range: PORT_N is base, PORT_S base+1, PORT_D base+2,
    /// PORT_D2..PORT_D6 follow, PORT_DYNAMIC is base+9.
    pub port_base: u16,
    pub v4net: String,
    pub v6net: String,
    pub testnum: String,
}

impl Params {
    pub fn port(&self, name: &str) -> Option<u16> {
        port_offset(name).map(|o| self.port_base + o)
    }
}

/// Offset of each port name from the base of the range (Exim's fixed
/// numbers are PORT_N 1223, PORT_S 1224, PORT_D 1225, PORT_D2 1226, ...).
pub fn port_offset(name: &str) -> Option<u16> {
    Some(match name {
        "PORT_N" => 0,
        "PORT_S" => 1,
        "PORT_D" => 2,
        "PORT_D2" => 3,
        "PORT_D3" => 4,
        "PORT_D4" => 5,
        "PORT_D5" => 6,
        "PORT_D6" => 7,
        "PORT_DYNAMIC" => 9,
        _ => return None,
    })
}

/// Number of ports reserved for one run.
pub const PORT_RANGE: u16 = 10;

fn word_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\b(CALLER_UID|CALLER_GID|CALLER_NAME|CALLERGROUP|CALLER|EXIMGROUP|EXIMUSER|MAILGROUP|EXIM_UID|EXIM_GID|EXIM_PATH|HOSTIPV4|HOSTIPV6|HOSTNAME|PORT_DYNAMIC|PORT_D[2-6]?|PORT_N|PORT_S|TESTNUM)\b",
        )
        .unwrap()
    })
}

fn net_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Like runtest: V4NET may follow a word character only through "_".
    RE.get_or_init(|| Regex::new(r"(^|[^A-Za-z0-9]|_)(V4NET|V6NET)([._:])").unwrap())
}

fn dir_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Like runtest, only "DIR/" is replaced: prose such as "DIR is" stays.
    RE.get_or_init(|| Regex::new(r"\bDIR(/)").unwrap())
}

/// Apply the standard substitutions to one text.
pub fn substitute(p: &Params, text: &str) -> String {
    let t = word_re().replace_all(text, |c: &Captures| -> String {
        let name = &c[1];
        match name {
            "CALLER" => p.caller.clone(),
            "CALLER_UID" => p.caller_uid.to_string(),
            "CALLER_GID" => p.caller_gid.to_string(),
            "CALLER_NAME" => p.caller_name.clone(),
            "CALLERGROUP" => p.caller_group.clone(),
            "EXIMUSER" => p.exim_user.clone(),
            "EXIMGROUP" => p.exim_group.clone(),
            "MAILGROUP" => p.mail_group.clone(),
            "EXIM_UID" => p.exim_uid.to_string(),
            "EXIM_GID" => p.exim_gid.to_string(),
            "EXIM_PATH" => p.exim_path.clone(),
            "HOSTIPV4" => p.ipv4.clone(),
            "HOSTIPV6" => p.ipv6.clone(),
            "HOSTNAME" => p.hostname.clone(),
            "TESTNUM" => p.testnum.clone(),
            port => p.port(port).map(|n| n.to_string()).unwrap_or_else(|| port.to_string()),
        }
    });
    let t = net_re().replace_all(&t, |c: &Captures| {
        let net = if &c[2] == "V4NET" { &p.v4net } else { &p.v6net };
        format!("{}{}{}", &c[1], net, &c[3])
    });
    dir_re().replace_all(&t, |c: &Captures| format!("{}{}", p.dir, &c[1])).into_owned()
}

#[cfg(test)]
pub fn sample() -> Params {
    Params {
        dir: "/t/run".into(),
        exim_path: "/t/run/eximdir/exim".into(),
        caller: "root".into(),
        caller_uid: 0,
        caller_gid: 0,
        caller_group: "root".into(),
        caller_name: "CALLER_NAME".into(),
        exim_user: "Debian-exim".into(),
        exim_group: "Debian-exim".into(),
        exim_uid: 102,
        exim_gid: 105,
        mail_group: "mail".into(),
        hostname: "vm".into(),
        ipv4: "127.0.0.2".into(),
        ipv6: "::1".into(),
        port_base: 31223,
        v4net: "224".into(),
        v6net: "ff00".into(),
        testnum: "0005".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ports() {
        let p = sample();
        assert_eq!(substitute(&p, "rcpt to:CALLER@HOSTNAME"), "rcpt to:root@vm");
        assert_eq!(substitute(&p, "uid=CALLER_UID PORT_D PORT_D2 PORT_S PORT_N"), "uid=0 31225 31226 31224 31223");
        assert_eq!(substitute(&p, "MY_CALLER CALLERX"), "MY_CALLER CALLERX");
    }

    #[test]
    fn dir_and_nets() {
        let p = sample();
        assert_eq!(substitute(&p, ".include DIR/aux-var/x"), ".include /t/run/aux-var/x");
        assert_eq!(substitute(&p, "-bh V4NET.0.0.1 V6NET:1::2"), "-bh 224.0.0.1 ff00:1::2");
        assert_eq!(substitute(&p, "DIRECT DIR is"), "DIRECT DIR is");
        assert_eq!(substitute(&p, "TESTNUM.ret"), "0005.ret");
    }
}
