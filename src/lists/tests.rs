//! List matching tests. Every expected value was recorded from Exim 4.96
//! (`exim -be` with `${if match_ip/match_domain/match_address/...}`), with
//! the files written by `fixtures()` (the same content as in /tmp runs).

use super::*;
use crate::dns::fake::FakeResolver;
use crate::lookups::{Lookups, NoExpand};
use std::collections::HashMap;
use std::sync::Arc;

pub struct TestCtx {
    pub named: HashMap<(ListKind, String), NamedList>,
    pub lookups: Lookups,
    pub env: NoExpand,
    pub cache: NamedListCache,
    pub logs: Vec<String>,
    pub names: Option<Vec<String>>,
    pub name_lookups: usize,
}

impl TestCtx {
    pub fn new() -> Self {
        let mut f = FakeResolver::default();
        f.add_zone("test.ex", "mx1 MX 10 myhost.test.ex.\n     MX 20 other.test.ex.\nmyhost A 127.0.0.1\nother A 10.9.9.9\nmx2 MX 5 other.test.ex.\n    MX 10 myhost.test.ex.\nten-1 A 10.0.0.1\n");
        TestCtx {
            named: HashMap::new(),
            lookups: Lookups::new(Arc::new(f)),
            env: NoExpand,
            cache: NamedListCache::default(),
            logs: vec![],
            names: None,
            name_lookups: 0,
        }
    }
    fn def(&mut self, kind: ListKind, name: &str, value: &str) {
        self.named.insert((kind, name.into()), NamedList { value: value.into(), caching: NamedCaching::Default });
    }
}

impl ListContext for TestCtx {
    fn named_list(&self, kind: ListKind, name: &str) -> Option<NamedList> {
        self.named.get(&(kind, name.to_string())).cloned()
    }
    fn expand_list(&mut self, text: &str, _kind: ListKind, _subject: &str) -> Expanded {
        // A stand-in expander: only "${" is special (enough for the tests).
        if text.contains("${") {
            Expanded::Error(format!("cannot expand {text} in tests"))
        } else {
            Expanded::Ok(text.to_string())
        }
    }
    fn primary_hostname(&self) -> String {
        "myhost.test.ex".into()
    }
    fn local_interfaces(&self) -> Vec<IpAddr> {
        vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]
    }
    fn lookups(&mut self) -> (&mut Lookups, &mut dyn LookupEnv) {
        (&mut self.lookups, &mut self.env)
    }
    fn sender_host_names(&mut self) -> Option<Vec<String>> {
        self.name_lookups += 1;
        self.names.clone()
    }
    fn named_cache(&mut self) -> &mut NamedListCache {
        &mut self.cache
    }
    fn log(&mut self, line: &str, _panic: bool) {
        self.logs.push(line.to_string());
    }
}

/// Write the fixture files to a fresh directory.
pub fn fixtures() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rexim-lists-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("ls3"), "a.b: ab\n*.dom.ex: wild\n1.2.3.4: ip\n1.2.3.0/24: net24\n0000.0000.0000.0000.0000.0000.0000.0001: v6\nlp@dom.ex: x\ndom.ex: lp1 : !lp2 : ^x\\d : >other\nother: lp3\n*: *\n").unwrap();
    std::fs::write(d.join("ip1"), "1.2.3.4: one\n10.0.0.0/8 ten\n\"abcd::cdab\": v6\n\"abcd:abcd::/32\" v6net\n0.0.0.0/0 all\n").unwrap();
    std::fs::write(d.join("hl1"), "# comment\n  !1.2.3.4  # x\n1.2.3.0/24\n\n").unwrap();
    d
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn ip(ctx: &mut TestCtx, a: &str, list: &str) -> String {
    match match_ip(ctx, a, list) {
        Ok(ListMatch::Match(_)) => "y".into(),
        Ok(ListMatch::NoMatch) => "n".into(),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("Failed: {e}"),
    }
}

fn yn(m: ListMatch) -> String {
    match m {
        ListMatch::Match(_) => "y".into(),
        ListMatch::NoMatch => "n".into(),
        other => format!("{other:?}"),
    }
}

