//! Loading what SMTP input needs from the configuration, and the command
//! line modes around the queue: `-bs`, `-bp`, `-Mrm`.

use std::sync::Arc;

use crate::be::ConfigView;
use crate::cli::Options;
use crate::log::Logger;
use crate::smtp::acls::{AclSetup, ConfiguredAcls};
use crate::smtp::{AclHooks, Services, SmtpConfig};

/// The loaded configuration pieces.
pub struct Loaded {
    pub services: Services,
    pub acls: Arc<AclSetup>,
    pub log: Arc<Logger>,
}

impl Loaded {
    /// The ACLs for a new session.
    pub fn new_acls(&self) -> ConfiguredAcls {
        ConfiguredAcls::new(self.acls.clone(), self.services.cfg.clone(), self.services.hosts.clone(), self.log.clone())
    }

    /// The daemon's logs are written by a thread of their own (started
    /// after the daemon's fork: threads do not survive it).
    pub fn logging_in_background(self) -> Loaded {
        match Arc::try_unwrap(self.log) {
            Ok(log) => Loaded { log: Arc::new(log.in_background()), ..self },
            Err(log) => Loaded { log, ..self },
        }
    }
}

/// Read the configuration for SMTP input.
pub fn load(opts: &Options) -> Result<Loaded, String> {
    let path = opts.config_file.as_deref().map(std::path::Path::new);
    let config = crate::config::Config::load(path, &opts.defines).map_err(|e| e.to_string())?;
    Ok(from_config(&config))
}

/// The SMTP layer's pieces from a configuration read by `config`.
pub fn from_config(config: &crate::config::Config) -> Loaded {
    let get = |name: &str| ConfigView::option(config, name);
    let mut cfg = SmtpConfig::from_lookup(&get);
    cfg.options.insert("config_file".into(), config.config_file());
    cfg.rewrite = Arc::new(crate::rewrite::Rules::from_config(&config.rewrite_rules));
    let acls = Arc::new(AclSetup::from_config(config).unwrap_or_else(|e| {
        // The configuration reader has checked the ACLs' syntax already.
        eprintln!("{e}");
        std::process::exit(1)
    }));
    let auths = authenticators(config);
    let log = Arc::new(Logger::new(&cfg.log_file_path).with_millisec(cfg.log_selector.millisec));
    let hosts = crate::smtp::ListsHostMatcher::new(&acls.named_lists, &acls.primary_hostname, crate::dns::default_resolver())
        .with_host_lookup_order(&cfg.host_lookup_order);
    let services = Services {
        cfg: Arc::new(cfg),
        hosts: Arc::new(hosts),
        auths: Arc::new(auths),
        ids: Arc::new(crate::spool::IdGenerator::default()),
        resolver: crate::dns::default_resolver(),
    };
    Loaded { services, acls, log }
}

/// The configured authenticators: plaintext ones with a server_condition
/// serve (as in Exim, that option makes a plaintext authenticator a
/// server); the others are configured but do not serve.
fn authenticators(config: &crate::config::Config) -> Vec<Box<dyn crate::auth::Authenticator>> {
    use crate::config::{DriverClass, Value};
    let text = |d: &crate::config::DriverInstance, name: &str| match d.option(name) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let mut out: Vec<Box<dyn crate::auth::Authenticator>> = Vec::new();
    for d in config.drivers(DriverClass::Authenticator) {
        let public_name = text(d, "public_name").filter(|p| !p.is_empty()).unwrap_or_else(|| d.name.to_ascii_uppercase());
        let server_condition = text(d, "server_condition");
        if d.driver.as_deref() != Some("plaintext") || server_condition.is_none() {
            out.push(Box::new(crate::auth::NotServing { name: d.name.clone(), public_name }));
            continue;
        }
        out.push(Box::new(crate::auth::Plaintext::new(crate::auth::PlaintextOptions {
            name: d.name.clone(),
            public_name,
            server_prompts: text(d, "server_prompts"),
            server_condition,
            server_set_id: text(d, "server_set_id"),
            server_advertise_condition: text(d, "server_advertise_condition"),
        })));
    }
    out
}

fn login_name() -> String {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    crate::smtp::caller::password_entry(uid).map_or_else(|| uid.to_string(), |(login, _)| login)
}

/// Load, reporting a configuration error as Exim does.
pub fn load_or_report(opts: &Options) -> Result<Loaded, i32> {
    let path = opts.config_file.as_deref().map(std::path::Path::new);
    match crate::config::Config::load(path, &opts.defines) {
        Ok(config) => Ok(from_config(&config)),
        Err(e) => Err(crate::config::report_load_error(&e)),
    }
}

