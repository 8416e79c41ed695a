//! Interpreter behaviour not covered by the recorded dialogues: DNS
//! lists, header checks, headers added by ACLs, `${acl}` as in Exim's
//! test 0002, nesting limits, file ACLs, the debug trace.

use super::simple::SimpleEnv;
use super::*;

fn env(acls: &str) -> SimpleEnv {
    let mut e = SimpleEnv::new(AclStore::from_section(acls, "TESTSUITE/test-config").unwrap());
    e.set("sender_host_address", "10.1.2.3").set("sender_helo_name", "client");
    e
}

fn run(e: &mut SimpleEnv, st: &mut AclState, place: Where, name: &str) -> AclOutcome {
    check(e, st, place, Some(name), None)
}

#[test]
fn dnslists_reverse_the_address_and_set_variables() {
    let mut e = env("a:\n  deny dnslists = bl.example : other.example=127.0.0.9\n       message = listed in $dnslist_domain ($dnslist_value) for $dnslist_matched\n  accept\n");
    e.dns.insert("3.2.1.10.other.example".into(), vec!["127.0.0.2".parse().unwrap()]);
    let mut st = AclState::new();
    assert_eq!(run(&mut e, &mut st, Where::Rcpt, "a").rc, Rc::Ok, "other.example answers 127.0.0.2, not .9");
    e.dns.insert("3.2.1.10.bl.example".into(), vec!["127.0.0.2".parse().unwrap()]);
    let out = run(&mut e, &mut st, Where::Rcpt, "a");
    assert_eq!(out.rc, Rc::Fail);
    assert_eq!(out.user_message.as_deref(), Some("listed in bl.example (127.0.0.2) for 10.1.2.3"));
}

/// Exim's 0509: a key list with its own separator, a doubled colon for
/// a colon in the key list, and answers outside 127.0.0.0/8 discarded
/// with a log line.
#[test]
fn dnslists_key_lists_and_answers_outside_127() {
    let mut e = env("a:\n  deny dnslists = rbl.test.ex/<;1.2.3.4;10.11.12.13\n  deny dnslists = test.ex/a.b.c.d::ten-1\n  accept\n");
    e.dns.insert("13.12.11.10.rbl.test.ex".into(), vec!["127.0.0.2".parse().unwrap()]);
    e.dns.insert("ten-1.test.ex".into(), vec!["10.0.0.1".parse().unwrap()]);
    let mut st = AclState::new();
    assert_eq!(run(&mut e, &mut st, Where::Rcpt, "a").rc, Rc::Fail, "the second key of the <; list is listed");
    e.dns.clear();
    e.dns.insert("ten-1.test.ex".into(), vec!["10.0.0.1".parse().unwrap()]);
    e.log.clear();
    assert_eq!(run(&mut e, &mut st, Where::Rcpt, "a").rc, Rc::Ok);
    assert_eq!(e.log, ["DNS list lookup for ten-1 at test.ex returned 10.0.0.1; not in 127.0/8 and discarded"]);
}

#[test]
fn header_checks_need_the_message() {
    let mut e = env("a:\n  require verify = header_names_ascii\n  accept\nb:\n  require verify = not_blind\n  accept\n");
    let mut st = AclState::new();
    let out = run(&mut e, &mut st, Where::Rcpt, "a");
    assert_eq!((out.rc, out.log_message.as_deref()), (Rc::Error, Some("cannot verify header_names_ascii in ACL for RCPT")));
    e.headers = vec!["Subject: x\n".into(), "Bad\u{e9}: y\n".into()];
    assert_eq!(run(&mut e, &mut st, Where::Data, "a").rc, Rc::Fail);
    e.headers = vec!["To: a@test.ex\n".into()];
    e.recipients = vec!["a@test.ex".into(), "hidden@test.ex".into()];
    let out = run(&mut e, &mut st, Where::Data, "b");
    // The client gets the default text unless smtp_return_error_details.
    assert_eq!((out.rc, out.user_message.as_deref(), out.log_message.as_deref()), (Rc::Fail, None, Some("bcc recipient detected")));
    // Exim 4.96's rules (tests 0507, 0585): To: and Cc: (Resent- too), not
    // Bcc:; local parts with case, domains without.
    e.headers = vec!["To: Someone <a@TEST.ex>\n".into(), "Resent-Cc: x, hidden@test.ex\n".into()];
    assert_eq!(run(&mut e, &mut st, Where::Data, "b").rc, Rc::Ok);
    e.headers = vec!["To: A@test.ex\n".into(), "Cc: hidden@test.ex\n".into()];
    assert_eq!(run(&mut e, &mut st, Where::Data, "b").rc, Rc::Fail);
    e.headers = vec!["To: a@test.ex\n".into(), "Bcc: hidden@test.ex\n".into()];
    assert_eq!(run(&mut e, &mut st, Where::Data, "b").rc, Rc::Fail);
}

