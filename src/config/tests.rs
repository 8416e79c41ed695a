//! Unit tests of the configuration reader. Expected texts are Exim 4.96's
//! (checked against `exim -C ... -bP` while writing them).

use std::path::Path;

use super::drivers::DriverClass;
use super::main_table::MAIN_OPTIONS;
use super::value::{self, print_time, print_value, Kind, Value};
use super::{Config, ConfigError, ListKind};

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_bytes(Path::new("/t/conf"), text.as_bytes(), &[])
}

fn load_d(text: &str, defines: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let d: Vec<(String, String)> = defines.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    Config::from_bytes(Path::new("/t/conf"), text.as_bytes(), &d)
}

fn err(text: &str) -> String {
    load(text).err().expect("configuration should be refused").to_string()
}

fn opt(cfg: &Config, name: &str) -> String {
    cfg.option_text(name).expect("known option")
}

// ----- tables -----

fn assert_sorted(name: &str, table: &[super::OptionDef]) {
    for w in table.windows(2) {
        assert!(w[0].name < w[1].name, "{name}: {} before {}", w[0].name, w[1].name);
    }
}

#[test]
fn tables_are_sorted() {
    assert_sorted("main", MAIN_OPTIONS);
    for class in [DriverClass::Router, DriverClass::Transport, DriverClass::Authenticator] {
        assert_sorted(class.word(), class.generic());
        for w in class.drivers().windows(2) {
            assert!(w[0].0 < w[1].0);
        }
        for (d, t) in class.drivers() {
            assert_sorted(d, t);
        }
    }
}

#[test]
fn table_defaults_parse() {
    for d in MAIN_OPTIONS {
        if let Some(text) = d.default {
            if d.kind != Kind::Str && d.kind != Kind::Uid && d.kind != Kind::Gid {
                assert!(value::parse(d.kind, text, d.name).is_ok(), "default of {}", d.name);
            }
        }
    }
    assert_eq!(MAIN_OPTIONS.len(), 272);
}

// ----- value parsers -----

#[test]
fn integers() {
    assert_eq!(value::read_int("010", "x", false), Ok(8));
    assert_eq!(value::read_int("0x1f", "x", false), Ok(31));
    assert_eq!(value::read_int("3K", "x", false), Ok(3072));
    assert_eq!(value::read_int("-5", "x", false), Ok(-5));
    assert_eq!(value::read_int("x", "fr", false), Err("integer expected for fr".into()));
    assert_eq!(value::read_int("12x", "fr", false), Err("extra characters follow integer value for fr".into()));
    assert_eq!(
        value::read_int("5 # c", "fr", false),
        Err("extra characters follow integer value for fr (# is comment only at line start)".into())
    );
    assert_eq!(
        value::read_int("2G", "fr", false),
        Err("absolute value of integer \"2G\" is too large (overflow)".into())
    );
    assert_eq!(value::read_int("0680", "mode", true), Err("extra characters follow octal integer value for mode".into()));
    assert_eq!(value::read_int("", "fr", false), Err("integer expected for fr".into()));
}

#[test]
fn kilobyte_integers() {
    assert_eq!(value::read_kint("1536", "c"), Ok(1536));
    assert_eq!(value::read_kint("3M", "c"), Ok(3072));
    assert_eq!(value::read_kint("4000G", "c"), Ok(4000 * 1024 * 1024));
    assert_eq!(
        value::read_kint("4000Z", "c"),
        Err("absolute value of integer \"4000Z\" is too large (overflow)".into())
    );
    assert_eq!(value::read_kint("40MK", "c"), Err("extra characters follow integer value for c".into()));
    assert_eq!(print_value(Kind::KInt, &Value::Int(1536)).unwrap(), "1536K");
    assert_eq!(print_value(Kind::KInt, &Value::Int(4000 * 1024 * 1024)).unwrap(), "4000G");
    assert_eq!(print_value(Kind::MkInt, &Value::Int(100 * 1024)).unwrap(), "100K");
    assert_eq!(print_value(Kind::MkInt, &Value::Int(2049)).unwrap(), "2049");
}

