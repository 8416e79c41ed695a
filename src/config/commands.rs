//! The `-bP` and `-bV` commands, and the built-in feature macros.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::drivers::DriverClass;
use super::error::ConfigError;
use super::{print, texts, Config, CONFIGURE_FILE_PATH, MAIN_OPTIONS};

/// Lookups rexim supports (also the _HAVE_LOOKUP_* macros).
const LOOKUPS: &str = "lsearch wildlsearch nwildlsearch iplsearch dnsdb dsearch redis";
/// Build features rexim supports, in Exim's `-bV` wording.
const SUPPORT: &str = "IPv6 PRDR PROXY TLS DSN";
const AUTHENTICATORS: &str = "plaintext";
const ROUTERS: &str = "accept dnslookup ipliteral iplookup manualroute queryprogram redirect";
const TRANSPORTS: &str = "appendfile/maildir/mailstore/mbx autoreply lmtp pipe smtp";

/// The built-in macros: _HAVE_* for supported features, _DRIVER_* for the
/// drivers, _OPT_* for every option name (Exim's classes; value "y").
pub fn builtin_macros() -> Vec<(String, String)> {
    // Built at every start-up (about 700 names): one allocation per name,
    // no formatting machinery.
    fn name(parts: &[&str]) -> (String, String) {
        let mut n = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            n.push_str(p);
        }
        n.make_ascii_uppercase();
        (n, "y".to_string())
    }
    let mut out = Vec::with_capacity(768);
    for f in ["DSN", "IPV6", "PIPE_CONNECT", "PRDR", "PROXY", "TLS", "AUTH_PLAINTEXT"] {
        out.push(name(&["_HAVE_", f]));
    }
    for l in ["LSEARCH", "DNSDB", "DSEARCH", "REDIS"] {
        out.push(name(&["_HAVE_LOOKUP_", l]));
    }
    out.push(name(&["_DRIVER_AUTHENTICATOR_PLAINTEXT"]));
    for class in [DriverClass::Router, DriverClass::Transport] {
        for (d, _) in class.drivers() {
            out.push(name(&["_DRIVER_", class.word(), "_", d]));
        }
    }
    for o in MAIN_OPTIONS {
        out.push(name(&["_OPT_MAIN_", o.name]));
    }
    for class in [DriverClass::Router, DriverClass::Transport, DriverClass::Authenticator] {
        let cw = class.word();
        for o in class.generic() {
            if !o.name.starts_with('*') {
                out.push(name(&["_OPT_", cw, "S_", o.name]));
            }
        }
        for (d, table) in class.drivers() {
            for o in table.iter().filter(|o| !o.name.starts_with('*')) {
                out.push(name(&["_OPT_", cw, "_", d, "_", o.name]));
            }
        }
    }
    out
}

fn admin() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// Exim's timestamp for messages written to stderr.
fn timestamp() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The timestamp of an error's log line (with the zone under log_timezone).
fn error_timestamp(e: &ConfigError) -> String {
    if e.log_timezone {
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z").to_string()
    } else {
        timestamp()
    }
}

/// Report a configuration error the way Exim does for `-bP`-like commands
/// (`LOG: PANIC DIE` then the indented text).
fn report_panic(e: &ConfigError) {
    let head = if e.bare {
        "LOG: MAIN PANIC DIE"
    } else if e.panic_only {
        "LOG: PANIC"
    } else {
        "LOG: PANIC DIE"
    };
    eprintln!("{head}\n  {e}");
    caret(e);
    write_panic_log(e);
}

/// Write a configuration error to the panic log, as Exim does for
/// LOG_PANIC, when log_file_path names files (only when it was set in the
/// configuration, or under the testsuite runner: rexim does not write to
/// the build-time default path).
fn write_panic_log(e: &ConfigError) {
    // Under the testsuite runner (REXIM_TESTSUITE=DIR) the build-time log
    // path is DIR/spool/log/%slog, as in Exim's test builds.
    let testsuite = std::env::var("REXIM_TESTSUITE").ok().map(|d| format!("{d}/spool/log/%slog"));
    let Some(paths) = e.log_file_path.clone().or(testsuite) else { return };
    let date = chrono::Local::now().format("%Y%m%d").to_string();
    for item in paths.split(':').map(str::trim) {
        if item.is_empty() || item == "syslog" {
            continue;
        }
        let path = item.replace("%s", "panic").replace("%D", &date);
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&path) {
            let _ = writeln!(f, "{} {}", error_timestamp(e), e);
        }
        break;
    }
}

/// Report a configuration error as Exim does for -bV: a timestamped line
/// on stderr only (Exim then logs to stderr, not to the panic log).
fn report_timestamped(e: &ConfigError) {
    eprintln!("{} {}", error_timestamp(e), e);
    caret(e);
}

/// Report a configuration that did not load, for the modes that have
/// nothing else to say (`-be`, `-bh`, `-bd`): Exim's time-stamped line.
/// Returns the exit status.
pub fn report_load_error(e: &ConfigError) -> i32 {
    report_timestamped(e);
    1
}

/// `-bh`: Exim writes its log lines to standard error as `LOG: ` lines,
/// the configuration error too. Returns the exit status.
pub fn report_load_error_host_checking(e: &ConfigError) -> i32 {
    eprintln!("LOG: {e}");
    caret(e);
    1
}

/// Beyond Exim: the offending line with a caret, to a terminal only.
fn caret(e: &ConfigError) {
    if std::io::stderr().is_terminal() {
        if let Some(c) = e.caret() {
            eprintln!("{c}");
        }
    }
}

