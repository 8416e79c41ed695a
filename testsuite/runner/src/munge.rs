//! Munging: before comparison, parts of the output that change from run to
//! run (dates, message ids, pids, sizes, the work directory, host name,
//! version, ports) are replaced by the fixed values found in the expected
//! files of Exim's testsuite, as Exim's runtest does.

use crate::subst::{Params, CANONICAL_PORT_BASE, PORT_RANGE};
use regex::{Captures, Regex};
use std::collections::HashMap;
use std::sync::OnceLock;

/// State shared by all the files of one test: message ids map to the same
/// fixed id wherever they appear, in order of first appearance.
pub struct Munger {
    p: Params,
    version: String,
    ids: HashMap<String, String>,
    next_id: String,
    /// Ports shown as `[ip]:port`, numbered from 1111 in order of first
    /// appearance.
    ports_seen: HashMap<String, u32>,
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        fn $name() -> &'static Regex {
            static RE: OnceLock<Regex> = OnceLock::new();
            RE.get_or_init(|| Regex::new($pat).unwrap())
        }
    };
}

re!(rfc2822_re, r"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [-+]\d{4}\b");
re!(logtime_re, r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})?(?: [-+]\d{4})?");
re!(mbox_from_re, r"(?m)^From (\S+) (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}");
re!(msgid_re, r"\b(E?)([0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2})\b");
re!(pid_re, r"\bpid=\d+");
re!(size_re, r" S=\d+\b");
re!(spool_space_re, r"\bspace=\d+ inodes=[+-]?\d+");
re!(exim_version_line_re, r"Exim version \S+ (?:#\d+ )?built \S+ \S+");
re!(v4net_re, r"(^|[^\d.])224\.(\d)");
re!(v4net_underscore_re, r"_224_(\d)");
re!(v6net_re, r"(?i)(^|[^0-9a-f:])ff00:");
re!(prvs_re, r"\bprvs=[0-9a-f]{10}=");
re!(duration_re, r"\b(D|QT)=(\d+)(\.\d+)?s\b");
re!(spool_time_re, r"(?m)^\d{9,10} 0$");
re!(usec_re, r"-received_time_usec \.\d{6}");
re!(complete_re, r"-received_time_complete \d+\.\d{6}");
re!(daemon_re, r"(listening for SMTPS? on )(.*)");
re!(daemon_port_re, r"(port |\]:)(\d+)");
re!(debug_version_re, r"(?m)^Exim version \S+ uid=\d+ gid=\d+ pid=\d+ D=[0-9a-fx]+$");
re!(queue_size_re, r"(?m)^(\s*\d+[smhdw]\s+)\d[\d.]*[KM]?( +[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}\b)");
re!(gethostbyname_re, r"(?m)^(\s*>>> |\s*)(?:gethostbyname2?|getipnodebyname) looked up these IP addresses:");
re!(bytes_read_re, r"\b\d+ bytes read from ");
re!(errno_re, r"\berrno = \d+\b");
re!(changed_uid_re, r"(?m)^(\s+)uid=\d+ gid=");
re!(stderr_uid_re, r"\b(e?uid)=\d+\b");
re!(spool_user_re, r"(?m)^(\S+) (\d+) (\d+)$");
re!(received_len_re, r"(?m)^\d{3}([PFS*]) ");
re!(spool_addr_re, r"(?m)^-(host|interface)_address (\[[^\]]+\]):\d+$");
re!(tls_cipher_re, r"\bX=TLS1\.[0-3]:([A-Za-z0-9_-]+):\d+");
re!(tls_accept_re, r"(TLS error on connection from [^\n]*?)\((?:gnutls_handshake|SSL_accept)\)");
re!(tls_setup_re, r"(TLS error on connection from [^\n]*? \(cert/key setup: cert=[^\n]*? key=[^\n]*?\): )[^\n]*");
re!(tls_connect_re, r"(TLS session: )\((?:gnutls_handshake|SSL_connect)\)");
re!(uid_re, r"\b(uid|gid|euid|egid)=(\d+)\b");
re!(dumpdb_times_re, r"(?m)^(\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d)\s+(\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d)\s+(\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d)( \*)?[ \t]*$");
re!(dumpdb_errno_re, r"(?m)^(  \S+) -?\d+ ((?:65|321) Connection )");
re!(dumpdb_date_re, r"\b\d\d-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4} \d\d:\d\d:\d\d\b");
re!(exim_lock_hitch_re, r"(?m)^(\s+hitchname = \S+\.lock\.)\S+\.[0-9a-f]+\.[0-9a-f]+$");
re!(exim_lock_shell_re, r"(?m)^(exim_lock: locking \S+ succeeded: running )\S+( \.\.\.)$");

/// Seconds of a "dd-Mon-yyyy hh:mm:ss" time (exim_dumpdb's print_time).
fn dumpdb_seconds(t: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (date, time) = t.split_once(' ')?;
    let mut d = date.split('-');
    let (day, mon, year): (i64, &str, i64) = (d.next()?.parse().ok()?, d.next()?, d.next()?.parse().ok()?);
    let m = MONTHS.iter().position(|x| *x == mon)? as i64 + 1;
    let mut hms = time.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, se) = (hms.next()??, hms.next()??, hms.next()??);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + se)
}
re!(bracket_port_re, r"(I=|PRX=|-> |on |)\[([0-9A-Za-z.:]+)\]:(\d+)\b");