#[test]
fn fixed_point() {
    assert_eq!(value::read_fixed("1.2345", "q"), Ok(1234));
    assert_eq!(print_value(Kind::Fixed, &Value::Int(2000)).unwrap(), "2.0");
    assert_eq!(print_value(Kind::Fixed, &Value::Int(1250)).unwrap(), "1.25");
    assert_eq!(print_value(Kind::Fixed, &Value::Int(-1)), None);
    assert_eq!(value::read_fixed("x", "q"), Err("fixed-point number expected for q".into()));
    assert_eq!(value::read_fixed("1.5x", "q"), Err("extra characters follow fixed-point value for q".into()));
    assert_eq!(
        value::read_fixed("4000000000000000.123", "q"),
        Err("integer \"4000000000000000.123\" is too large (overflow)".into())
    );
}

#[test]
fn times() {
    assert_eq!(value::read_time_option("1h30m", "t"), Ok(5400));
    assert_eq!(value::read_time_option("5", "t"), Err("invalid time value for t".into()));
    assert_eq!(value::read_time_option("", "t"), Err("invalid time value for t".into()));
    assert_eq!(print_time(5400), "1h30m");
    assert_eq!(print_time(0), "0s");
    assert_eq!(print_time(100000000), "165w2d9h46m40s");
    assert_eq!(value::read_time_list("1h : 2h:3h", "d"), Ok(vec![3600, 7200, 10800]));
    assert_eq!(value::read_time_list("1h:2h:90m", "d"), Err("time value out of order for d".into()));
    assert_eq!(value::read_time_list("1h:x", "d"), Err("invalid time value for d".into()));
}

#[test]
fn booleans_and_strings() {
    assert_eq!(value::read_bool_word("YES", "q"), Ok(true));
    assert_eq!(
        value::read_bool_word("maybe", "q"),
        Err("\"maybe\" is not a valid value for the \"q\" option".into())
    );
    assert_eq!(value::read_string("\"a\\x41\\101\\\"b\"", "q"), Ok("aAA\"b".into()));
    assert_eq!(value::read_string("\"ab", "q"), Err("missing quote at end of string value for q".into()));
    assert_eq!(value::read_string("\"ab\" x", "q"), Err("extra characters follow string value for q".into()));
    assert_eq!(value::read_string("plain \"text", "q"), Ok("plain \"text".into()));
    assert_eq!(value::string_printing("a\tb\n"), "a\\tb\\n");
}

#[test]
fn users_and_groups() {
    assert_eq!(value::parse(Kind::Uid, "0", "u"), Ok(Value::Id(0)));
    assert_eq!(value::parse(Kind::Uid, "no-such-user-x", "u"), Err("user no-such-user-x was not found".into()));
    assert_eq!(value::parse(Kind::GidList, "0:0", "g"), Ok(Value::IdList(vec![0, 0])));
    assert_eq!(value::parse(Kind::GidList, "nogroupx", "g"), Err("group nogroupx was not found".into()));
}

// ----- preprocessor -----

#[test]
fn comments_blank_lines_and_continuations() {
    let c = load("# c\n\n  percent_hack_domains = a : \\\n  # inside\n   b\nfreeze_tell = x \\\n\nqualify_recipient = q\n").unwrap();
    assert_eq!(opt(&c, "percent_hack_domains"), "percent_hack_domains = a : b");
    assert_eq!(opt(&c, "freeze_tell"), "freeze_tell = x");
    assert_eq!(opt(&c, "qualify_recipient"), "qualify_recipient = q");
}

#[test]
fn macros_substitute_in_order() {
    let c = load("ABCD_XYZ = long\nABCD = short\nEMPTY =\nqualify_recipient = ABCD_XYZ.ABCD\nEMPTY\n").unwrap();
    assert_eq!(opt(&c, "qualify_recipient"), "qualify_recipient = long.short");
    let c = load("L = a\nL == L:b\nfreeze_tell = L\n").unwrap();
    assert_eq!(opt(&c, "freeze_tell"), "freeze_tell = a:b");
    assert_eq!(c.expand_macros("x L y"), "x a:b y");
}