#[test]
fn address_verification_says_it_needs_routing() {
    let mut e = env("a:\n  require verify = sender\n  accept\n");
    let out = run(&mut e, &mut AclState::new(), Where::Rcpt, "a");
    assert_eq!(out.rc, Rc::Error);
    assert!(out.log_message.unwrap().contains("needs address routing"));
}

#[test]
fn headers_from_add_header_and_warn_message() {
    let mut e = env("a:\n  warn message = X-Warned: yes\n  warn add_header = :at_start:X-First: 1\n  accept add_header = plain text\n       remove_header = X-Gone\n");
    let mut st = AclState::new();
    assert_eq!(run(&mut e, &mut st, Where::Rcpt, "a").rc, Rc::Ok);
    assert_eq!(
        st.headers_add,
        vec![(HeaderPos::AtEnd, "X-Warned: yes\n".to_string()), (HeaderPos::AtStart, "X-First: 1\n".to_string()), (HeaderPos::AtEnd, "X-ACL-Warn: plain text\n".to_string())]
    );
    assert_eq!(st.headers_remove, vec!["X-Gone".to_string()]);
    st.new_message();
    assert!(st.headers_add.is_empty());
    // In a non-message ACL a warn message cannot become a header.
    let mut e = env("a:\n  warn message = X-Warned: yes\n  accept\n");
    run(&mut e, &mut st, Where::Connect, "a");
    assert!(e.log[0].starts_with("ACL \"warn\" with \"message\" setting found in a non-message (connection) ACL"));
}

/// The `${acl}` cases of Exim's test 0002 (its stdout, lines 150-161).
#[test]
fn acl_expansion_item() {
    let acls = "a_ret:\n  accept message = ($acl_narg) [$acl_arg1] [$acl_arg2]\n\na_none:\n  accept\n\na_deny:\n  deny message = ($acl_narg) [$acl_arg1] [$acl_arg2]\n\na_defer:\n  defer\n\na_sub:\n  require acl = a_none foo bar baz barf\n  require acl = a_deny \"new arg1\" $acl_arg1\n";
    let mut e = env(acls);
    let mut st = AclState::new();
    let mut x = |name: &str, args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        acl_expansion(&mut e, &mut st, Where::Expansion, name, &args).map(|(_, m)| m).map_err(|e| e.to_string())
    };
    assert_eq!(x("a_nosuch", &[]), Err("ERROR from acl \"a_nosuch\"".into()));
    assert_eq!(x("a_ret", &[]), Ok("(0) [] []".into()));
    assert_eq!(x("a_ret", &["firstarg", "secondarg"]), Ok("(2) [firstarg] [secondarg]".into()));
    assert_eq!(x("a_ret", &["arg with spaces"]), Ok("(1) [arg with spaces] []".into()));
    assert_eq!(x("a_none", &["person@dom.ain"]), Ok("".into()));
    assert_eq!(x("a_deny", &["person@dom.ain"]), Ok("(1) [person@dom.ain] []".into()));
    assert_eq!(x("a_defer", &[]), Err("DEFER from acl \"a_defer\"".into()));
    assert_eq!(x("a_sub", &["top_arg_1", "top_arg_2", "top_arg_3"]), Ok("(2) [new arg1] [top_arg_1]".into()));
}