/// Perl's magic string increment, which runtest uses for message ids:
/// "aX" -> "aY", "aZ" -> "bA", "zz" -> "aaa".
pub fn perl_increment(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let mut i = chars.len();
    loop {
        if i == 0 {
            let first = match chars.first() {
                Some(c) if c.is_ascii_digit() => '1',
                Some(c) if c.is_ascii_uppercase() => 'A',
                _ => 'a',
            };
            chars.insert(0, first);
            break;
        }
        i -= 1;
        let (next, carry) = match chars[i] {
            'z' => ('a', true),
            'Z' => ('A', true),
            '9' => ('0', true),
            c => ((c as u8 + 1) as char, false),
        };
        chars[i] = next;
        if !carry {
            break;
        }
    }
    chars.into_iter().collect()
}

/// Replace whole-word occurrences of `word` (not part of a longer name made
/// of letters, digits, '-', '_' or '.'), for values like host names that are
/// too short to replace blindly.
pub fn replace_word(text: &str, word: &str, by: &str) -> String {
    if word.is_empty() {
        return text.to_string();
    }
    let is_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(word) {
        let mut before = rest[..pos].chars().next_back();
        // "250-host": the dash of a multiline SMTP reply is no part of a name.
        if before == Some('-') && rest[..pos].chars().rev().nth(1).map(|c| c.is_ascii_digit()).unwrap_or(false) {
            before = Some(' ');
        }
        let after = rest[pos + word.len()..].chars().next();
        let dot_before = before == Some('.') && rest[..pos].chars().rev().nth(1).map(is_name).unwrap_or(false);
        let dot_after = after == Some('.') && rest[pos + word.len() + 1..].chars().next().map(is_name).unwrap_or(false);
        let ok = !before.map(is_name).unwrap_or(false) && !after.map(is_name).unwrap_or(false) && !dot_before && !dot_after;
        out.push_str(&rest[..pos]);
        out.push_str(if ok { by } else { word });
        rest = &rest[pos + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Replace an IP address that is not part of a longer address.
pub fn replace_ip(text: &str, ip: &str, by: &str) -> String {
    if ip.is_empty() {
        return text.to_string();
    }
    let is_ip = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(ip) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + ip.len()..].chars().next();
        let ok = !before.map(is_ip).unwrap_or(false) && !after.map(|c| c.is_ascii_hexdigit() || c == ':' || c == '.' && rest[pos + ip.len() + 1..].starts_with(|d: char| d.is_ascii_digit())).unwrap_or(false);
        out.push_str(&rest[..pos]);
        out.push_str(if ok { by } else { ip });
        rest = &rest[pos + ip.len()..];
    }
    out.push_str(rest);
    out
}

impl Munger {
    pub fn new(p: &Params, version: &str) -> Munger {
        Munger { p: p.clone(), version: version.to_string(), ids: HashMap::new(), next_id: "aX".into(), ports_seen: HashMap::new() }
    }

    pub fn dir(&self, t: &str) -> String {
        if self.p.dir.is_empty() {
            return t.to_string();
        }
        t.replace(&self.p.dir, "TESTSUITE")
    }

    /// Ports of our range back to Exim's fixed numbers (1223...).
    pub fn ports(&self, t: &str) -> String {
        if self.p.port_base == CANONICAL_PORT_BASE {
            return t.to_string();
        }
        let mut out = t.to_string();
        for o in 0..PORT_RANGE {
            out = replace_word(&out, &(self.p.port_base + o).to_string(), &(CANONICAL_PORT_BASE + o).to_string());
        }
        out
    }

    pub fn version(&self, t: &str) -> String {
        let t = exim_version_line_re().replace_all(t, "Exim version x.yz ....");
        if self.version.is_empty() {
            return t.into_owned();
        }
        replace_ip(&t, &self.version, "x.yz")
    }

    pub fn dates(&self, t: &str) -> String {
        let t = rfc2822_re().replace_all(t, |c: &Captures| {
            if c[0].contains(',') { "Tue, 2 Mar 1999 09:44:33 +0000" } else { "2 Mar 1999 09:44:33 +0000" }.to_string()
        });
        let t = logtime_re().replace_all(&t, |c: &Captures| {
            if c.get(1).is_some() { "2017-07-30 18:51:05.712" } else { "1999-03-02 09:44:33" }.to_string()
        });
        mbox_from_re().replace_all(&t, "From $1 Tue Mar 02 09:44:33 1999").into_owned()
    }

    pub fn message_ids(&mut self, t: &str) -> String {
        let ids = &mut self.ids;
        let next = &mut self.next_id;
        msgid_re()
            .replace_all(t, |c: &Captures| {
                let id = c[2].to_string();
                let fixed = ids.entry(id).or_insert_with(|| {
                    let v = format!("10Hm{}-0005vi-00", next);
                    *next = perl_increment(next);
                    v
                });
                format!("{}{}", &c[1], fixed)
            })
            .into_owned()
    }

    /// Values computed from secrets or times: SRS/PRVS hashes, durations.
    pub fn hashes(&self, t: &str) -> String {
        let t = prvs_re().replace_all(t, "prvs=xxxxxxxxxx=");
        duration_re()
            .replace_all(&t, |c: &Captures| format!("{}={}s", &c[1], if c.get(3).is_some() { "q.qqq" } else { "qq" }))
            .into_owned()
    }

    /// The daemon's "listening for SMTP on port 1225 (IPv6 and IPv4)": the
    /// port names, and no "(IPv6 and IPv4)" (the harness hosts listen on
    /// IPv4 only).
    pub fn daemon_ports(&self, t: &str) -> String {
        daemon_re()
            .replace_all(t, |c: &Captures| {
                let rest = c[2].replace(" (IPv6 and IPv4)", "");
                let rest = daemon_port_re().replace_all(&rest, |p: &Captures| {
                    let n: u16 = p[2].parse().unwrap_or(0);
                    let name = n
                        .checked_sub(CANONICAL_PORT_BASE)
                        .and_then(|o| ["PORT_N", "PORT_S", "PORT_D", "PORT_D2", "PORT_D3", "PORT_D4", "PORT_D5", "PORT_D6"].get(o as usize));
                    match name {
                        Some(name) => format!("{}{}", &p[1], name),
                        None => p[0].to_string(),
                    }
                });
                format!("{}{}", &c[1], rest)
            })
            .into_owned()
    }

    /// The head of debug output: the version line, and the build details
    /// (features, library versions, build settings) that follow it, up to
    /// "configuration file is", are what `-bV` shows: the harness output
    /// has just "Exim version x.yz ....". "log selectors =" goes too.
    pub fn debug_header(&self, t: &str) -> String {
        if !debug_version_re().is_match(t) && !t.contains("log selectors =") && !t.contains(" in keep_environment? ") {
            return t.to_string();
        }
        let mut out = String::with_capacity(t.len());
        let mut in_header = false;
        for line in t.split_inclusive('\n') {
            let bare = line.trim_end_matches('\n');
            if debug_version_re().is_match(bare) {
                out.push_str("Exim version x.yz ....\n");
                in_header = true;
                continue;
            }
            if in_header {
                const HEADER: &[&str] = &[
                    "Support for:", "Lookups", "Total ", "Authenticators:", "Routers:", "Transports:", "Malware:",
                    "Fixed never_users:", "Configure owner:", "Size of off_t:", "Compiler:", "Library version:",
                    "WHITELIST_D_MACROS:", "TRUSTED_CONFIG_LIST:", "Berkeley DB:", " ",
                ];
                let header_line = HEADER.iter().any(|h| bare.starts_with(h));
                if bare.starts_with("configuration file is") || !header_line {
                    in_header = false;
                } else {
                    continue;
                }
            }
            // Which environment variables Exim checks depends on the
            // environment the runner inherited.
            if bare.starts_with("log selectors =") || bare.contains(" in keep_environment? ") {
                continue;
            }
            out.push_str(line);
        }
        out
    }

    /// Debug details that vary with the system: sizes of files read,
    /// errno values, the uid after "changed uid/gid".
    pub fn debug_details(&self, t: &str) -> String {
        let t = bytes_read_re().replace_all(t, "ssss bytes read from ");
        let t = errno_re().replace_all(&t, "errno = EEE");
        changed_uid_re().replace_all(&t, "${1}uid=uuuu gid=").into_owned()
    }

    /// The name of the resolver call in debug output varies with the
    /// platform: runtest writes it as one pattern.
    pub fn resolver_calls(&self, t: &str) -> String {
        gethostbyname_re().replace_all(t, "${1}get[host|ipnode]byname[2] looked up these IP addresses:").into_owned()
    }

    /// Message sizes in -bp queue listings.
    pub fn queue_sizes(&self, t: &str) -> String {
        queue_size_re().replace_all(t, "${1}sss${2}").into_owned()
    }

    /// TLS version and cipher in log lines vary with the library: runtest
    /// keeps only the kind of key (RSA, ECDSA, PSK).
    pub fn tls_ciphers(&self, t: &str) -> String {
        tls_cipher_re()
            .replace_all(t, |c: &Captures| {
                let suite = c[1].to_ascii_uppercase();
                let kind = if suite.contains("ECDSA") {
                    "ECDSA"
                } else if suite.contains("RSA") {
                    "RSA"
                } else if suite.contains("PSK") {
                    "PSK"
                } else {
                    ""
                };
                format!("X=TLS1.x:ke-{}-AES256-SHAnnn:xxx", kind)
            })
            .into_owned()
    }

    /// TLS library function names in error texts, as runtest writes them;
    /// and the library's reason for a certificate or key it could not load
    /// (GnuTLS's "Error while reading file.", rustls's own texts).
    pub fn tls_functions(&self, t: &str) -> String {
        let t = tls_setup_re().replace_all(t, "${1}(tls lib reason)");
        let t = tls_accept_re().replace_all(&t, "${1}(tls lib accept fn)");
        tls_connect_re().replace_all(&t, "${1}(tls lib connect fn)").into_owned()
    }

    /// Times in spool header files (-Mvh output).
    pub fn spool_times(&self, t: &str) -> String {
        let p = &self.p;
        // The owner line of a spool header: "user uid gid".
        let t = spool_user_re().replace_all(t, |c: &Captures| {
            let (u, g): (u32, u32) = (c[2].parse().unwrap_or(u32::MAX), c[3].parse().unwrap_or(u32::MAX));
            if (c[1] == *p.exim_user || &c[1] == "EXIMUSER") && u == p.exim_uid && g == p.exim_gid {
                format!("{} EXIM_UID EXIM_GID", &c[1])
            } else if (c[1] == *p.caller || &c[1] == "CALLER") && u == p.caller_uid && g == p.caller_gid && u != 0 {
                format!("{} CALLER_UID CALLER_GID", &c[1])
            } else {
                c[0].to_string()
            }
        });
        // Ports of the connection in a spool header (runtest's values).
        let t = spool_addr_re().replace_all(&t, |c: &Captures| {
            format!("-{}_address {}:{}", &c[1], &c[2], if &c[1] == "host" { "9999" } else { "1112" })
        });
        // Lengths of the header lines that vary with names and times
        // (Received:, From:, Sender:, and deleted ones), as runtest does.
        let t = received_len_re().replace_all(&t, "ddd${1} ");
        let t = spool_time_re().replace_all(&t, "ddddddddd 0");
        let t = usec_re().replace_all(&t, "-received_time_usec .uuuuuu");
        complete_re().replace_all(&t, "-received_time_complete tttt.uuuuuu").into_owned()
    }

    /// Ports after a bracketed address (`+incoming_port`, `$sender_host_port`
    /// and the like vary from run to run): as in Exim's expected files, a
    /// test's own port after `I=`, `PRX=`, `-> `, `on ` or in a delivery
    /// line (one with ` T=`) becomes its name (PORT_D...), where other ports
    /// stay (`H=ten-1.test.ex [V4NET.0.0.1]:25`); everywhere else each
    /// distinct port becomes 1111, 1112... in order of first appearance
    /// (the daemon's own port too: `local [127.0.0.1]:1111` in 4030). Spool
    /// header lines have their own rule.
    pub fn bracket_ports(&mut self, t: &str) -> String {
        if !t.contains("]:") {
            return t.to_string();
        }
        const NAMES: [&str; 8] = ["PORT_N", "PORT_S", "PORT_D", "PORT_D2", "PORT_D3", "PORT_D4", "PORT_D5", "PORT_D6"];
        let mut out = String::with_capacity(t.len());
        for line in t.split_inclusive('\n') {
            if line.starts_with("-host_address ") || line.starts_with("-interface_address ") {
                out.push_str(line);
                continue;
            }
            let mut last = 0;
            for c in bracket_port_re().captures_iter(line) {
                let whole = c.get(0).unwrap();
                out.push_str(&line[last..whole.start()]);
                last = whole.end();
                let port = &c[3];
                let named = !c[1].is_empty() || line[..whole.start()].contains(" T=");
                let value = if named {
                    let name = port.parse::<u16>().ok().and_then(|n| n.checked_sub(CANONICAL_PORT_BASE)).and_then(|o| NAMES.get(o as usize));
                    name.map(|n| n.to_string()).unwrap_or_else(|| port.to_string())
                } else {
                    let next = 1111 + self.ports_seen.len() as u32;
                    self.ports_seen.entry(port.to_string()).or_insert(next).to_string()
                };
                out.push_str(&format!("{}[{}]:{}", &c[1], &c[2], value));
            }
            out.push_str(&line[last..]);
        }
        out
    }

    pub fn pids(&self, t: &str) -> String {
        pid_re().replace_all(t, "pid=pppp").into_owned()
    }

    /// Message sizes, and the free space in "spool directory space check
    /// failed" lines (runtest's rule).
    pub fn sizes(&self, t: &str) -> String {
        let t = size_re().replace_all(t, " S=sss");
        spool_space_re().replace_all(&t, "space=xxxxx inodes=xxxxx").into_owned()
    }

    pub fn hosts(&self, t: &str) -> String {
        let mut out = replace_word(t, &self.p.hostname, "the.local.host.name");
        if self.p.ipv4 != "127.0.0.1" {
            out = replace_ip(&out, &self.p.ipv4, "ip4.ip4.ip4.ip4");
        }
        if self.p.ipv6.contains(':') && self.p.ipv6 != "::1" {
            out = replace_ip(&out, &self.p.ipv6, "ip6:ip6:ip6:ip6:ip6:ip6:ip6:ip6");
        }
        out
    }

    /// The test networks back to their names (runtest's V4NET, V6NET).
    pub fn nets(&self, t: &str) -> String {
        let t = v4net_re().replace_all(t, |c: &Captures| format!("{}V4NET.{}", &c[1], &c[2]));
        let t = v4net_re().replace_all(&t, |c: &Captures| format!("{}V4NET.{}", &c[1], &c[2]));
        // An address turned into a name with `_` (Exim's 0308 ACL names).
        let t = v4net_underscore_re().replace_all(&t, "_V4NET_$1");
        v6net_re().replace_all(&t, "${1}V6NET:").into_owned()
    }

    /// Users and their ids. Small ids (root's 0) are only replaced in
    /// "uid=" style contexts, where they cannot be some other number.
    pub fn users(&self, t: &str) -> String {
        let p = &self.p;
        let t = uid_re().replace_all(t, |c: &Captures| {
            let n: u32 = c[2].parse().unwrap_or(u32::MAX);
            let is_gid = c[1].ends_with("gid");
            let name = if !is_gid && n == p.caller_uid {
                "CALLER_UID"
            } else if is_gid && n == p.caller_gid {
                "CALLER_GID"
            } else if !is_gid && n == p.exim_uid {
                "EXIM_UID"
            } else if is_gid && n == p.exim_gid {
                "EXIM_GID"
            } else {
                return c[0].to_string();
            };
            format!("{}={}", &c[1], name)
        });
        let mut out = replace_word(&t, &p.exim_user, "EXIMUSER");
        if p.caller_uid >= 1000 {
            out = replace_word(&out, &p.caller_uid.to_string(), "CALLER_UID");
        }
        if p.caller_name != "CALLER_NAME" {
            out = out.replace(&p.caller_name, "CALLER_NAME");
        }
        if p.caller_uid == 0 {
            // Exim's own "root" (never_users) is not the caller's name.
            return out
                .split_inclusive('\n')
                .map(|l| if l.starts_with("never_users = ") { l.to_string() } else { replace_word(l, &p.caller, "CALLER") })
                .collect();
        }
        replace_word(&out, &p.caller, "CALLER")
    }

    /// Output of `dump` (exim_dumpdb) and of Exim's utilities: a retry
    /// record's three times become "first failed = time last try = time2
    /// next try = time2 + N" (N the retry interval), a connection error's
    /// errno (OS-specific) `dd`, any other time "07-Mar-2000 12:21:52";
    /// exim_lock's hitching-post name and shell are fixed texts.
    pub fn dumpdb(&self, t: &str) -> String {
        let t = dumpdb_times_re().replace_all(t, |c: &Captures| {
            let inc = dumpdb_seconds(&c[3]).zip(dumpdb_seconds(&c[2])).map(|(a, b)| a - b).unwrap_or(0);
            format!("first failed = time last try = time2 next try = time2 + {}{}", inc, c.get(4).map(|m| m.as_str()).unwrap_or(""))
        });
        let t = dumpdb_errno_re().replace_all(&t, "$1 dd $2");
        let t = dumpdb_date_re().replace_all(&t, "07-Mar-2000 12:21:52");
        let t = exim_lock_hitch_re().replace_all(&t, "${1}test.ex.dddddddd.pppppppp");
        exim_lock_shell_re().replace_all(&t, "${1}ENV_SHELL$2").into_owned()
    }

    /// All the standard rules, in runtest's order (the directory first, as
    /// it may contain anything; message ids before anything that could
    /// touch their digits).
    pub fn munge(&mut self, t: &str) -> String {
        let t = self.dir(t);
        let t = self.debug_header(&t);
        let t = self.queue_sizes(&t);
        let t = self.resolver_calls(&t);
        let t = self.debug_details(&t);
        let t = self.message_ids(&t);
        let t = self.ports(&t);
        let t = self.version(&t);
        let t = self.daemon_ports(&t);
        let t = self.bracket_ports(&t);
        let t = self.tls_ciphers(&t);
        let t = self.tls_functions(&t);
        let t = self.dumpdb(&t);
        let t = self.dates(&t);
        let t = self.pids(&t);
        let t = self.sizes(&t);
        let t = self.hashes(&t);
        let t = self.spool_times(&t);
        let t = self.hosts(&t);
        let t = self.nets(&t);
        self.users(&t)
    }

    /// Debug output shows uids as "uuuu" (runtest), wherever they appear.
    pub fn munge_stderr(&mut self, t: &str) -> String {
        let t = stderr_uid_re().replace_all(t, "${1}=uuuu");
        let t = self.loopback_v6(&t);
        self.munge(&t)
    }

    /// Whether a host lookup gives localhost's ::1 depends on the system:
    /// runtest drops `name=localhost address=::1` and announces it before
    /// every list of looked-up addresses, whether or not ::1 is in it.
    pub fn loopback_v6(&self, t: &str) -> String {
        if !t.contains("looked up these IP addresses") && !t.contains("address=::1") {
            return t.to_string();
        }
        let mut out = String::with_capacity(t.len() + 64);
        for line in t.split_inclusive('\n') {
            if line.contains("looked up these IP addresses") {
                out.push_str("MUNGED: ::1 will be omitted in what follows\n");
            } else if line.contains("name=localhost address=::1") {
                continue;
            }
            out.push_str(line);
        }
        out
    }
}

/// Lines that only some builds print (optional features the test
/// harness build of Exim leaves out or disables): dropped from outputs.
pub fn drop_build_lines(t: &str, conf: &str) -> String {
    // A conf (not the runner's harness default, which is empty) that sets
    // smtputf8_advertise_hosts to something.
    let advertises_utf8 = conf.lines().any(|l| {
        l.trim_start().starts_with("smtputf8_advertise_hosts") && l.split_once('=').map(|(_, v)| !v.trim().is_empty()).unwrap_or(false)
    });
    // The suite's caller is trusted only where the conf says so; root
    // always is (debug output says "trusted user").
    let caller_trusted = conf.contains("trusted_users") || conf.contains("trusted_groups");
    let mut kept: Vec<&str> = Vec::new();
    for line in t.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']);
        // A reply line the client printed goes with the "???" or "????"
        // line that asked for it.
        if !advertises_utf8 && l == "<<< 250-SMTPUTF8" {
            if kept.last().map(|p| p.starts_with("???")).unwrap_or(false) {
                kept.pop();
            }
            continue;
        }
        kept.push(line);
    }
    kept.into_iter()
        .filter(|l| {
            let l = l.trim_end_matches(['\n', '\r']);
            !(l.starts_with(">>> host in hosts_proxy?")
                || (!caller_trusted && l == "trusted user")
                || l == ">>> host in tls_advertise_hosts? no (end of list)"
                || l.starts_with("-tls_resumption ")
                || l.starts_with(">>> host in pipelining_connect_advertise_hosts? no (end of list)")
                || (!advertises_utf8
                    && (l == "250-SMTPUTF8" || l == "<<< 250-SMTPUTF8" || l.starts_with(">>> host in smtputf8_advertise_hosts?"))))
        })
        .collect()
}

