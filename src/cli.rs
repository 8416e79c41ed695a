//! Exim's command line: one-dash flags, parsed the way Exim does.

use crate::texts;

/// What the command line asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    pub config_file: Option<String>,
    pub defines: Vec<(String, String)>,
    pub mode: Option<Mode>,
    pub args: Vec<String>,
    pub debug: Option<String>,
    pub sender: Option<String>,
    pub daemon_ports: Option<String>,
    pub pid_file: Option<String>,
    /// -n: -bP prints values without names.
    pub no_labels: bool,
    /// Variables set by `-oMa`, `-oMs`... (what a message "came from").
    pub origin: Vec<(&'static str, String)>,
}

/// `-oM*` options and the variables they set.
static ORIGIN_OPTIONS: &[(&str, &str)] = &[
    ("-oMa", "sender_host_address"),
    ("-oMaa", "sender_host_authenticated"),
    ("-oMai", "authenticated_id"),
    ("-oMas", "authenticated_sender"),
    ("-oMi", "interface_address"),
    ("-oMm", "message_reference"),
    ("-oMr", "received_protocol"),
    ("-oMs", "sender_host_name"),
    ("-oMt", "sender_ident"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    ExpandTest,
    ExpandTestMessage(String),
    HostCheck { ip: String, callouts: bool },
    Version,
    PrintConfig,
    Daemon { foreground: bool },
    SmtpStdin,
    QueueList,
    QueueCount,
    QueueRun(String),
    AddressTest,
    RewriteTest,
    AddressVerify,
    MessageAction(String),
    ReadMessage,
}

impl Mode {
    /// The flag that selects the mode, for messages.
    fn flag(&self) -> String {
        match self {
            Mode::ExpandTest => "-be".into(),
            Mode::ExpandTestMessage(_) => "-bem".into(),
            Mode::HostCheck { callouts: false, .. } => "-bh".into(),
            Mode::HostCheck { callouts: true, .. } => "-bhc".into(),
            Mode::Version => "-bV".into(),
            Mode::PrintConfig => "-bP".into(),
            Mode::Daemon { foreground: false } => "-bd".into(),
            Mode::Daemon { foreground: true } => "-bdf".into(),
            Mode::SmtpStdin => "-bs".into(),
            Mode::QueueList => "-bp".into(),
            Mode::QueueCount => "-bpc".into(),
            Mode::QueueRun(f) => f.clone(),
            Mode::AddressTest => "-bt".into(),
            Mode::RewriteTest => "-brw".into(),
            Mode::AddressVerify => "-bv".into(),
            Mode::MessageAction(f) => f.clone(),
            Mode::ReadMessage => "-t".into(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct BadOption(pub String);

/// Parse the arguments after the program name.
pub fn parse(argv: &[String]) -> Result<Options, BadOption> {
    let mut o = Options::default();
    let mut i = 0;
    let bad = |a: &str| BadOption(a.to_string());
    while i < argv.len() {
        let a = argv[i].as_str();
        if !a.starts_with('-') || a == "-" {
            break;
        }
        if a == "--" {
            i += 1;
            break;
        }
        // An option's value may be attached or be the next argument.
        let mut value_of = |flag: &str| -> Result<String, BadOption> {
            if a.len() > flag.len() {
                Ok(a[flag.len()..].to_string())
            } else {
                i += 1;
                argv.get(i).cloned().ok_or_else(|| bad(a))
            }
        };
        match a {
            "-be" => o.mode = Some(Mode::ExpandTest),
            "-bV" => o.mode = Some(Mode::Version),
            "-bP" => o.mode = Some(Mode::PrintConfig),
            "-bd" => o.mode = Some(Mode::Daemon { foreground: false }),
            "-bdf" => o.mode = Some(Mode::Daemon { foreground: true }),
            "-bs" => o.mode = Some(Mode::SmtpStdin),
            "-bp" => o.mode = Some(Mode::QueueList),
            "-bpc" => o.mode = Some(Mode::QueueCount),
            "-bt" => o.mode = Some(Mode::AddressTest),
            "-brw" => o.mode = Some(Mode::RewriteTest),
            "-bv" => o.mode = Some(Mode::AddressVerify),
            "-t" => o.mode = Some(Mode::ReadMessage),
            "-n" => o.no_labels = true,
            "-i" | "-oi" | "-odi" | "-odq" | "-odb" | "-odf" | "-v" | "-N" => {}
            "-bem" => o.mode = Some(Mode::ExpandTestMessage(value_of("-bem")?)),
            "-bh" | "-bhc" => {
                let callouts = a == "-bhc";
                i += 1;
                let ip = argv.get(i).cloned().ok_or_else(|| bad(a))?;
                o.mode = Some(Mode::HostCheck { ip, callouts });
            }
            _ if ORIGIN_OPTIONS.iter().any(|(f, _)| *f == a) => {
                let var = ORIGIN_OPTIONS.iter().find(|(f, _)| *f == a).map(|(_, v)| *v).expect("found");
                i += 1;
                let value = argv.get(i).cloned().ok_or_else(|| bad(a))?;
                o.origin.extend(origin_variables(var, value));
            }
            _ if a.starts_with("-C") => o.config_file = Some(value_of("-C")?),
            _ if a.starts_with("-D") => {
                let def = value_of("-D")?;
                match crate::config::parse_define(&def) {
                    Ok(m) => o.defines.push(m),
                    Err(_) => return Err(bad(a)),
                }
            }
            _ if a.starts_with("-oX") => o.daemon_ports = Some(value_of("-oX")?),
            _ if a.starts_with("-oP") => o.pid_file = Some(value_of("-oP")?),
            _ if a.starts_with("-f") => o.sender = Some(value_of("-f")?),
            // -pd and -ps are about embedded Perl, which rexim has none of.
            "-pd" | "-ps" => {}
            // Sendmail's -p<protocol>[:<host name>] is -oMr with -oMs.
            _ if a.starts_with("-p") => {
                let value = value_of("-p")?;
                match value.split_once(':') {
                    Some((protocol, host)) => {
                        o.origin.push(("received_protocol", protocol.to_string()));
                        o.origin.push(("sender_host_name", host.to_string()));
                    }
                    None => o.origin.push(("received_protocol", value)),
                }
            }
            _ if a.starts_with("-d") => o.debug = Some(a[2..].to_string()),
            _ if a.starts_with("-q") => o.mode = Some(Mode::QueueRun(a.to_string())),
            _ if a.starts_with("-M") => o.mode = Some(Mode::MessageAction(a.to_string())),
            _ => return Err(bad(a)),
        }
        i += 1;
    }
    o.args = argv[i..].to_vec();
    Ok(o)
}

/// `-oMa` and `-oMi` take an optional port after a final dot or colon.
fn origin_variables(var: &'static str, value: String) -> Vec<(&'static str, String)> {
    let port_var = match var {
        "sender_host_address" => "sender_host_port",
        "interface_address" => "interface_port",
        _ => return vec![(var, value)],
    };
    let split = |sep: char| {
        value.rsplit_once(sep).filter(|(addr, port)| {
            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && addr.parse::<std::net::IpAddr>().is_ok()
        })
    };
    match split('.').or_else(|| split(':')) {
        Some((addr, port)) if value.parse::<std::net::IpAddr>().is_err() => {
            vec![(var, addr.to_string()), (port_var, port.to_string())]
        }
        _ => vec![(var, value)],
    }
}

pub fn main() -> i32 {
    // Arguments are bytes (std::env::args() would panic on one that is
    // not UTF-8).
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| crate::bytes::from_vec(std::os::unix::ffi::OsStringExt::into_vec(a)))
        .collect();
    if argv.iter().any(|a| a == "--help") {
        print!("{}", texts::HELP);
        return 0;
    }
    let opts = match parse(&argv) {
        Ok(o) => o,
        Err(BadOption(flag)) => {
            eprintln!("exim abandoned: unknown, malformed, or incomplete option {flag}");
            return 1;
        }
    };
    let Some(mode) = opts.mode.clone() else {
        if opts.args.is_empty() {
            eprintln!("{}", texts::NO_MODE);
            return 1;
        }
        return not_yet("delivery of a message from the command line");
    };
    match mode {
        Mode::ExpandTest | Mode::RewriteTest => {
            let path = opts.config_file.as_deref().map(std::path::Path::new);
            let mut config = match crate::config::Config::load(path, &opts.defines) {
                Ok(c) => c,
                Err(e) => return crate::config::report_load_error(&e),
            };
            use crate::be::ConfigView;
            // The resolver reads its test-mode switch before
            // keep_environment empties the environment.
            let resolver = crate::dns::default_resolver();
            crate::environment::apply(
                ConfigView::option(&config, "keep_environment").as_deref(),
                ConfigView::option(&config, "add_environment").as_deref(),
            );
            crate::environment::initial_cwd();
            // Exim works from the root directory: relative file names in
            // expansions do not depend on where it was started.
            let _ = std::env::set_current_dir("/");
            let mut lookups = crate::lookups::Lookups::new(resolver);
            lookups.redis_servers = ConfigView::option(&config, "redis_servers").unwrap_or_default();
            let acls = match crate::acl::AclStore::from_config(&config) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("{e}");
                    return 1;
                }
            };
            let mut state = crate::be::BeState::new(&opts.origin, lookups, acls);
            if let Some(sender) = &opts.sender {
                crate::be::set_sender(&mut config, &mut state, sender);
            }
            if mode == Mode::RewriteTest {
                let rules = crate::rewrite::Rules::from_config(&config.rewrite_rules);
                return crate::be::rewrite_test(&mut config, &mut state, &rules, &opts.args);
            }
            crate::be::run(&mut config, &mut state, &opts.args)
        }
        Mode::SmtpStdin => crate::daemon::setup::run_bs(&opts),
        Mode::HostCheck { ip, .. } => crate::daemon::setup::run_bh(&opts, &ip),
        Mode::QueueList => crate::daemon::setup::run_bp(&opts, false),
        Mode::QueueCount => crate::daemon::setup::run_bp(&opts, true),
        Mode::MessageAction(f) if f == "-Mrm" => crate::daemon::setup::run_mrm(&opts),
        Mode::MessageAction(f) if f == "-Mvh" => crate::daemon::setup::run_mvh(&opts),
        Mode::Daemon { foreground } => crate::daemon::run(&opts, foreground),
        Mode::Version => crate::config::bv_main(opts.config_file.as_deref().map(std::path::Path::new), &opts.defines),
        Mode::PrintConfig => crate::config::bp_main(
            opts.config_file.as_deref().map(std::path::Path::new),
            &opts.defines,
            &opts.args,
            opts.no_labels,
        ),
        other => not_yet(&other.flag()),
    }
}

fn not_yet(what: &str) -> i32 {
    eprintln!("rexim: {what} is not implemented yet");
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags() {
        let o = parse(&args("-C /x -DFOO=bar -be a b")).unwrap();
        assert_eq!(o.config_file.as_deref(), Some("/x"));
        assert_eq!(o.defines, vec![("FOO".to_string(), "bar".to_string())]);
        assert_eq!(o.mode, Some(Mode::ExpandTest));
        assert_eq!(o.args, vec!["a", "b"]);
        let o = parse(&args("-bh 10.0.0.1")).unwrap();
        assert_eq!(o.mode, Some(Mode::HostCheck { ip: "10.0.0.1".into(), callouts: false }));
        assert_eq!(parse(&args("-xyz")).err(), Some(BadOption("-xyz".into())));
        assert_eq!(parse(&args("-C")).err(), Some(BadOption("-C".into())));
    }
}