#[test]
fn nesting_limit_and_missing_file() {
    let mut e = env("loop:\n  accept acl = loop\n");
    let out = run(&mut e, &mut AclState::new(), Where::Rcpt, "loop");
    assert_eq!((out.rc, out.log_message.as_deref()), (Rc::Error, Some("ACL nested too deep: possible loop")));
    let out = run(&mut e, &mut AclState::new(), Where::Rcpt, "/nonexistent/acl");
    assert_eq!(out.rc, Rc::Error);
    assert_eq!(out.log_message.as_deref(), Some("failed to open ACL file \"/nonexistent/acl\": No such file or directory"));
}

#[test]
fn unset_hooks_use_exims_defaults() {
    let mut e = env("");
    let mut st = AclState::new();
    for (place, rc) in [(Where::Rcpt, Rc::Fail), (Where::Vrfy, Rc::Fail), (Where::Expn, Rc::Fail), (Where::Etrn, Rc::Fail), (Where::Mail, Rc::Ok), (Where::Connect, Rc::Ok), (Where::Data, Rc::Ok), (Where::Quit, Rc::Ok)] {
        assert_eq!(check(&mut e, &mut st, place, None, None).rc, rc, "{place:?}");
    }
}

/// The trace lines `-bh` prints, as recorded in testsuite/stderr/0401.
#[test]
fn debug_trace_matches_exim() {
    let conf = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/testsuite/confs/0401")).unwrap();
    let section: String = conf.split_once("begin acl\n").map(|(head, acl)| "\n".repeat(head.lines().count() + 1) + acl).unwrap();
    let mut e = SimpleEnv::new(AclStore::from_section(&section, "TESTSUITE/test-config").unwrap());
    e.set("sender_host_address", "10.1.2.3").set("local_part", "denymsg").set("domain", "test.ex");
    e.trace_on = true;
    run(&mut e, &mut AclState::new(), Where::Rcpt, "check_rcpt");
    let got: Vec<String> = e.trace.iter().map(|l| format!(">>> {l}")).collect();
    let want = [
        ">>> using ACL \"check_rcpt\"",
        ">>> processing \"accept\" (TESTSUITE/test-config 15)",
        ">>> check local_parts = ok",
    ];
    assert_eq!(&got[..3], &want);
    assert!(got.contains(&">>>   message: 550 5.7.1 Go away $local_part".to_string()), "{got:#?}");
    assert_eq!(got.last().unwrap(), ">>> end of ACL \"check_rcpt\": DENY");
}

#[test]
fn forbidden_uses_are_listed_for_the_configuration_reader() {
    let store = AclStore::from_section("c:\n  deny recipients = a@b\n  accept hosts = 1.2.3.4\n", "f").unwrap();
    let errs = store.forbidden_uses("c", Where::Connect);
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].line, errs[0].message.as_str()), (2, "cannot test recipients condition in connection ACL"));
    assert!(store.forbidden_uses("c", Where::Rcpt).is_empty());
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    const NAMES: &[&str] = &["acl", "add_header", "condition", "control", "delay", "dnslists", "domains", "hosts", "local_parts", "logwrite", "message", "log_message", "ratelimit", "recipients", "remove_header", "seen", "senders", "set acl_m_x", "verify", "endpass", "queue", "log_reject_target"];
    const VERBS: &[&str] = &["accept", "defer", "deny", "discard", "drop", "require", "warn"];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Any ACL text is read or refused with a message; reading never
        /// panics.
        #[test]
        fn reading_never_panics(text in "[a-z_ =!:/$\\\\{}\\n\\t#\"]{0,80}") {
            let _ = AclStore::from_section(&format!("a:\n{text}\n"), "f");
            let _ = statement::read_text(&text, "f").map(|r| statement::compile(&r));
        }

        /// Any value of any condition or modifier, in any hook, gives an
        /// outcome; nothing panics or hangs.
        #[test]
        fn evaluation_never_panics(verb in 0..VERBS.len(), name in 0..NAMES.len(), value in "[ -~]{0,40}", place in 0..Where::ALL.len()) {
            let text = format!("a:\n  {} {} = {}\n  accept\n", VERBS[verb], NAMES[name], value.replace('\n', " "));
            if let Ok(store) = AclStore::from_section(&text, "f") {
                let mut e = SimpleEnv::new(store);
                e.set("sender_host_address", "10.1.2.3");
                let mut st = AclState::new();
                let _ = check(&mut e, &mut st, Where::ALL[place], Some("a"), Some("u@d.example"));
            }
        }
    }
}