/// Lines Exim's own expected files never have because the test-harness
/// build lacks the feature (PIPE_CONNECT: no `pipelining_connect_advertise_hosts`
/// check, which Debian's Exim and rexim trace under -bh): dropped from the
/// outputs of Exim's suite only, as runtest does.
pub fn drop_harness_build_lines(t: &str) -> String {
    t.split_inclusive('\n').filter(|l| !l.starts_with(">>> host in pipelining_connect_advertise_hosts?")).collect()
}

/// `sortlog`: sort each run of contiguous delivery lines (=> -> *>) of a log.
pub fn sort_log(text: &str) -> String {
    let is_delivery = |l: &str| [" => ", " -> ", " *> "].iter().any(|m| l.contains(m));
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for line in text.split_inclusive('\n') {
        if is_delivery(line) {
            run.push(line);
        } else {
            run.sort();
            out.extend(run.drain(..).map(String::from));
            out.push(line.to_string());
        }
    }
    run.sort();
    out.extend(run.drain(..).map(String::from));
    out.concat()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dumpdb_output() {
        let m = Munger::new(&crate::subst::sample(), "4.96");
        let raw = "  T:h:127.0.0.1:1225 111 65 Connection refused\n22-Nov-2026 07:01:02  22-Nov-2026 07:01:03  22-Nov-2026 07:21:03 \n  T:h:1.2.3.4:25 0 65 H=x: 451 no\n22-Nov-2026 07:01:02  22-Nov-2026 07:01:02  22-Nov-2026 07:01:02 *\n127.0.0.1\t22-Nov-2026 07:01:02\n";
        assert_eq!(
            m.dumpdb(raw),
            "  T:h:127.0.0.1:1225 dd 65 Connection refused\nfirst failed = time last try = time2 next try = time2 + 1200\n  T:h:1.2.3.4:25 0 65 H=x: 451 no\nfirst failed = time last try = time2 next try = time2 + 0 *\n127.0.0.1\t07-Mar-2000 12:21:52\n"
        );
        assert_eq!(dumpdb_seconds("07-Mar-2000 12:21:52"), Some(952431712));
        assert_eq!(dumpdb_seconds("01-Jan-1970 00:00:00"), Some(0));
        assert_eq!(dumpdb_seconds("01-Foo-1970 00:00:00"), None);
    }

    #[test]
    fn exim_lock_output() {
        let m = Munger::new(&crate::subst::sample(), "4.96");
        let raw = "exim_lock: lockname =  test-mail/userx.lock\n           hitchname = test-mail/userx.lock.vm.6921a1b2.00001a2b\nexim_lock: locking test-mail/userx succeeded: running /bin/sh ...\n";
        assert_eq!(m.dumpdb(raw), "exim_lock: lockname =  test-mail/userx.lock\n           hitchname = test-mail/userx.lock.test.ex.dddddddd.pppppppp\nexim_lock: locking test-mail/userx succeeded: running ENV_SHELL ...\n");
    }

    use super::*;
    use crate::subst::sample;

    fn m() -> Munger {
        Munger::new(&sample(), "4.96")
    }

    #[test]
    fn increments_like_perl() {
        assert_eq!(perl_increment("aX"), "aY");
        assert_eq!(perl_increment("aZ"), "bA");
        assert_eq!(perl_increment("zz"), "aaa");
        assert_eq!(perl_increment("a9"), "b0");
    }

    #[test]
    fn dir_rule() {
        assert_eq!(m().dir("file /t/run/test-config"), "file TESTSUITE/test-config");
    }

    #[test]
    fn message_id_rule() {
        let mut m = m();
        let t = m.message_ids("1mPRx2-000ABC-Zz <E1mPRx2-000ABC-Zz@h> 1mPRx3-000ABC-Zz 1mPRx2-000ABC-Zz-H");
        assert_eq!(t, "10HmaX-0005vi-00 <E10HmaX-0005vi-00@h> 10HmaY-0005vi-00 10HmaX-0005vi-00-H");
    }

    #[test]
    fn date_rules() {
        let m = m();
        assert_eq!(m.dates("220 h ESMTP Sun, 22 Nov 2026 04:05:06 +0100"), "220 h ESMTP Tue, 2 Mar 1999 09:44:33 +0000");
        assert_eq!(m.dates("2026-11-22 04:05:06 x"), "1999-03-02 09:44:33 x");
        assert_eq!(m.dates("2026-11-22 04:05:06.123 x"), "2017-07-30 18:51:05.712 x");
        assert_eq!(m.dates("From a@b Sun Nov 22 04:05:06 2026\n"), "From a@b Tue Mar 02 09:44:33 1999\n");
    }

    #[test]
    fn version_rules() {
        let m = m();
        assert_eq!(m.version("Exim version 4.96 #2 built 27-May-2026 16:52:26"), "Exim version x.yz ....");
        assert_eq!(m.version("(Exim 4.96) exim_version = 4.96"), "(Exim x.yz) exim_version = x.yz");
        assert_eq!(m.version("10.4.96.1"), "10.4.96.1");
    }

    #[test]
    fn pid_and_size_rules() {
        let m = m();
        assert_eq!(m.pids("Start queue run: pid=12345"), "Start queue run: pid=pppp");
        assert_eq!(m.sizes("P=local S=345 id=x"), "P=local S=sss id=x");
        assert_eq!(m.sizes("check failed: space=42382896 inodes=-1"), "check failed: space=xxxxx inodes=xxxxx");
    }

    #[test]
    fn host_rules() {
        let m = m();
        assert_eq!(m.hosts("220 vm ESMTP [127.0.0.2] vmx.vm.com 127.0.0.20"), "220 the.local.host.name ESMTP [ip4.ip4.ip4.ip4] vmx.vm.com 127.0.0.20");
    }

    #[test]
    fn user_rules() {
        let m = m();
        assert_eq!(m.users("U=root uid=0 gid=0 uid=102 Debian-exim rootx"), "U=CALLER uid=CALLER_UID gid=CALLER_GID uid=EXIM_UID EXIMUSER rootx");
    }

    #[test]
    fn hash_and_duration_rules() {
        assert_eq!(m().hashes("prvs=0786d6aa1a=u@x D=0s D=12s D=0.012s QT=3s"), "prvs=xxxxxxxxxx=u@x D=qqs D=qqs D=q.qqqs QT=qqs");
    }

    #[test]
    fn debug_header_rule() {
        let t = "Exim version 4.96 uid=0 gid=0 pid=9783 D=4000000\nSupport for: a b\nTotal 21 lookups\nLibrary version: X: Compile: 1\n                 Runtime: 1\nTRUSTED_CONFIG_LIST: \"/x\"\nchanged uid/gid: x\n  uid=1\nconfiguration file is /c\nlog selectors = 00 11\nPATH in keep_environment? yes\nadmin user\n";
        assert_eq!(m().debug_header(t), "Exim version x.yz ....\nchanged uid/gid: x\n  uid=1\nconfiguration file is /c\nadmin user\n");
    }

    #[test]
    fn stderr_uids() {
        assert_eq!(m().munge_stderr("Address testing: uid=0 gid=105 euid=0 egid=105\n"), "Address testing: uid=uuuu gid=EXIM_GID euid=uuuu egid=EXIM_GID\n");
    }

    #[test]
    fn debug_detail_rules() {
        assert_eq!(m().debug_details("14 bytes read from X\nerrno = 2\n  uid=0 gid=0 pid=5\n"), "ssss bytes read from X\nerrno = EEE\n  uid=uuuu gid=0 pid=5\n");
    }

    #[test]
    fn resolver_call_rule() {
        assert_eq!(m().resolver_calls(">>> gethostbyname2 looked up these IP addresses:"), ">>> get[host|ipnode]byname[2] looked up these IP addresses:");
    }

    #[test]
    fn v4net_in_names() {
        assert_eq!(m().nets("ACL \"acl_224_0_0\" sha3_224: x"), "ACL \"acl_V4NET_0_0\" sha3_224: x");
    }

    #[test]
    fn loopback_v6_rule() {
        assert_eq!(
            m().munge_stderr(">>> gethostbyname2 looked up these IP addresses:\n>>>   name=localhost address=::1\n>>>   name=localhost address=127.0.0.1\n"),
            "MUNGED: ::1 will be omitted in what follows\n>>> get[host|ipnode]byname[2] looked up these IP addresses:\n>>>   name=localhost address=127.0.0.1\n"
        );
    }

    #[test]
    fn queue_size_rule() {
        assert_eq!(m().queue_sizes(" 0m   258 1xUz6W-0005DF-2h <a@b>\n25h  1.2K 1xUz6W-0005DF-2i <>"), " 0m   sss 1xUz6W-0005DF-2h <a@b>\n25h  sss 1xUz6W-0005DF-2i <>");
    }

    #[test]
    fn daemon_port_rule() {
        assert_eq!(
            m().daemon_ports("listening for SMTP on port 1225 (IPv6 and IPv4) port 1226 [127.0.0.1]:1228 port 99"),
            "listening for SMTP on port PORT_D port PORT_D2 [127.0.0.1]:PORT_D4 port 99"
        );
    }

    #[test]
    fn tls_cipher_rule() {
        assert_eq!(
            m().tls_ciphers("X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no X=TLS1.2:ECDHE_ECDSA_AES_256_GCM_SHA384:256*"),
            "X=TLS1.x:ke-RSA-AES256-SHAnnn:xxx CV=no X=TLS1.x:ke-ECDSA-AES256-SHAnnn:xxx*"
        );
    }

    #[test]
    fn tls_function_rule() {
        assert_eq!(
            m().tls_functions("TLS error on connection from (a) [1.2.3.4] (gnutls_handshake): timed out\nH=x: TLS session: (gnutls_handshake): x"),
            "TLS error on connection from (a) [1.2.3.4] (tls lib accept fn): timed out\nH=x: TLS session: (tls lib connect fn): x"
        );
        assert_eq!(
            m().tls_functions("TLS error on connection from (a) [1.2.3.4] (cert/key setup: cert=/c key=/k): Error while reading file.\n"),
            "TLS error on connection from (a) [1.2.3.4] (cert/key setup: cert=/c key=/k): (tls lib reason)\n"
        );
    }

    #[test]
    fn spool_address_ports() {
        assert_eq!(m().spool_times("-host_address [127.0.0.1]:54788\n-interface_address [127.0.0.1]:1225\n"), "-host_address [127.0.0.1]:9999\n-interface_address [127.0.0.1]:1112\n");
    }

    #[test]
    fn spool_time_rules() {
        assert_eq!(
            m().spool_times("Debian-exim 102 105\n1795321585 0\n-received_time_usec .250816\n-received_time_complete 1795321585.251203\n180P Received: from x\n"),
            "Debian-exim EXIM_UID EXIM_GID\nddddddddd 0\n-received_time_usec .uuuuuu\n-received_time_complete tttt.uuuuuu\ndddP Received: from x\n"
        );
    }

    #[test]
    fn reply_dash_before_host() {
        assert_eq!(m().hosts("250-vm Hello\nx-vm"), "250-the.local.host.name Hello\nx-vm");
    }

    #[test]
    fn never_users_keeps_root() {
        assert_eq!(m().users("never_users = root:root\nU=root\n"), "never_users = root:root\nU=CALLER\n");
    }

    #[test]
    fn bracket_port_rule() {
        let mut m = m();
        assert_eq!(
            m.bracket_ports("local [127.0.0.1]:1225\nremote [127.0.0.2]:64000\n<= a H=(c) [127.0.0.2]:64000 I=[127.0.0.1]:1225 P=smtp PRX=[127.0.0.1]:1225\ninternal []:0 [ip4.ip4.ip4.ip4]:0\n"),
            "local [127.0.0.1]:1111\nremote [127.0.0.2]:1112\n<= a H=(c) [127.0.0.2]:1112 I=[127.0.0.1]:PORT_D P=smtp PRX=[127.0.0.1]:PORT_D\ninternal []:0 [ip4.ip4.ip4.ip4]:1113\n"
        );
        assert_eq!(
            m.bracket_ports("id => x R=r T=t H=h [224.0.0.1]:25 C=x\nid == x R=r T=t defer (-38) H=127.0.0.1 [127.0.0.1]:1224: e\nid H=127.0.0.1 [127.0.0.1]:1224: e\n-interface_address [127.0.0.1]:1225\n[:1:::1:1224:1mPRx2-000ABC-Zz]:1224\n"),
            "id => x R=r T=t H=h [224.0.0.1]:25 C=x\nid == x R=r T=t defer (-38) H=127.0.0.1 [127.0.0.1]:PORT_S: e\nid H=127.0.0.1 [127.0.0.1]:1114: e\n-interface_address [127.0.0.1]:1225\n[:1:::1:1224:1mPRx2-000ABC-Zz]:1224\n"
        );
    }

    #[test]
    fn net_rules() {
        assert_eq!(m().nets("224.0.0.1 1224.5 [224.9.8.7] ff00:1::2"), "V4NET.0.0.1 1224.5 [V4NET.9.8.7] V6NET:1::2");
    }

    #[test]
    fn port_rule() {
        let m = m();
        assert_eq!(m.ports("port 31225 and 312250"), "port 1225 and 312250");
    }

    #[test]
    fn build_lines_are_dropped() {
        assert_eq!(drop_build_lines(">>> host in hosts_proxy? no (option unset)\n250-SMTPUTF8\nx\n", ""), "x\n");
        assert_eq!(drop_build_lines("250-SMTPUTF8\n", "smtputf8_advertise_hosts = *"), "250-SMTPUTF8\n");
        assert_eq!(drop_build_lines("250-SMTPUTF8\n", "smtputf8_advertise_hosts =\n"), "");
        assert_eq!(drop_build_lines("????250-\n<<< 250-SMTPUTF8\n????250-\n<<< 250 HELP\n", ""), "????250-\n<<< 250 HELP\n");
        assert_eq!(drop_build_lines("trusted user\nadmin user\n", ""), "admin user\n");
        assert_eq!(drop_build_lines("trusted user\n", "trusted_users = root"), "trusted user\n");
        assert_eq!(drop_harness_build_lines(">>> host in pipelining_connect_advertise_hosts? yes (matched \"*\")\nx\n"), "x\n");
    }

    #[test]
    fn sortlog_sorts_delivery_runs() {
        assert_eq!(sort_log("a <=\nx => b\nx => a\nc\n"), "a <=\nx => a\nx => b\nc\n");
    }
}
