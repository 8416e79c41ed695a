//! Named munges (`munge NAME` in a script): extra rules for one test's
//! outputs, where what Exim prints depends on the platform, the TLS library
//! or the build. runtest keeps them in a table keyed by name and file kind;
//! its code is not part of the reference material, so each rule here was
//! reconstructed from the expected outputs of the tests that use it (the
//! munged text is what those files show).
//!
//! runtest applies a rule after its standard munges, line by line: an
//! `s/.../.../` rule rewrites the line, a bare `/.../` rule drops a line that
//! matches.

use regex::{Captures, Regex};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Which output a rule applies to (runtest's file kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mainlog,
    Rejectlog,
    Paniclog,
    Stdout,
    Stderr,
    Mail,
    Msglog,
}

impl Kind {
    /// The kind of an output from its label in `compare::collect`.
    pub fn of_label(label: &str) -> Kind {
        match label {
            "log" => Kind::Mainlog,
            "rejectlog" => Kind::Rejectlog,
            "paniclog" => Kind::Paniclog,
            "stdout" => Kind::Stdout,
            "stderr" => Kind::Stderr,
            l if l.starts_with("mail/") => Kind::Mail,
            _ => Kind::Msglog,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Replace {
    Text(&'static str),
    Func(fn(&Captures) -> String),
}

#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Replace the first match in the line (Perl's `s///`), or every
    /// match (`s///g`).
    Subst { pattern: &'static str, by: Replace, global: bool },
    /// Drop a line that matches.
    Drop(&'static str),
    /// Remove the match and the newline after it (a Perl pattern ending in
    /// `\n`): the rest of the line joins the next. The pattern ends in `$`.
    Cut(&'static str),
}

struct Munge {
    name: &'static str,
    rules: &'static [(Kind, Rule)],
}

const fn s(kind: Kind, pattern: &'static str, by: &'static str) -> (Kind, Rule) {
    (kind, Rule::Subst { pattern, by: Replace::Text(by), global: false })
}

/// Daemon debug lines start with the pid; so do "Process N" and "child N".
fn debug_pid(c: &Captures) -> String {
    let lead = &c[1];
    if lead.starts_with("Process") || lead.starts_with("child") {
        format!("{}ppppp", lead)
    } else {
        "ppppp".into()
    }
}

/// Sorted by name.
static MUNGES: &[Munge] = &[
    Munge {
        name: "debug_pid",
        rules: &[(Kind::Stderr, Rule::Subst { pattern: r"(^\s{0,4}|Process |child )\d+", by: Replace::Func(debug_pid), global: true })],
    },
    Munge {
        name: "debuglog_stdout",
        rules: &[
            s(Kind::Stdout, r"^\d\d:\d\d:\d\d\s+\d+ ", ""),
            s(Kind::Stdout, r"Process \d+ is ready for new message", "Process pppp is ready for new message"),
        ],
    },
    Munge { name: "delay_1500", rules: &[s(Kind::Stderr, r"(1[5-9]|23\d)\d\d msec", "ssss msec")] },
    Munge { name: "dnssec", rules: &[(Kind::Stderr, Rule::Drop(r"^Reverse DNS security status: unverified$"))] },
    Munge {
        name: "gnutls_bad_clientcert",
        rules: &[
            s(Kind::Mainlog, r"\(certificate verification failed\): certificate invalid", "(gnutls_handshake): The peer did not send any certificate."),
            s(Kind::Stdout, r"Succeeded in starting TLS", "Failed to start TLS"),
        ],
    },
    Munge {
        name: "gnutls_handshake",
        rules: &[s(
            Kind::Mainlog,
            r"(\(gnutls_handshake\): )(?:Error in the push function|The TLS connection was non-properly terminated)\.",
            "${1}A TLS fatal alert has been received.",
        )],
    },
    Munge {
        name: "gnutls_unexpected",
        rules: &[s(Kind::Mainlog, r"\(recv\): A TLS packet with unexpected length was received\.", "(recv): The TLS connection was non-properly terminated.")],
    },
    Munge { name: "loopback", rules: &[s(Kind::Stdout, r"\[(?:127\.0\.0\.1|::1)\]", "[IP_LOOPBACK_ADDR]")] },
    Munge { name: "optional_cert_hostnames", rules: &[(Kind::Stderr, Rule::Drop(r"^\S+ in tls_verify_cert_hostnames\? "))] },
    Munge {
        name: "optional_config",
        rules: &[(
            Kind::Stdout,
            Rule::Drop(
                r"^(?:dkim_(?:canon|domain|private_key|selector|sign_headers|strict|hash|identity|timestamps)|gnutls_require_(?:kx|mac|protocols)|hosts_(?:avoid|nopass|noproxy|require|verify_avoid)_tls|socks_proxy|tls_[^ ]*|utf8_downconvert)(?:$|[ ]=)",
            ),
        )],
    },
    Munge {
        name: "optional_dsn_info",
        rules: &[(Kind::Mail, Rule::Drop(r"^(?:X-(?:Remote-MTA-(?:smtp-greeting|helo-response)|Exim-Diagnostic|(?:body|message)-linecount):|Remote-MTA: X-ip;)"))],
    },
    Munge { name: "optional_events", rules: &[(Kind::Stdout, Rule::Cut(r"event_action =(?: \$\w+)? ?$"))] },
    Munge { name: "optional_ocsp", rules: &[(Kind::Stderr, Rule::Drop(r"^\S+ in hosts_requ(?:est|ire)_ocsp\? "))] },
    Munge { name: "peer_terminated_conn", rules: &[s(Kind::Stderr, r"^  SMTP\(Connection refused\)<<", "  SMTP(closed)<<")] },
    Munge { name: "perl_variants", rules: &[s(Kind::Stdout, r"^> X/X$", "> X")] },
    Munge { name: "scanfile_size", rules: &[s(Kind::Stdout, r"(Content-length:) \d\d\d", "$1 ddd")] },
    Munge {
        name: "sync_check_data",
        rules: &[
            s(Kind::Mainlog, r"^(.* SMTP protocol synchronization error .* next input=.{8}).*$", "${1}<suppressed>"),
            s(Kind::Rejectlog, r"^(.* SMTP protocol synchronization error .* next input=.{8}).*$", "${1}<suppressed>"),
        ],
    },
    Munge { name: "sys_bindir", rules: &[s(Kind::Mainlog, r"/(?:usr/)?bin/", "SYSBINDIR/")] },
    Munge { name: "timeout_errno", rules: &[s(Kind::Mainlog, r"((?:host|message) deferral .* errno) <\d+> ", "$1 <EEE> ")] },
    Munge {
        name: "tls_anycipher",
        rules: &[
            s(Kind::Mainlog, r" X=TLS\S+ ", " X=TLS_proto_and_cipher "),
            s(Kind::Mainlog, r#" DN="C="#, r#" DN="/C="#),
            s(Kind::Mainlog, r#"( DN="[^,"]*),"#, "$1/"),
            s(Kind::Mainlog, r#"( DN="[^,"]*),"#, "$1/"),
            s(Kind::Mainlog, r#"( DN="[^,"]*),"#, "$1/"),
            s(Kind::Rejectlog, r" X=TLS\S+ ", " X=TLS_proto_and_cipher "),
            s(Kind::Mail, r"^(\s+by .+ with .+?) tls TLS_.+$", "$1"),
            s(Kind::Mail, r" \(TLS[^)]*\)", " (TLS_proto_and_cipher)"),
        ],
    },
];

fn find(name: &str) -> Option<&'static Munge> {
    MUNGES.binary_search_by(|m| m.name.cmp(name)).ok().map(|i| &MUNGES[i])
}

/// Whether runtest knows a munge of this name.
pub fn exists(name: &str) -> bool {
    find(name).is_some()
}

fn compiled(pattern: &'static str) -> Regex {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Regex>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    cache.entry(pattern).or_insert_with(|| Regex::new(pattern).expect("named munge pattern")).clone()
}

fn apply_rule(rule: &Rule, line: &str) -> Option<(String, bool)> {
    match rule {
        Rule::Subst { pattern, by, global } => {
            let re = compiled(pattern);
            let limit = if *global { 0 } else { 1 };
            let out = match by {
                Replace::Text(t) => re.replacen(line, limit, *t).into_owned(),
                Replace::Func(f) => re.replacen(line, limit, |c: &Captures| f(c)).into_owned(),
            };
            Some((out, true))
        }
        Rule::Drop(pattern) => (!compiled(pattern).is_match(line)).then(|| (line.to_string(), true)),
        Rule::Cut(pattern) => match compiled(pattern).find(line) {
            Some(m) => Some((line[..m.start()].to_string(), false)),
            None => Some((line.to_string(), true)),
        },
    }
}

/// Apply the named munges `names` to an output of kind `kind`, after the
/// standard munges. Unknown names are ignored here (the runner refuses
/// to run a script that uses one).
pub fn apply(names: &[String], kind: Kind, text: &str) -> String {
    let rules: Vec<&Rule> = names.iter().filter_map(|n| find(n)).flat_map(|m| m.rules.iter()).filter(|(k, _)| *k == kind).map(|(_, r)| r).collect();
    if rules.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    'lines: for line in text.split_inclusive('\n') {
        let (content, newline) = match line.strip_suffix('\n') {
            Some(c) => (c, true),
            None => (line, false),
        };
        let mut content = content.to_string();
        let mut keep_newline = newline;
        for rule in &rules {
            match apply_rule(rule, &content) {
                None => continue 'lines,
                Some((c, keep)) => {
                    content = c;
                    keep_newline &= keep;
                }
            }
        }
        out.push_str(&content);
        if keep_newline {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, kind: Kind, text: &str) -> String {
        apply(&[name.to_string()], kind, text)
    }

    #[test]
    fn table_is_sorted_and_compiles() {
        assert!(MUNGES.windows(2).all(|w| w[0].name < w[1].name));
        for mu in MUNGES {
            for (_, r) in mu.rules {
                let p = match r {
                    Rule::Subst { pattern, .. } | Rule::Drop(pattern) | Rule::Cut(pattern) => pattern,
                };
                assert!(Regex::new(p).is_ok(), "{}", mu.name);
            }
        }
        assert!(!exists("no_such_munge"));
    }

    #[test]
    fn debug_pid() {
        assert_eq!(
            m("debug_pid", Kind::Stderr, " 4711 Process 4712 is handling incoming connection\n4711 forked child 4713\nx 12\n"),
            "ppppp Process ppppp is handling incoming connection\nppppp forked child ppppp\nx 12\n"
        );
        assert_eq!(m("debug_pid", Kind::Stdout, "4711 x\n"), "4711 x\n");
    }

    #[test]
    fn debuglog_stdout() {
        assert_eq!(
            m("debuglog_stdout", Kind::Stdout, "01:01:01 1234 Process 1235 is ready for new message\n"),
            "Process pppp is ready for new message\n"
        );
    }

    #[test]
    fn delay_1500() {
        assert_eq!(m("delay_1500", Kind::Stderr, "LOG: Long A lookup for 'delay1500.test.ex': 1503 msec\n"), "LOG: Long A lookup for 'delay1500.test.ex': ssss msec\n");
        assert_eq!(m("delay_1500", Kind::Stderr, "x: 1403 msec\n"), "x: 1403 msec\n");
    }

    #[test]
    fn dnssec() {
        assert_eq!(m("dnssec", Kind::Stderr, "IP address lookup yielded \"a\"\nReverse DNS security status: unverified\nForward DNS security status: unverified\n"), "IP address lookup yielded \"a\"\nForward DNS security status: unverified\n");
    }

    #[test]
    fn gnutls_bad_clientcert() {
        assert_eq!(
            m("gnutls_bad_clientcert", Kind::Mainlog, "TLS error on connection from (a) [1.2.3.4] (certificate verification failed): certificate invalid\n"),
            "TLS error on connection from (a) [1.2.3.4] (gnutls_handshake): The peer did not send any certificate.\n"
        );
        assert_eq!(m("gnutls_bad_clientcert", Kind::Stdout, "Succeeded in starting TLS\n"), "Failed to start TLS\n");
    }

    #[test]
    fn gnutls_handshake() {
        assert_eq!(
            m("gnutls_handshake", Kind::Mainlog, "id TLS session: (gnutls_handshake): Error in the push function.: delivering unencrypted\n"),
            "id TLS session: (gnutls_handshake): A TLS fatal alert has been received.: delivering unencrypted\n"
        );
    }

    #[test]
    fn gnutls_unexpected() {
        assert_eq!(
            m("gnutls_unexpected", Kind::Mainlog, "TLS error on connection from [127.0.0.1] (recv): A TLS packet with unexpected length was received.\n"),
            "TLS error on connection from [127.0.0.1] (recv): The TLS connection was non-properly terminated.\n"
        );
    }

    #[test]
    fn loopback() {
        assert_eq!(
            m("loopback", Kind::Stdout, "Connecting to 127.0.0.1 port 1225\n<<< 250 h Hello c [127.0.0.1] [::1]\n"),
            "Connecting to 127.0.0.1 port 1225\n<<< 250 h Hello c [IP_LOOPBACK_ADDR] [::1]\n"
        );
        assert_eq!(m("loopback", Kind::Mainlog, "[127.0.0.1]\n"), "[127.0.0.1]\n");
    }

    #[test]
    fn optional_cert_hostnames() {
        assert_eq!(m("optional_cert_hostnames", Kind::Stderr, "127.0.0.1 in tls_verify_hosts? no (option unset)\n127.0.0.1 in tls_verify_cert_hostnames? yes (matched \"*\")\n"), "127.0.0.1 in tls_verify_hosts? no (option unset)\n");
    }

    #[test]
    fn optional_config() {
        assert_eq!(
            m("optional_config", Kind::Stdout, "hosts_try_prdr = *\nhosts_require_tls = \ntls_certificate = x\ntls_tempfail_tryclear\ndkim_strict = \nsocks_proxy = \nutf8_downconvert = -1\ntlsx\n    hosts_try_fastopen = :\n"),
            "hosts_try_prdr = *\ntlsx\n    hosts_try_fastopen = :\n"
        );
    }

    #[test]
    fn optional_dsn_info() {
        assert_eq!(
            m("optional_dsn_info", Kind::Mail, "Remote-MTA: dns; 127.0.0.1\nRemote-MTA: X-ip; [127.0.0.1]:1224\nX-Remote-MTA-smtp-greeting: X-str; 220 x\nX-Remote-MTA-helo-response: X-str; 250 y\nX-Exim-Diagnostic: X-str; z\nDiagnostic-Code: smtp; 550 no\n"),
            "Remote-MTA: dns; 127.0.0.1\nDiagnostic-Code: smtp; 550 no\n"
        );
    }

    #[test]
    fn optional_events() {
        assert_eq!(m("optional_events", Kind::Stdout, "acl_not_smtp = xxx\nevent_action = \nevent_action = $x\nz\n"), "acl_not_smtp = xxx\nz\n");
        assert_eq!(m("optional_events", Kind::Stdout, "a event_action = $x\nz\n"), "a z\n");
    }

    #[test]
    fn optional_ocsp() {
        assert_eq!(m("optional_ocsp", Kind::Stderr, "127.0.0.1 in hosts_request_ocsp? yes (matched \"*\")\n127.0.0.1 in hosts_require_ocsp? no (option unset)\nkept\n"), "kept\n");
    }

    #[test]
    fn peer_terminated_conn() {
        assert_eq!(m("peer_terminated_conn", Kind::Stderr, "  SMTP(Connection refused)<<\n"), "  SMTP(closed)<<\n");
    }

    #[test]
    fn perl_variants() {
        assert_eq!(m("perl_variants", Kind::Stdout, "> X/X\n> X/Y\n"), "> X\n> X/Y\n");
    }

    #[test]
    fn scanfile_size() {
        assert_eq!(m("scanfile_size", Kind::Stdout, "<Content-length: 432\n"), "<Content-length: ddd\n");
    }

    #[test]
    fn sync_check_data() {
        let line = "1999-03-02 09:44:33 SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected \"ehlo abcd\" H=[127.0.0.1] next input=\"mail from:<x@y>\\r\\n\"\n";
        let want = "1999-03-02 09:44:33 SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected \"ehlo abcd\" H=[127.0.0.1] next input=\"mail fr<suppressed>\n";
        assert_eq!(m("sync_check_data", Kind::Mainlog, line), want);
        assert_eq!(m("sync_check_data", Kind::Rejectlog, line), want);
    }

    #[test]
    fn sys_bindir() {
        assert_eq!(m("sys_bindir", Kind::Mainlog, "from command: /usr/bin/perl\n"), "from command: SYSBINDIR/perl\n");
        assert_eq!(m("sys_bindir", Kind::Mainlog, "from command: /bin/perl\n"), "from command: SYSBINDIR/perl\n");
    }

    #[test]
    fn timeout_errno() {
        assert_eq!(
            m("timeout_errno", Kind::Mainlog, ". host deferral ip <127.0.0.1> errno <110> errstr <x>\n. message deferral errno <-46> errstr <y>\n"),
            ". host deferral ip <127.0.0.1> errno <EEE> errstr <x>\n. message deferral errno <-46> errstr <y>\n"
        );
    }

    #[test]
    fn tls_anycipher() {
        assert_eq!(
            m("tls_anycipher", Kind::Mainlog, "=> x H=h X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes DN=\"C=UK,O=The Exim Maintainers,OU=Test Suite,CN=Phil\" C=\"250\"\n"),
            "=> x H=h X=TLS_proto_and_cipher CV=yes DN=\"/C=UK/O=The Exim Maintainers/OU=Test Suite/CN=Phil\" C=\"250\"\n"
        );
        assert_eq!(m("tls_anycipher", Kind::Rejectlog, "H=h X=TLS1.2:x:128 CV=no\n"), "H=h X=TLS_proto_and_cipher CV=no\n");
        assert_eq!(m("tls_anycipher", Kind::Mail, "\tby h with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384\n"), "\tby h with esmtps (TLS_proto_and_cipher)\n");
    }

    #[test]
    fn only_named_munges_apply() {
        assert_eq!(apply(&[], Kind::Stdout, "[127.0.0.1]\n"), "[127.0.0.1]\n");
        assert_eq!(apply(&["loopback".into(), "perl_variants".into()], Kind::Stdout, "[127.0.0.1]\n> X/X"), "[IP_LOOPBACK_ADDR]\n> X");
    }
}