#[test]
fn macro_errors() {
    assert_eq!(
        err("M = 1\nM = 2\n"),
        "Exim configuration error:\n  macro \"M\" is already defined (use \"==\" if you want to redefine it)"
    );
    assert_eq!(
        err("ABC = 1\nABCD = 2\n"),
        "Exim configuration error:\n  \"ABCD\" cannot be defined as a macro because previously defined macro \"ABC\" is a substring"
    );
    assert_eq!(err("N == 1\n"), "Exim configuration error:\n  can't redefine an undefined macro \"N\"");
    assert_eq!(err("M 3\n"), "Exim configuration error in line 1 of /t/conf:\n  malformed macro definition");
    let long = format!("{} = 1\n", "M".repeat(64));
    assert_eq!(err(&long), "Exim configuration error in line 1 of /t/conf:\n  macro name too long (maximum is 63 characters)");
}

#[test]
fn command_line_macros_win() {
    let c = load_d("V = file\nfreeze_tell = V\n", &[("V", "cmd")]).unwrap();
    assert_eq!(opt(&c, "freeze_tell"), "freeze_tell = cmd");
    assert_eq!(super::parse_define(" OPT = a = b "), Ok(("OPT".into(), "a = b ".into())));
    assert!(super::parse_define("lower").is_err());
}

#[test]
fn conditionals() {
    let text = ".ifdef AA\nfreeze_tell = aa\n.elifdef BB\nfreeze_tell = bb\n.else\nfreeze_tell = none\n.endif\n";
    assert_eq!(opt(&load(text).unwrap(), "freeze_tell"), "freeze_tell = none");
    assert_eq!(opt(&load_d(text, &[("AA", "")]).unwrap(), "freeze_tell"), "freeze_tell = aa");
    assert_eq!(opt(&load_d(text, &[("BB", "")]).unwrap(), "freeze_tell"), "freeze_tell = bb");
    assert_eq!(
        err(".ifdef X\n"),
        "Exim configuration error in line 1 of /t/conf:\n  Unexpected end of configuration file: .endif missing"
    );
    assert_eq!(err(".else\n"), "Exim configuration error in line 1 of /t/conf:\n  .else without matching .ifdef");
    // Built-in feature macros are seen only where a name starts with "_".
    let c = load(".ifdef _HAVE_TLS\nfreeze_tell = tls\n.endif\n").unwrap();
    assert_eq!(opt(&c, "freeze_tell"), "freeze_tell = tls");
}