/// `-bP [names...]`. Returns the exit status.
pub fn bp_main(path: Option<&Path>, defines: &[(String, String)], names: &[String], no_labels: bool) -> i32 {
    let cfg = match Config::load(path, defines) {
        Ok(c) => c,
        Err(e) => {
            // Exim reports as -bV does when the configuration is listed.
            if names.iter().any(|n| n == "config") {
                report_timestamped(&e);
            } else {
                report_panic(&e);
            }
            return 1;
        }
    };
    let admin = admin();
    let mut out = String::new();
    let mut fail = false;
    if names.is_empty() {
        print::all_main(&cfg, admin, no_labels, &mut out);
    }
    let mut i = 0;
    while i < names.len() {
        let n = names[i].as_str();
        let next = names.get(i + 1).map(String::as_str);
        let class = match n {
            "router" => Some(DriverClass::Router),
            "transport" => Some(DriverClass::Transport),
            "authenticator" => Some(DriverClass::Authenticator),
            _ => None,
        };
        if let (Some(class), Some(arg)) = (class, next) {
            fail |= !print::drivers(&cfg, class, Some(arg), false, admin, no_labels, &mut out);
            i += 2;
            continue;
        }
        if n == "macro" && next.is_some() {
            fail |= !print::macros(&cfg, next, false, no_labels, &mut out);
            i += 2;
            continue;
        }
        fail = !print_one(&cfg, n, admin, no_labels, &mut out);
        i += 1;
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    i32::from(fail)
}

/// One `-bP` name that is not followed by an argument.
fn print_one(cfg: &Config, name: &str, admin: bool, no_labels: bool, out: &mut String) -> bool {
    if let Some(list) = name.strip_prefix('+') {
        return print::named_list(cfg, list, no_labels, out);
    }
    match name {
        "configure_file" | "config_file" => {
            out.push_str(&format!("{}\n", cfg.config_file()));
            true
        }
        "all" => {
            print::all_main(cfg, admin, no_labels, out);
            true
        }
        "local_scan" => {
            out.push_str("local_scan() options are not supported\n");
            false
        }
        "config" => {
            print::config(cfg, admin, no_labels, out);
            true
        }
        "routers" => print::drivers(cfg, DriverClass::Router, None, false, admin, no_labels, out),
        "transports" => print::drivers(cfg, DriverClass::Transport, None, false, admin, no_labels, out),
        "authenticators" => print::drivers(cfg, DriverClass::Authenticator, None, false, admin, no_labels, out),
        "router_list" => print::drivers(cfg, DriverClass::Router, None, true, admin, no_labels, out),
        "transport_list" => print::drivers(cfg, DriverClass::Transport, None, true, admin, no_labels, out),
        "authenticator_list" => print::drivers(cfg, DriverClass::Authenticator, None, true, admin, no_labels, out),
        "macros" => print::macros(cfg, None, false, no_labels, out),
        "environment" => {
            // The environment Exim runs with: keep_environment and
            // add_environment applied, sorted.
            crate::environment::apply(cfg.option_str("keep_environment"), cfg.option_str("add_environment"));
            let mut vars: Vec<(String, String)> = std::env::vars().collect();
            vars.sort();
            for (k, v) in vars {
                out.push_str(&format!("{k}={v}\n"));
            }
            true
        }
        "macro_list" => print::macros(cfg, None, true, no_labels, out),
        _ => match print::main_option_line_labels(cfg, name, admin, no_labels) {
            Some(line) => {
                out.push_str(&line);
                out.push('\n');
                true
            }
            None => {
                out.push_str(&format!("{name} is not a known option\n"));
                false
            }
        },
    }
}

/// The version and build lines of `-bV`.
pub fn version_text(config_file: &str) -> String {
    format!(
        "{}\n{}\nSupport for: {SUPPORT}\nLookups (built-in): {LOOKUPS}\nAuthenticators: {AUTHENTICATORS}\n\
Routers: {ROUTERS}\nTransports: {TRANSPORTS}\nFixed never_users: 0\nConfigure owner: 0:0\n\
Size of off_t: 8\nConfiguration file search path is {CONFIGURE_FILE_PATH}\nConfiguration file is {config_file}\n",
        texts::VERSION_LINE,
        texts::COPYRIGHT_LINES
    )
}

/// `-bV`: version information, then the configuration check. Exit 0 when
/// the configuration is acceptable; otherwise Exim's error and 1.
pub fn bv_main(path: Option<&Path>, defines: &[(String, String)]) -> i32 {
    match Config::load(path, defines) {
        Ok(cfg) => {
            print!("{}", version_text(&cfg.config_file()));
            if !cfg.main.slot("keep_environment").is_some_and(|s| s.set) {
                eprintln!("{} Warning: purging the environment.\n Suggested action: use keep_environment.", timestamp());
            }
            // Beyond Exim, for a person at a terminal: the options that
            // are set but that rexim reads without acting on them yet.
            if std::io::stderr().is_terminal() {
                let idle = cfg.options_not_acted_on();
                if !idle.is_empty() {
                    eprintln!("rexim: options read but not acted on yet: {}", idle.join(" "));
                }
            }
            // Beyond Exim: expansion syntax errors are listed (Exim only
            // finds them when the option is used).
            for i in cfg.expansion_issues() {
                eprintln!(
                    "{}:{}:{}: {} option \"{}\": expansion error: {}",
                    i.file, i.line, i.column, i.owner, i.option, i.message
                );
            }
            0
        }
        Err(e) => {
            let head = version_text("");
            let head = head.split("Configuration file search path").next().unwrap_or("");
            print!("{head}");
            let _ = std::io::stdout().flush();
            report_timestamped(&e);
            1
        }
    }
}
