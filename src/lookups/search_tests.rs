//! search_find() tests; expected values recorded from Exim 4.96 with
//! `${lookup{KEY}TYPE{FILE}{$1|$2|$value}{n}}` on the same files.

use super::*;
use crate::dns::fake::FakeResolver;

const LS1: &str = "abc: data for abc\nFoo  bar baz  \n  continued line\n\n# comment\n  more\n\"quoted key:x\" : qv\n\"esc\\tkey\" tab\nempty:\ncolon:  :fail:\n*: star\n*.dom.ex: wild\n*@dom.ex: atdom\nx@dom.ex: exact\nkey2\n  cont\nlast:last value";

struct Fx {
    dir: std::path::PathBuf,
    l: Lookups,
}

fn fx() -> Fx {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!("rexim-lookups-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(dir.join("dd/sub")).unwrap();
    std::fs::write(dir.join("dd/file1"), "").unwrap();
    std::fs::write(dir.join("ls1"), LS1).unwrap();
    std::fs::write(dir.join("ls3"), "a.b: ab\n*.dom.ex: wild\n*: *\n").unwrap();
    std::fs::write(dir.join("ip1"), "1.2.3.4: one\n10.0.0.0/8 ten\n\"abcd::cdab\": v6\n\"abcd:abcd::/32\" v6net\n0.0.0.0/0 all\n").unwrap();
    Fx { dir, l: Lookups::new(Arc::new(FakeResolver::default())) }
}

impl Fx {
    /// Format like the Exim expansion used for recording.
    fn run(&mut self, key: &str, ltype: &str, file: &str) -> String {
        let path = if file.starts_with('/') { file.to_string() } else { self.dir.join(file).display().to_string() };
        let spec = match LookupSpec::parse(ltype) {
            Ok(s) => s,
            Err(e) => return format!("Failed: {e}"),
        };
        match self.l.find(&spec, &path, key, &mut NoExpand) {
            Err(e) => format!("Failed: {e}"),
            Ok(f) => match f.outcome {
                LookupOutcome::Found(v) => {
                    let (a, b) = f.numeric.unwrap_or_default();
                    format!("[{a}|{b}|{v}]")
                }
                LookupOutcome::NotFound => "[n]".into(),
                LookupOutcome::Defer(m) => format!("Failed: lookup of \"{key}\" gave DEFER: {m}"),
            },
        }
    }
}

impl Drop for Fx {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn lsearch_family() {
    let mut f = fx();
    let d = f.dir.display().to_string();
    let cases = [
        ("abc", "lsearch", "ls1", "[||data for abc]"),
        ("ABC", "lsearch", "ls1", "[||data for abc]"),
        ("foo", "lsearch", "ls1", "[||bar baz continued line]"),
        ("quoted key:x", "lsearch", "ls1", "[||qv]"),
        ("esc\tkey", "lsearch", "ls1", "[||tab]"),
        ("empty", "lsearch", "ls1", "[||]"),
        ("colon", "lsearch", "ls1", "[||:fail:]"),
        ("key2", "lsearch", "ls1", "[|| cont]"),
        ("last", "lsearch", "ls1", "[||last value]"),
        ("nokey", "lsearch", "ls1", "[n]"),
        ("", "lsearch", "ls1", "[n]"),
        ("nokey", "lsearch*", "ls1", "[nokey||star]"),
        ("nokey", "partial-lsearch*", "ls1", "[nokey||star]"),
        ("a.b.dom.ex", "partial-lsearch", "ls1", "[a.b|dom.ex|wild]"),
        ("dom.ex", "partial-lsearch", "ls1", "[|dom.ex|wild]"),
        ("q.dom.ex", "partial-lsearch", "ls1", "[q|dom.ex|wild]"),
        ("y@dom.ex", "lsearch*@", "ls1", "[y||atdom]"),
        ("x@dom.ex", "lsearch*@", "ls1", "[||exact]"),
        ("y@other", "lsearch*@", "ls1", "[y@other||star]"),
        ("abc", "lsearch,ret=key", "ls1", "[||abc]"),
        ("a.b.dom.ex", "partial2-lsearch", "ls3", "[a.b|dom.ex|wild]"),
        ("zz.yy", "partial0-lsearch", "ls3", "[zz.y||*]"),
        ("abc.def", "partial0-lsearch", "ls3", "[abc.de||*]"),
        ("x", "partial0-lsearch", "ls3", "[||*]"),
        ("abc.def", "partial1-lsearch", "ls3", "[n]"),
        ("a.b.dom.ex", "partial(.)lsearch", "ls3", "[n]"),
        ("a.b", "lsearch*x", "ls3", "[||ab]"),
        ("a.b", "partial-lsearch,ret=key", "ls3", "[|a.b|a.b]"),
        ("x.y.dom.ex", "partial-lsearch,ret=key", "ls3", "[x.y|dom.ex|x.y.dom.ex]"),
        ("a.b", "lsearch*,cache=no_rd", "ls3", "[||ab]"),
        ("a.b", "lsearch,ret=full", "ls3", "[||a.b: ab]"),
        ("a.b", "lsearch,foo=bar", "ls3", "[||ab]"),
        ("x.y", "wildlsearch", "ls1", "[||star]"),
        ("q.dom.ex", "nwildlsearch", "ls3", "[||wild]"),
        ("1.2.3.4", "iplsearch", "ip1", "[||one]"),
        ("10.9.9.9", "iplsearch", "ip1", "[||ten]"),
        ("abcd::cdab", "iplsearch", "ip1", "[||v6]"),
        ("abcd:abcd::1", "iplsearch", "ip1", "[||v6net]"),
        ("11.1.1.1", "iplsearch", "ip1", "[||all]"),
        ("1.2.3.4", "iplsearch,ret=full", "ip1", "[||1.2.3.4: one]"),
        ("foo", "iplsearch", "ip1", "Failed: lookup of \"foo\" gave DEFER: \"foo\" is not a valid iplsearch key (an IP address, with optional CIDR mask, is wanted): in a host list, use net-iplsearch as the search type"),
        ("abc", "lsearch", "/nonexistent", "Failed: failed to open /nonexistent for linear search: No such file or directory"),
        ("abc", "nosuch", "ls1", "Failed: unknown lookup type \"nosuch\""),
        ("a.b", "partialx-lsearch", "ls1", "Failed: format error in lookup type \"partialx-lsearch\""),
    ];
    for (k, t, file, want) in cases {
        assert_eq!(f.run(k, t, file), want, "{k} {t} {file}");
    }
    assert_eq!(f.run("abc", "lsearch", &d), format!("Failed: {d} is not a regular file (lsearch lookup)"));
}

#[test]
fn dsearch() {
    let mut f = fx();
    let dd = f.dir.join("dd").display().to_string();
    assert_eq!(f.run("file1", "dsearch", &dd), "[||file1]");
    assert_eq!(f.run("file1", "dsearch,ret=full", &dd), format!("[||{dd}/file1]"));
    assert_eq!(f.run("sub", "dsearch,filter=file", &dd), format!("Failed: lookup of \"sub\" gave DEFER: {dd}/sub: lstat: Unknown error -4"));
    assert_eq!(f.run("sub", "dsearch,filter=dir", &dd), "[||sub]");
    assert_eq!(f.run(".", "dsearch,filter=subdir", &dd), format!("Failed: lookup of \".\" gave DEFER: {dd}/.: lstat: Unknown error -4"));
    assert_eq!(f.run(".", "dsearch,filter=dir", &dd), "[||.]");
    assert_eq!(f.run("a/b", "dsearch", &dd), "Failed: lookup of \"a/b\" gave DEFER: key for dsearch lookup contains a slash: a/b");
    assert_eq!(f.run("nope", "dsearch", &dd), "[n]");
    assert_eq!(f.run("file1", "dsearch", "/nonexist"), "Failed: failed to open /nonexist for directory search: No such file or directory");
    assert_eq!(f.run("file1", "dsearch,foo=bar", &dd), "[||file1]");
}

#[test]
fn cache_no_rd_rereads() {
    let mut f = fx();
    let p = f.dir.join("ls3").display().to_string();
    assert_eq!(f.run("a.b", "lsearch", &p), "[||ab]");
    std::fs::write(&p, "a.b: changed and longer\n").unwrap();
    // Cached result, as Exim within one process...
    assert_eq!(f.run("a.b", "lsearch", &p), "[||ab]");
    // ...unless cache=no_rd.
    assert_eq!(f.run("a.b", "lsearch,cache=no_rd", &p), "[||changed and longer]");
    f.l.tidyup();
    assert_eq!(f.run("a.b", "lsearch", &p), "[||changed and longer]");
}

#[test]
fn big_iplsearch_is_indexed_once() {
    let f = fx();
    let p = f.dir.join("big");
    let mut text = String::new();
    for i in 0..100_000u32 {
        let a = 0x0a00_0000 + i * 4;
        text.push_str(&format!("{}.{}.{}.{}/30: net{i}\n", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255));
    }
    std::fs::write(&p, text).unwrap();
    let mut l = Lookups::new(Arc::new(FakeResolver::default()));
    let spec = LookupSpec::parse("iplsearch,cache=no_rd").unwrap();
    let ps = p.display().to_string();
    let t = std::time::Instant::now();
    let first = l.find(&spec, &ps, "10.0.0.1", &mut NoExpand).unwrap();
    assert_eq!(first.outcome, LookupOutcome::Found("net0".into()));
    let build = t.elapsed();
    let t = std::time::Instant::now();
    for i in 0..1000u32 {
        let a = 0x0a00_0000 + i * 397;
        let key = format!("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
        assert_eq!(l.find(&spec, &ps, &key, &mut NoExpand).unwrap().outcome, LookupOutcome::Found(format!("net{}", a.wrapping_sub(0x0a00_0000) / 4)));
    }
    // 1000 indexed lookups must cost far less than one scan/parse.
    assert!(t.elapsed() < build * 5 + std::time::Duration::from_millis(200), "lookups {:?} vs build {:?}", t.elapsed(), build);
}

/// A stand-in expander: "${" fails like Exim's expansion of "${if".
struct FailingDollar;

impl LookupEnv for FailingDollar {
    fn expand(&mut self, s: &str) -> crate::lists::Expanded {
        if s.contains("${") {
            crate::lists::Expanded::Error("condition name expected, but found \"\"".into())
        } else {
            crate::lists::Expanded::Ok(s.replace("\\N", ""))
        }
    }
}

// Recorded from Exim 4.96 with the same files.
#[test]
fn wild_lookups() {
    let mut f = fx();
    let ls3 = f.dir.join("ls3").display().to_string();
    std::fs::write(f.dir.join("wl1"), "^\\N(?i)ab\\d+\\N: regex\n\"^q:x\" quoted\n*.wild.ex: star\nLiteral.Ex: lit\n${if eq{1}{1}{exp.ex}{no}}: expanded\n").unwrap();
    std::fs::write(f.dir.join("nwl1"), format!("^ab\\d+$: regex\n\"^q:x\" quoted\n^(?-i)CS$: cs\n*.wild.ex: star\nLiteral.Ex: lit\n@: at\nlsearch;{ls3}: nested\n!zz: notzz\n")).unwrap();
    let wl1 = f.dir.join("wl1").display().to_string();
    let nwl1 = f.dir.join("nwl1").display().to_string();
    let run = |f: &mut Fx, key: &str, t: &str, file: &str| {
        let spec = LookupSpec::parse(t).unwrap();
        match f.l.find(&spec, file, key, &mut FailingDollar).unwrap().outcome {
            LookupOutcome::Found(v) => format!("[{v}]"),
            LookupOutcome::NotFound => "[n]".into(),
            LookupOutcome::Defer(m) => format!("Failed: lookup of \"{key}\" gave DEFER: {m}"),
        }
    };
    assert_eq!(run(&mut f, "AB12", "wildlsearch", &wl1), "[regex]");
    assert_eq!(run(&mut f, "q:x", "wildlsearch", &wl1), "[quoted]");
    assert_eq!(run(&mut f, "a.WILD.ex", "wildlsearch", &wl1), "[star]");
    assert_eq!(run(&mut f, "literal.ex", "wildlsearch", &wl1), "[lit]");
    assert_eq!(run(&mut f, "exp.ex", "wildlsearch", &wl1), "Failed: lookup of \"exp.ex\" gave DEFER: ");
    assert_eq!(f.l.log.last().unwrap(), "failed to expand \"${if\" while checking a list: condition name expected, but found \"\"");
    assert_eq!(run(&mut f, "ab12", "nwildlsearch", &nwl1), "[regex]");
    assert_eq!(run(&mut f, "q:x", "nwildlsearch", &nwl1), "[quoted]");
    assert_eq!(run(&mut f, "cs", "nwildlsearch", &nwl1), "[notzz]");
    assert_eq!(run(&mut f, "CS", "nwildlsearch", &nwl1), "[cs]");
    assert_eq!(run(&mut f, "a.b", "nwildlsearch", &nwl1), "[nested]");
    assert_eq!(run(&mut f, "@", "nwildlsearch", &nwl1), "[at]");
    assert_eq!(run(&mut f, "zz", "nwildlsearch", &nwl1), "[n]");
}

// The cache layer sequence of Exim's test 2500: no_rd reads afresh but
// still writes the cache, which later plain lookups use.
#[test]
fn cache_layer_as_exim_2500() {
    let mut f = fx();
    let dir = f.dir.display().to_string();
    let data = f.dir.join("test-data");
    assert_eq!(f.run("test-data", "dsearch", &dir), "[n]");
    std::fs::write(&data, "x").unwrap();
    assert_eq!(f.run("test-data", "dsearch", &dir), "[n]");
    assert_eq!(f.run("test-data", "dsearch,cache=no_rd", &dir), "[||test-data]");
    std::fs::remove_file(&data).unwrap();
    assert_eq!(f.run("test-data", "dsearch", &dir), "[||test-data]");
    assert_eq!(f.run("test-data", "dsearch,cache=no_rd", &dir), "[n]");
    assert_eq!(f.run("test-data", "dsearch", &dir), "[n]");
    assert_eq!(f.run("file1", "dsearch,ret=key", &format!("{dir}/dd")), "[||file1]");
}