#[test]
fn includes_and_bom() {
    let dir = std::env::temp_dir().join(format!("rexim-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("inc"), "freeze_tell = included\n").unwrap();
    std::fs::write(dir.join("bom"), "\u{feff}freeze_tell = x\n").unwrap();
    let main = dir.join("main");
    std::fs::write(&main, ".include inc\n.include_if_exists /nonexistent/x\n").unwrap();
    let c = Config::load(Some(&main), &[]).unwrap();
    assert_eq!(opt(&c, "freeze_tell"), "freeze_tell = included");
    assert_eq!(c.config_dir(), dir.to_string_lossy());
    std::fs::write(&main, ".include bom\n").unwrap();
    let e = Config::load(Some(&main), &[]).unwrap_err();
    assert_eq!(e.message, "found unexpected BOM (Byte Order Mark)");
    assert!(e.file.unwrap().ends_with("/bom"));
    std::fs::write(&main, ".include_if_exists rel\n").unwrap();
    let e = Config::load(Some(&main), &[]).unwrap_err();
    assert_eq!(e.message, ".include specifies a non-absolute path \"rel\"");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ----- main options, lists, sections -----

#[test]
fn main_option_errors() {
    assert_eq!(err("\nfoo = 1\n"), "Exim configuration error in line 2 of /t/conf:\n  main option \"foo\" unknown");
    assert!(err("no_qualify_domain = x\n").ends_with("negation prefix applied to a non-boolean option"));
    assert!(err("qualify_domain\n").ends_with("unexpected end of line (data missing) after qualify_domain"));
    assert!(err("qualify_domain : x\n").ends_with("missing \"=\" after qualify_domain"));
    assert!(err("no_queue_only = true\n").ends_with("extra characters follow boolean option no_queue_only"));
    assert!(err("freeze_tell = a\nfreeze_tell = b\n").ends_with("\"freeze_tell\" option set for the second time"));
}

#[test]
fn typed_access_and_aliases() {
    let c = load("hide mysql_servers = secret\nproxy_required_hosts = 10.0.0.1\nqueue_only\nrecipients_max = 1K\n").unwrap();
    assert_eq!(c.option("hosts_proxy"), Some(&Value::Str("10.0.0.1".into())));
    assert_eq!(c.option_str("proxy_required_hosts"), Some("10.0.0.1"));
    assert_eq!(c.main.get_bool("queue_only"), Some(true));
    assert_eq!(c.main.get_int("recipients_max"), Some(1024));
    assert!(c.main.slot("mysql_servers").unwrap().secure);
    assert_eq!(c.option_str("exim_version"), Some("4.96"));
    assert_eq!(c.option_str("qualify_recipient"), c.option_str("primary_hostname"));
}

#[test]
fn named_lists() {
    let c = load("domainlist local = @ : localhost\nhide hostlist relay = 1.2.3.4\naddresslist_cache a = $x\n").unwrap();
    assert_eq!(c.named_list(ListKind::Domain, "local").unwrap().value, "@ : localhost");
    assert!(c.named_list(ListKind::Host, "relay").unwrap().hide);
    assert!(c.named_list(ListKind::Address, "a").unwrap().cacheable);
    assert!(err("domainlist d = a\ndomainlist d = b\n").ends_with("duplicate name \"d\" for a named domain list"));
    assert!(err("hostlist h 1\n").ends_with("missing '=' after \"h\""));
}

#[test]
fn sections() {
    let text = "begin acl\n\nrcpt:\n  accept hosts = :\n  deny !verify = recipient\n    message = no\n\
begin routers\n\nr:\n  driver = accept\n  transport = t\n  no_verify\n\
begin transports\n\nt:\n  driver = smtp\n  port = 2525\n  tls_verify_cert_hostname = *\n\
begin retry\n* * F,1h,1m\n";
    let c = load(text).unwrap();
    let acl = c.acl("rcpt").unwrap();
    assert_eq!(acl.statements.len(), 2);
    assert_eq!(acl.statements[1].verb, "deny");
    let conds = &acl.statements[1].conditions;
    assert_eq!((conds[0].name.as_str(), conds[0].negated, conds[0].value.as_str()), ("verify", true, "recipient"));
    assert_eq!((conds[1].name.as_str(), conds[1].line), ("message", 6));
    let r = c.router("r").unwrap();
    assert_eq!(r.driver.as_deref(), Some("accept"));
    assert_eq!(r.option("verify_sender"), Some(&Value::Bool(false)));
    let t = c.transport("t").unwrap();
    assert_eq!(t.option("port"), Some(&Value::Str("2525".into())));
    assert_eq!(t.option("tls_verify_cert_hostnames"), Some(&Value::Str("*".into())));
    assert_eq!(c.retry[0].text, "* * F,1h,1m");
}

#[test]
fn section_errors() {
    assert!(err("begin foo\n").ends_with("\"foo\" is not a known configuration section name"));
    assert!(err("begin acl\nbegin acls\n").ends_with("\"acls\" section is repeated in the configuration file"));
    assert!(err("begin acl\na:\n  frob x\n").ends_with("error in ACL: unknown ACL verb \"frob\" in \"frob x\""));
    assert!(err("begin routers\nr:\n  driver = nosuch\n").ends_with("router r: cannot find router driver \"nosuch\""));
    assert!(err("begin routers\nr:\n  data = x\n")
        .ends_with("option \"data\" unknown (\"driver\" must be specified before any private options)"));
    assert_eq!(err("begin routers\nr:\n  domains = x\n"), "Exim configuration error:\n  no driver defined for router \"r\"");
    assert_eq!(
        err("begin routers\nr:\n  driver = accept\n"),
        "Exim configuration error:\n  r router:\n  a transport is required for this router"
    );
}

#[test]
fn driver_defaults_from_init() {
    let c = load("begin transports\nmbox:\n  driver = appendfile\n  file = /x\nmd:\n  driver = appendfile\n  directory = /d\n  maildir_format\n").unwrap();
    let mbox = c.transport("mbox").unwrap();
    assert_eq!(mbox.option("check_string"), Some(&Value::Str("From ".into())));
    assert_eq!(mbox.option("retry_use_local_part"), Some(&Value::Bool(true)));
    assert_eq!(c.transport("md").unwrap().option("check_string"), Some(&Value::Unset));
}

#[test]
fn error_display_and_caret() {
    let e = load("qualify_domain = \"x\" y\n").unwrap_err();
    assert_eq!(e.to_string(), "Exim configuration error in line 1 of /t/conf:\n  extra characters follow string value for qualify_domain");
    assert_eq!(e.caret().unwrap(), "  qualify_domain = \"x\" y\n                   ^");
}

#[test]
fn expansion_errors_are_kept_not_fatal() {
    let c = load("smtp_banner = ${if eq{a}{b} {x}\n").unwrap();
    let issues = c.expansion_issues();
    assert_eq!(issues.len(), 1);
    assert_eq!((issues[0].option.as_str(), issues[0].line, issues[0].column), ("smtp_banner", 1, 15));
    assert!(matches!(c.main.slot("smtp_banner").unwrap().compiled, Some(Err(_))));
}

#[test]
fn embedded_default_configuration_loads() {
    let c = Config::from_bytes(Path::new(super::EMBEDDED_NAME), super::DEFAULT_CONFIGURATION.as_bytes(), &[]).unwrap();
    assert!(c.acl("check_recipient").is_some());
    assert_eq!(c.routers.len(), 2);
    assert!(c.expansion_issues().is_empty());
}

/// Load time of Debian's generated configuration, in process (run with
/// `cargo test --release -- --ignored config_load_time --nocapture`).
#[test]
#[ignore]
fn config_load_time() {
    let p = Path::new("/work/shared/configs/debian/config.autogenerated");
    if !p.exists() {
        return;
    }
    let n = 200;
    let t = std::time::Instant::now();
    for _ in 0..n {
        Config::load(Some(p), &[]).unwrap();
    }
    println!("Config::load of {}: {:.3} ms", p.display(), t.elapsed().as_secs_f64() * 1000.0 / n as f64);
}

#[test]
fn retry_and_rewrite_rules() {
    let c = load("begin retry\n*.example  timeout_connect_MX  F,2h,15m; G,16h,1h,1.5\n* * senders=a@b F,1h,1m\n\
begin rewrite\n*@old.example  $1@new.example  Fh\n").unwrap();
    let r = &c.retry_rules[0];
    assert_eq!((r.pattern.as_str(), r.error.as_str()), ("*.example", "timeout_connect_MX"));
    assert_eq!(r.rules[1], super::RetryRule { letter: 'G', timeout: 16 * 3600, p1: 3600, p2: 1500 });
    assert_eq!(c.retry_rules[1].senders.as_deref(), Some("a@b"));
    assert_eq!(c.rewrite_rules[0].flags, "Fh");
    assert!(err("begin retry\n* * F,2h\n").ends_with("comma expected"));
    assert!(err("begin retry\n* nosuch F,1h,1m\n").ends_with("unknown or malformed retry error \"nosuch\""));
    assert!(err("begin retry\n* * G,1h,1m,0.5\n").ends_with("bad parameters for retry rule"));
    assert!(err("begin rewrite\n*@a $1@b z\n")
        .ends_with("unknown rewrite flag character 'z' (could be missing quotes round replacement item)"));
}

#[test]
fn repeatable_options_accumulate() {
    let c = load("begin routers\nr:\n  driver = redirect\n  data = x\n  headers_remove = A:\n  headers_remove = <; B ; C\n  condition = a\n  condition = b\n").unwrap();
    let r = c.router("r").unwrap();
    assert_eq!(r.option("headers_remove"), Some(&Value::Str("A:B:C".into())));
    assert_eq!(r.option("condition"), Some(&Value::Str("${if and{{bool_lax{a}}{bool_lax{b}}}}".into())));
    assert_eq!(super::options::list_items("a::b : c", ':'), vec!["a:b", "c"]);
}

#[test]
fn acted_on_table_is_sorted() {
    assert!(super::ACTED_ON.windows(2).all(|w| w[0] < w[1]));
}