#[test]
fn match_ip_as_exim() {
    let d = fixtures();
    let f = |n: &str| d.join(n).display().to_string();
    let mut c = TestCtx::new();
    c.def(ListKind::Host, "hl", "10.0.0.0/8 : 192.168.1.1");
    let cases: Vec<(&str, String, &str)> = vec![
        ("::1", "::1".into(), "n"),
        ("::1", "<; ::1".into(), "y"),
        ("::1", "::::1".into(), "y"),
        ("1.2.3.4", "::1 : 1.2.3.4".into(), "n"),
        ("1.2.3.4", "1.2.3.0/24".into(), "y"),
        ("1.2.3.4", "1.2.3.0/33".into(), "n"),
        ("1.2.3.4", "!1.2.3.4:*".into(), "n"),
        ("1.2.3.4", "!1.2.3.5".into(), "y"),
        ("1.2.3.4", "+hl".into(), "n"),
        ("10.2.3.4", "+hl".into(), "y"),
        ("1.2.3.4", "foo.bar".into(), "n"),
        ("1.2.3.4", "*.foo.bar".into(), "n"),
        ("abc", "1.2.3.4".into(), "Failed: \"abc\" is not an IP address"),
        ("::ffff:1.2.3.4", "1.2.3.4".into(), "y"),
        ("1.2.3.4", format!("net-lsearch;{}", f("ls3")), "y"),
        ("1.2.3.5", format!("net24-lsearch;{}", f("ls3")), "y"),
        ("1.2.3.5", format!("net-iplsearch;{}", f("ip1")), "y"),
        ("::1", format!("net-lsearch;{}", f("ls3")), "y"),
        ("1.2.3.4", format!("lsearch;{}", f("ls3")), "y"),
        ("1.2.3.4", format!("net33-lsearch;{}", f("ls3")), "n"),
        ("1.2.3.4", "@[]".into(), "n"),
        ("127.0.0.1", "@[]".into(), "y"),
        ("1.2.3.4", "@".into(), "n"),
        ("1.2.3.4", "*".into(), "y"),
        ("1.2.3.4", "^abc".into(), "n"),
        ("1.2.3.4", "+ignore_unknown:^abc:1.2.3.4".into(), "y"),
        ("1.2.3.4", "+include_unknown:^abc".into(), "y"),
        ("1.2.3.4", "".into(), "n"),
        ("", "".into(), "n"),
        ("1.2.3.4", ":".into(), "n"),
        ("", "1.2.3.4".into(), "n"),
        ("", " ".into(), "n"),
        ("", ":".into(), "y"),
        ("1.2.3.4", " ".into(), "n"),
        ("1.2.3.4", "1.2.3".into(), "n"),
        ("1.2.3.4", "+ignore_unknown:1.2.3/24:1.2.3.4".into(), "y"),
        ("1.2.3.4", "! 1.2.3.4".into(), "n"),
        ("1.2.3.4", "!!1.2.3.4".into(), "n"),
        ("1.2.3.4", format!("iplsearch;{}", f("ip1")), "y"),
        ("1.2.3.4", f("hl1"), "n"),
        ("1.2.3.5", f("hl1"), "y"),
        ("9.9.9.9", f("hl1"), "n"),
        ("1.2.3.4", "net-dnsdb;a=x.y".into(), "n"),
    ];
    for (a, l, want) in cases {
        assert_eq!(ip(&mut c, a, &l), want, "match_ip{{{a}}}{{{l}}}");
    }
    assert!(c.logs.contains(&"cannot match host name in match_ip list: accepted by +include_unknown".to_string()));
    // Lookups ran before: Exim's stale search_error_message is "".
    assert_eq!(ip(&mut c, "1.2.3.4", "+nosuch"), "Defer(Some(\"\"))");
    assert_eq!(ip(&mut TestCtx::new(), "1.2.3.4", "+nosuch"), "Defer(None)");
    assert!(c.logs.contains(&"unknown named host list \"+nosuch\"".to_string()));
    assert!(ip(&mut c, "1.2.3.4", "net-lsearch;/nonexist").starts_with("Panic(\"failed to open /nonexist for linear search: No such file or directory"));
    assert_eq!(ip(&mut c, "1.2.3.4", "/nonexist"), "Panic(\"failed to open /nonexist when checking \\\"/nonexist\\\": No such file or directory\")");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn domains_as_exim() {
    let d = fixtures();
    let ls3 = d.join("ls3").display().to_string();
    let mut c = TestCtx::new();
    c.def(ListKind::Domain, "dl", "a.b : *.c.d : ^x\\d+\\.e$");
    let dom = |c: &mut TestCtx, s: &str, l: &str| yn(match_domain(c, s, l));
    assert_eq!(dom(&mut c, "x.c.d", "+dl"), "y");
    assert_eq!(dom(&mut c, "X12.E", "+dl"), "y");
    assert_eq!(dom(&mut c, "A.B", "+dl"), "y");
    assert_eq!(dom(&mut c, "myhost.test.ex", "@"), "y");
    assert_eq!(dom(&mut c, "a.b", &format!("lsearch;{ls3}")), "y");
    assert_eq!(dom(&mut c, "q.dom.ex", &format!("partial-lsearch;{ls3}")), "y");
    assert_eq!(dom(&mut c, "[127.0.0.1]", "@[]"), "y");
    assert_eq!(dom(&mut c, "", ""), "n");
    assert_eq!(dom(&mut c, "a", ""), "n");
    assert_eq!(dom(&mut c, "x", "^("), "Panic(\"regular expression error: missing closing parenthesis at offset 2 while compiling ^(\")");
    assert_eq!(dom(&mut c, "q.dom.ex", "nosuch;/x"), "Panic(\"unknown lookup type \\\"nosuch\\\"\")");
    match match_domain(&mut c, "foo.c.d", "*.c.d") {
        ListMatch::Match(m) => assert_eq!(m.numeric, ["foo.c.d", "foo"]),
        other => panic!("{other:?}"),
    }
    match match_domain(&mut c, "a.b.dom.ex", &format!("partial-lsearch;{ls3}")) {
        ListMatch::Match(m) => {
            assert_eq!(m.value.as_deref(), Some("wild"));
            assert_eq!(m.numeric, ["a.b.dom.ex", "a.b", "dom.ex"]);
        }
        other => panic!("{other:?}"),
    }
    // Beyond Exim's recorded cases: @mx_* from the fake DNS.
    assert_eq!(dom(&mut c, "mx1.test.ex", "@mx_any"), "y");
    assert_eq!(dom(&mut c, "mx1.test.ex", "@mx_primary"), "y");
    assert_eq!(dom(&mut c, "mx1.test.ex", "@mx_secondary"), "n");
    assert_eq!(dom(&mut c, "mx2.test.ex", "@mx_secondary"), "y");
    assert_eq!(dom(&mut c, "mx2.test.ex", "@mx_any/ignore=127.0.0.1"), "n");
    assert_eq!(dom(&mut c, "nomx.test.ex", "@mx_any"), "n");
    assert_eq!(dom(&mut c, "x.test.again.dns", "@mx_any"), "Defer(Some(\"DNS lookup of \\\"x.test.again.dns\\\" deferred\"))");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn addresses_and_local_parts_as_exim() {
    let d = fixtures();
    let ls3 = d.join("ls3").display().to_string();
    let mut c = TestCtx::new();
    let adr = |c: &mut TestCtx, s: &str, l: &str| yn(match_address(c, s, l, true));
    assert_eq!(adr(&mut c, "Foo@Bar.com", "foo@bar.com"), "y");
    assert_eq!(adr(&mut c, "Foo@Bar.com", "+caseful:foo@bar.com"), "n");
    assert_eq!(adr(&mut c, "Foo@Bar.com", "+caseful:Foo@bar.com"), "y");
    assert_eq!(adr(&mut c, "Foo@Bar.com", "*@bar.com"), "y");
    assert_eq!(adr(&mut c, "Foo@Bar.com", "bar.com"), "y");
    assert_eq!(adr(&mut c, "Foo@Bar.com", "*.com"), "y");
    assert_eq!(adr(&mut c, "Foo@Bar.com", "^foo@"), "y");
    assert_eq!(adr(&mut c, "lp1@dom.ex", &format!("@@lsearch;{ls3}")), "y");
    assert_eq!(adr(&mut c, "lp2@dom.ex", &format!("@@lsearch;{ls3}")), "n");
    assert_eq!(adr(&mut c, "x1@dom.ex", &format!("@@lsearch;{ls3}")), "y");
    assert_eq!(adr(&mut c, "lp3@dom.ex", &format!("@@lsearch;{ls3}")), "y");
    assert_eq!(adr(&mut c, "lp@dom.ex", &format!("lsearch;{ls3}")), "y");
    assert_eq!(adr(&mut c, "LP@DOM.EX", &format!("lsearch;{ls3}")), "y");
    assert_eq!(adr(&mut c, "lp@dom.ex", &format!("partial-lsearch;{ls3}")), "y");
    assert_eq!(adr(&mut c, "zz@dom.ex", &format!("*@partial-lsearch;{ls3}")), "y");
    assert_eq!(adr(&mut c, "zz@q.dom.ex", &format!("*@partial-lsearch;{ls3}")), "y");
    assert_eq!(adr(&mut c, "zz", "zz"), "n");
    assert_eq!(adr(&mut c, "", ":"), "y");
    assert_eq!(adr(&mut c, "", "^$"), "y");
    assert_eq!(adr(&mut c, "z@y", "z@y@x"), "n");
    assert_eq!(adr(&mut c, "a@b", "@b"), "n");
    assert_eq!(adr(&mut c, "a@b", "a@"), "n");
    assert_eq!(adr(&mut c, "a@b", "@"), "n");
    assert!(c.logs.iter().any(|l| l == &format!("partial matching is not applicable to whole-address lookups: ignored \"partial-\" in \"partial-lsearch;{ls3}\"")));
    assert!(c.logs.iter().any(|l| l == "no @ found in the subject of an address list match: subject=\"zz\" pattern=\"zz\""));
    assert_eq!(yn(match_local_part(&mut c, "Foo", "foo", true)), "y");
    assert_eq!(yn(match_local_part(&mut c, "Foo", "+caseful:foo", true)), "n");
    assert_eq!(inlist("b", "a:b:c").as_deref(), Some("b"));
    assert_eq!(inlist("B", "a:b:c"), None);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn host_names_and_unknown_handling() {
    let mut c = TestCtx::new();
    let h = HostSubject { address: Some("10.0.0.1".parse().unwrap()), name: None, ip_only: false };
    // No name can be found: the list fails, unless told otherwise.
    assert_eq!(yn(match_host(&mut c, &h, "*.test.ex : 10.0.0.1")), "n");
    assert_eq!(yn(match_host(&mut c, &h, "10.0.0.1 : *.test.ex")), "y");
    assert_eq!(yn(match_host(&mut c, &h, "+ignore_unknown : *.test.ex : 10.0.0.1")), "y");
    assert_eq!(yn(match_host(&mut c, &h, "+include_unknown : *.test.ex")), "y");
    assert!(c.logs.contains(&"failed to find host name for 10.0.0.1: accepted by +include_unknown".to_string()));
    c.names = Some(vec!["ten-1.test.ex".into()]);
    assert_eq!(yn(match_host(&mut c, &h, "*.test.ex")), "y");
    assert_eq!(yn(match_host(&mut c, &h, "^ten-\\d\\.TEST")), "y");
    assert_eq!(yn(match_host(&mut c, &h, "ten-1.test.ex")), "y");
    assert_eq!(yn(match_host(&mut c, &h, "other.test.ex")), "n");
    assert_eq!(yn(match_host(&mut c, &h, "nonexist.test.ex")), "n");
    assert_eq!(yn(match_host(&mut c, &h, "+ignore_unknown:nonexist.test.ex:10.0.0.1")), "y");
    // No lookup has run in this "process": Exim's own text for the item.
    assert_eq!(yn(match_host(&mut c, &h, "x.test.again.dns")), "Defer(Some(\"DNS lookup of \\\"x.test.again.dns\\\" deferred\"))");
    assert_eq!(yn(match_host(&mut c, &h, "+ignore_defer:x.test.again.dns:10.0.0.1")), "y");
    assert_eq!(yn(match_host(&mut c, &h, "+include_defer:x.test.again.dns")), "y");
    let none = HostSubject { address: None, name: None, ip_only: false };
    assert_eq!(yn(match_host(&mut c, &none, ":")), "y");
    assert_eq!(yn(match_host(&mut c, &none, "10.0.0.1")), "n");
}

#[test]
fn named_list_caching() {
    let mut c = TestCtx::new();
    c.def(ListKind::Domain, "dl", "a.b");
    assert!(match_domain(&mut c, "a.b", "+dl").is_match());
    // Change the definition: the cached result is used (as in Exim).
    c.def(ListKind::Domain, "dl", "x.y");
    assert!(match_domain(&mut c, "a.b", "+dl").is_match());
    c.cache.clear();
    assert!(!match_domain(&mut c, "a.b", "+dl").is_match());
    // _no_cache lists are checked every time.
    c.named.insert((ListKind::Domain, "nc".into()), NamedList { value: "a.b".into(), caching: NamedCaching::NoCache });
    assert!(match_domain(&mut c, "a.b", "+nc").is_match());
    c.named.insert((ListKind::Domain, "nc".into()), NamedList { value: "x.y".into(), caching: NamedCaching::NoCache });
    assert!(!match_domain(&mut c, "a.b", "+nc").is_match());
    // A list containing $ is expanded each time; expansion errors defer.
    c.def(ListKind::Domain, "ex", "${lookup{x}lsearch{/y}}");
    assert_eq!(match_domain(&mut c, "a.b", "+ex"), ListMatch::Defer(None));
    assert!(c.logs.last().unwrap().starts_with("failed to expand \"${lookup{x}lsearch{/y}}\" while checking a list:"));
    // Negated named list.
    c.def(ListKind::Domain, "neg", "a.b");
    assert!(!match_domain(&mut c, "a.b", "!+neg").is_match());
    assert!(match_domain(&mut c, "c.d", "!+neg").is_match());
}

#[test]
fn compiled_ip_lists_agree_with_the_walk() {
    let mut c = TestCtx::new();
    let mut items: Vec<String> = (0..40).map(|i| format!("10.{i}.0.0/16")).collect();
    items.insert(3, "!10.1.2.3".into());
    items.push("::::1".into());
    let list = items.join(" : ");
    assert!(compiled::cached(ListKind::Host, &list).is_ip_index());
    for a in ["10.1.2.3", "10.1.2.4", "10.39.1.1", "10.40.0.1", "1.2.3.4"] {
        let h = HostSubject { address: Some(a.parse().unwrap()), name: Some(String::new()), ip_only: true };
        let fast = match_host(&mut c, &h, &list);
        let walk = check::check_list(&mut c, &list, ListSep::Default, ListKind::Host, &mut check::Subject::Host(&h), false);
        assert_eq!(fast.is_match(), walk.is_match(), "{a}");
    }
    // Ending with a negated item: everything else is in the list.
    let neg: Vec<String> = (0..40).map(|i| format!("!10.{i}.0.0/16")).collect();
    let neg = neg.join(":");
    assert!(match_ip(&mut c, "1.2.3.4", &neg).unwrap().is_match());
    assert!(!match_ip(&mut c, "10.5.0.1", &neg).unwrap().is_match());
}

fn val(m: ListMatch) -> String {
    match m {
        ListMatch::Match(d) => format!("[{}]", d.value.unwrap_or_default()),
        ListMatch::NoMatch => "[n]".into(),
        other => format!("{other:?}"),
    }
}

// Values ($value of ${if match_*}) recorded from Exim 4.96.
#[test]
fn match_values_as_exim() {
    let d = fixtures();
    let ls3 = d.join("ls3").display().to_string();
    std::fs::write(d.join("dl1"), "x.y\n*.c.d # comment\n!bad.c.d\n").unwrap();
    let dl1 = d.join("dl1").display().to_string();
    let mut c = TestCtx::new();
    c.def(ListKind::Domain, "dl", "a.b : *.c.d");
    c.def(ListKind::Address, "al", "x@y : *@+dl");
    assert_eq!(val(match_domain(&mut c, "a.b", &format!("lsearch;{ls3}"))), "[ab]");
    assert_eq!(val(match_domain(&mut c, "foo.c.d", "*.c.d")), "[*.c.d]");
    assert_eq!(val(match_domain(&mut c, "myhost.test.ex", "@")), "[myhost.test.ex]");
    assert_eq!(val(match_domain(&mut c, "x12.e", "^x\\d")), "[^x\\d]");
    assert_eq!(val(match_domain(&mut c, "x.y", &dl1)), "[x.y]");
    assert_eq!(val(match_domain(&mut c, "q.c.d", &dl1)), "[*.c.d]");
    assert_eq!(val(match_domain(&mut c, "bad.c.d", &dl1)), "[*.c.d]");
    assert_eq!(val(match_domain(&mut c, "A.B", "a.b")), "[a.b]");
    assert_eq!(val(match_domain(&mut c, "a.b", "!x.y")), "[]");
    assert_eq!(val(match_domain(&mut c, "a.b", "<; a.b;c")), "[a.b]");
    assert_eq!(val(match_domain(&mut c, "a.b", " !  a.b : *")), "[n]");
    assert_eq!(val(match_domain(&mut c, "a.b", "+dl")), "[a.b]");
    assert_eq!(val(match_address(&mut c, "a@b.c", "*@b.c", true)), "[*@b.c]");
    assert_eq!(val(match_address(&mut c, "a@b.c", "a@b.c", true)), "[a@b.c]");
    assert_eq!(val(match_address(&mut c, "xa@b.c", "*a@*.c", true)), "[*a@*.c]");
    assert_eq!(val(match_address(&mut c, "lp1@dom.ex", &format!("@@lsearch;{ls3}"), true)), "[lp1]");
    assert_eq!(val(match_address(&mut c, "lp@dom.ex", &format!("lsearch;{ls3}"), true)), "[x]");
    assert_eq!(val(match_address(&mut c, "a@b.c", "b.c", true)), "[@b.c]");
    assert_eq!(val(match_address(&mut c, "a@b.c", "*.c", true)), "[@*.c]");
    assert_eq!(val(match_address(&mut c, "a@a.b", "*@+dl", true)), "[*@a.b]");
    assert_eq!(val(match_address(&mut c, "a@q.c.d", "*@+dl", true)), "[*@*.c.d]");
    assert_eq!(val(match_address(&mut c, "a@q.c.d", "+al", true)), "[*@*.c.d]");
    assert_eq!(val(match_address(&mut c, "x@y", "+al", true)), "[x@y]");
    assert_eq!(val(match_address(&mut c, "a@a.b", &format!("a@lsearch;{ls3}"), true)), "[a@ab]");
    assert_eq!(val(match_address(&mut c, "a@q.dom.ex", &format!("a@partial-lsearch;{ls3}"), true)), "[a@wild]");
    assert_eq!(val(match_address(&mut c, "a@b.c", "A@B.C", true)), "[A@B.C]");
    assert_eq!(val(match_address(&mut c, "a@b.c", "^a@", true)), "[]");
    assert_eq!(val(match_address(&mut c, "a@myhost.test.ex", "a@@", true)), "[a@myhost.test.ex]");
    assert_eq!(val(match_address(&mut c, "a@myhost.test.ex", "*@@", true)), "[*@myhost.test.ex]");
    assert_eq!(val(match_address(&mut c, "a@b.c", "*@^b\\.", true)), "[*@^b\\.]");
    for (subject, pattern, want) in [
        ("zz@q.dom.ex", "*@partial-lsearch;", "[*@@wild]"),
        ("zz@a.b", "*@partial-lsearch;", "[*@@ab]"),
        ("zz@q.dom.ex", "zz@partial-lsearch;", "[zz@wild]"),
        ("zz@q.dom.ex", "*z@partial-lsearch;", "[*z@wild]"),
        ("xzz@q.dom.ex", "*z@partial-lsearch;", "[*z@@wild]"),
        ("zz@q.dom.ex", "*@lsearch*;", "[*@@*]"),
        ("a@a.b", "*@partial-lsearch;", "[*@ab]"),
        ("zz@a.b", "*@lsearch;", "[*@@ab]"),
        ("zzz@a.b", "*@lsearch;", "[*@l@ab]"),
        ("zzz@a.b", "*@partial-lsearch;", "[*@p@ab]"),
        ("zzz@a.b", "*z@partial-lsearch;", "[*z@@ab]"),
        ("zzz@a.b", "*zz@partial-lsearch;", "[*zz@ab]"),
        ("zzzz@a.b", "*z@partial-lsearch;", "[*z@p@ab]"),
        ("a@a.b", "*@lsearch*;", "[*@ab]"),
    ] {
        assert_eq!(val(match_address(&mut c, subject, &format!("{pattern}{ls3}"), true)), want, "{subject} {pattern}");
    }
    assert_eq!(val(match_address(&mut c, "a@q.c.d", "*@*.c.d", true)), "[*@*.c.d]");
    assert_eq!(val(match_address(&mut c, "ba@a.b", "*a@^a", true)), "[*a@^a]");
    assert_eq!(val(match_local_part(&mut c, "abc", "a*", true)), "[n]");
    assert_eq!(val(match_local_part(&mut c, "abc", "*c", true)), "[*c]");
    assert_eq!(val(match_ip(&mut c, "1.2.3.4", &format!("net-lsearch;{ls3}")).unwrap()), "[ip]");
    assert_eq!(val(match_ip(&mut c, "1.2.3.4", "1.2.3.4").unwrap()), "[]");
    match match_domain(&mut c, "x.c.d", "+dl") {
        ListMatch::Match(m) => assert_eq!(m.numeric, ["x.c.d", "x"]),
        o => panic!("{o:?}"),
    }
    match match_local_part(&mut c, "abc", "*c", true) {
        ListMatch::Match(m) => assert_eq!(m.numeric, ["abc", "ab"]),
        o => panic!("{o:?}"),
    }
    let _ = std::fs::remove_dir_all(d);
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn list_append_round_trips(items in proptest::collection::vec("[a-z:; ]{0,6}", 0..6)) {
            let mut l = String::new();
            for i in &items {
                list_append(&mut l, ':', i);
            }
            // Items that are empty or have outer white space do not
            // survive Exim's splitting unchanged; the rest do.
            if items.iter().all(|i| !i.is_empty() && i.trim() == i && !i.starts_with(':')) {
                prop_assert_eq!(list_items(&l, ListSep::Default), items);
            }
        }

        #[test]
        fn no_panics_on_arbitrary_lists(list in "[ -~]{0,40}", subject in "[ -~]{0,20}") {
            // No '/' items: those read files by name.
            let list = list.replace('/', "x");
            let mut c = TestCtx::new();
            let _ = match_ip(&mut c, "1.2.3.4", &list);
            let _ = match_domain(&mut c, &subject, &list);
            let _ = match_address(&mut c, &subject, &list, true);
            let _ = match_local_part(&mut c, &subject, &list, false);
            let h = HostSubject { address: Some("::1".parse().unwrap()), name: Some(subject.clone()), ip_only: false };
            let _ = match_host(&mut c, &h, &list);
        }

        #[test]
        fn no_panics_parsing(text in "\\PC{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = crate::lookups::lsearch::parse(&text);
            let _ = crate::lookups::LookupSpec::parse(&text);
            let _ = crate::dns::message::parse_answers(&bytes);
            let _ = crate::lookups::redis::parse_server(&text);
            let _ = crate::lookups::redis::split_command(&text);
            let _ = hostitem::classify(&text);
            let _ = list_items(&text, ListSep::Default);
        }
    }
}

// The list cases of Exim's test 0002 (expected values from its
// stdout/0002), with the same definitions and file contents.
#[test]
fn as_exim_test_0002() {
    let d = fixtures();
    std::fs::write(d.join("matchip"), "1.2.3.4:    data for 1.2.3.4\n5.6.7.0/24: data for 5.6.7.0/24\n\"abcd::dcba\": data for abcd::dcba\n").unwrap();
    std::fs::write(d.join("ipls"), "1.2.3.4:           data for 1.2.3.4\n\"abcd::cdab\":      data for abcd::cdab\n192.168.0.0/16     data for 192.168.0.0/16\n*:                 data for *\n\"abcd:abcd::/32\"   data for abcd:abcd::/32\n").unwrap();
    let matchip = d.join("matchip").display().to_string();
    let mut c = TestCtx::new();
    c.def(ListKind::Domain, "dlist", "*.aa.bb : ^xxx(.*)");
    c.def(ListKind::Host, "hlist", &format!("224.11.12.13 : iplsearch;{}", d.join("ipls").display()));
    assert_eq!(yn(match_domain(&mut c, "a.b.c", "x.y.z:a.b.c:p.q.r")), "y");
    assert_eq!(yn(match_domain(&mut c, "a.b.c", "x.y.z:p.q.r")), "n");
    assert_eq!(yn(match_domain(&mut c, "5.aa.bb", "+dlist")), "y");
    assert_eq!(yn(match_domain(&mut c, "xxxyz", "+dlist")), "y");
    assert_eq!(yn(match_domain(&mut c, "xyz", "+dlist")), "n");
    match match_domain(&mut c, "zz.aa.bb", "+dlist") {
        ListMatch::Match(m) => assert_eq!(m.numeric[1], "zz"),
        o => panic!("{o:?}"),
    }
    match match_domain(&mut c, "xxxabc", "^xxx(.*)") {
        ListMatch::Match(m) => assert_eq!(m.numeric[1], "abc"),
        o => panic!("{o:?}"),
    }
    assert_eq!(yn(match_address(&mut c, "x@y.z", "p@q:*@y.z", true)), "y");
    assert_eq!(yn(match_address(&mut c, "x@y.z", "p@q:x@*.z", true)), "y");
    assert_eq!(yn(match_address(&mut c, "a.b.c", "a.b.c", true)), "n");
    assert_eq!(yn(match_local_part(&mut c, "jo", "jack:jill:jo:john", true)), "y");
    assert_eq!(yn(match_local_part(&mut c, "jo", "^\\w", true)), "y");
    let cases: Vec<(&str, String, &str)> = vec![
        ("1.2.3.4", "4.5.6.7:1.2.3.4".into(), "y"),
        ("1.2.3.4", "4.5.6.7:1.2.3.6".into(), "n"),
        ("1.2.3.4", "4.5.6.7:1.2.3.6/24".into(), "y"),
        ("1.2.3.4", "4.5.6.7:1.2.3.6:*".into(), "y"),
        ("1.2.3.4", "4.5.6.7:1.2.3.6:name".into(), "n"),
        ("1.2.3.4", ":4.5.6.7".into(), "n"),
        ("", ":4.5.6.7".into(), "y"),
        ("224.11.12.13", "+hlist".into(), "y"),
        ("224.11.12.14", "+hlist".into(), "n"),
        ("192.168.3.4", "+hlist".into(), "y"),
        ("somename", "+hlist".into(), "Failed: \"somename\" is not an IP address"),
        ("1.2.3.4", format!("lsearch;{matchip}"), "y"),
        ("1.2.3.4", format!("net-lsearch;{matchip}"), "y"),
        ("5.6.7.8", format!("net24-lsearch;{matchip}"), "y"),
        ("abcd::dcba", format!("net-iplsearch;{matchip}"), "y"),
        ("1.2.3.4", "1.2.3".into(), "n"),
        ("1.2.3.4", "1.2.3.4/abc".into(), "n"),
    ];
    for (a, l, want) in cases {
        assert_eq!(ip(&mut c, a, &l), want, "match_ip{{{a}}}{{{l}}}");
    }
    let _ = std::fs::remove_dir_all(d);
}
