//! The configuration reader never panics on any file: random text, and
//! random configurations built from the language's own pieces. Bounded.

use std::path::Path;

use proptest::prelude::*;
use rexim::config::Config;

fn load(text: &str) {
    // Errors are expected; a panic is not.
    let _ = Config::from_bytes(Path::new("/fuzz/configure"), text.as_bytes(), &[]);
}

const PIECES: &[&str] = &[
    "\n", " ", "\\\n", "# c\n", "primary_hostname = a.b\n", "qualify_domain =\n", "MAC = 1\n", "MAC == 2\n",
    ".ifdef MAC\n", ".ifndef X\n", ".elifdef MAC\n", ".else\n", ".endif\n", ".include /nonexistent\n",
    ".include_if_exists /nonexistent\n", "domainlist d = a : b\n", "hostlist h = <; ::1 ; 10.0.0.0/8\n",
    "acl_smtp_rcpt = check\n", "begin acl\n", "check:\n", "  accept hosts = +h\n", "  deny message = x\n",
    "begin routers\n", "r:\n", "  driver = accept\n", "  transport = t\n", "begin transports\n", "t:\n",
    "  driver = appendfile\n", "begin authenticators\n", "p:\n", "  driver = plaintext\n",
    "begin retry\n", "* * F,2h,15m\n", "begin rewrite\n", "*@a $1@b F\n", "message_size_limit = 10M\n",
    "smtp_receive_timeout = 5m\n", "no_queue_only\n", "queue_only = maybe\n", "recipients_max = 0x\n",
    "\u{feff}", "\"", "${", "}", "=", "_HAVE_PROXY", "hide tls_privatekey = x\n",
];

fn built() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        load(&s);
    }

    #[test]
    fn configuration_pieces_never_panic(s in built()) {
        load(&s);
    }
}