/// `-bs`
pub fn run_bs(opts: &Options) -> i32 {
    let mut loaded = match load_or_report(opts) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if let Some(log) = Arc::get_mut(&mut loaded.log) {
        log.set_panic_to_stderr(true);
    }
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let quit = crate::smtp::stdio::run(
        &loaded.services,
        Box::new(loaded.new_acls()),
        crate::smtp::caller::Caller::of_this_process(&loaded.services.cfg),
        origin_peer(&opts.origin),
        &loaded.log,
        &mut stdin.lock(),
        &mut stdout.lock(),
    );
    if quit {
        0
    } else {
        1
    }
}

/// What `-oMa`, `-oMs`, `-oMi`, `-oMt` say about where -bs input comes from.
fn origin_peer(origin: &[(&'static str, String)]) -> crate::smtp::session::Peer {
    let mut peer = crate::smtp::session::Peer::default();
    for (var, value) in origin {
        match *var {
            "sender_host_address" => peer.address = Some(value.clone()),
            "sender_host_port" => peer.port = value.parse().unwrap_or(0),
            "sender_host_name" => peer.host_name = Some(value.clone()),
            "interface_address" => peer.interface_address = Some(value.clone()),
            "interface_port" => peer.interface_port = value.parse().unwrap_or(0),
            "sender_ident" => peer.ident = Some(value.clone()),
            _ => {}
        }
    }
    peer
}

/// `-bh IP`: a fake SMTP session from IP on standard input, with the ACL
/// trace on standard error; nothing is delivered or spooled.
pub fn run_bh(opts: &Options, ip: &str) -> i32 {
    let path = opts.config_file.as_deref().map(std::path::Path::new);
    let loaded = match crate::config::Config::load(path, &opts.defines) {
        Ok(config) => from_config(&config),
        Err(e) => return crate::config::report_load_error_host_checking(&e),
    };
    let trace = crate::smtp::TraceBuf::default();
    let mut acls = loaded.new_acls();
    acls.trace = Some(trace.clone());
    let acls: Box<dyn AclHooks + Send> = Box::new(acls);
    // As Exim 4.96 does in -bh, a host in hosts_proxy starts with a PROXY
    // header on standard input, read before anything buffers it.
    let cfg = &loaded.services.cfg;
    let proxy = match &cfg.hosts_proxy {
        Some(list) if loaded.services.hosts.matches(list, Some(ip), None) => {
            let outcome = crate::proxy::read_header_fd(0, cfg.proxy_protocol_timeout, &crate::proxy::Policy::EXIM);
            Some(crate::proxy::ProxyState::negotiated(ip, 0, outcome))
        }
        _ => None,
    };
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    crate::smtp::stdio::run_host_check(
        &loaded.services,
        acls,
        ip,
        proxy,
        trace,
        &mut stdin.lock(),
        &mut stdout.lock(),
        &mut stderr.lock(),
    );
    0
}

/// `-bp` (and `-bpc`: the count only).
pub fn run_bp(opts: &Options, count_only: bool) -> i32 {
    let loaded = match load_or_report(opts) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let spool = &loaded.services.cfg.spool_directory;
    if count_only {
        println!("{}", crate::spool::queue::message_ids(spool).len());
        return 0;
    }
    let now = crate::spool::message_id::now().0;
    print!("{}", crate::spool::queue::list(spool, now));
    0
}

/// An Exim 4.96 message id: 6, 6 and 2 base-62 characters.
fn is_message_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 16
        && b[6] == b'-'
        && b[13] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 6 || i == 13 || c.is_ascii_alphanumeric())
}

/// `-Mvh id...`: the message's header spool file as it is.
pub fn run_mvh(opts: &Options) -> i32 {
    let loaded = match load_or_report(opts) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for id in &opts.args {
        if !is_message_id(id) {
            eprintln!("exim: malformed message id {id} after -Mvh option");
            return 1;
        }
        let path = format!("{}/input/{id}-H", loaded.services.cfg.spool_directory);
        match std::fs::read(&path) {
            Ok(bytes) => {
                use std::io::Write;
                let _ = std::io::stdout().write_all(&bytes);
            }
            Err(e) => {
                eprintln!("Failed to open {path}: {}", crate::texts::errno_text(&e));
                return 1;
            }
        }
    }
    0
}

/// `-Mrm id...`
pub fn run_mrm(opts: &Options) -> i32 {
    let loaded = match load_or_report(opts) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (out, ok) = crate::spool::queue::remove(&loaded.services.cfg.spool_directory, &opts.args, &login_name(), &loaded.log);
    print!("{out}");
    if ok {
        0
    } else {
        1
    }
}
