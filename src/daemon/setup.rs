//! Loading what SMTP input needs from the configuration, and the command
//! line modes around the queue: `-bs`, `-bp`, `-Mrm`.

use std::sync::Arc;

use crate::be::ConfigView;
use crate::cli::Options;
use crate::log::Logger;
use crate::smtp::{LiteralAcls, Services, SmtpConfig};

/// The loaded configuration pieces.
pub struct Loaded {
    pub services: Services,
    pub acls: LiteralAcls,
    pub log: Arc<Logger>,
}

const DEFAULT_PATHS: &[&str] = &["/etc/rexim/configure", "/etc/exim4/exim4.conf"];

fn config_text(opts: &Options) -> String {
    match &opts.config_file {
        Some(p) => std::fs::read_to_string(p).unwrap_or_default(),
        None => DEFAULT_PATHS.iter().find_map(|p| std::fs::read_to_string(p).ok()).unwrap_or_default(),
    }
}

/// Read the configuration for SMTP input.
pub fn load(opts: &Options) -> Result<Loaded, String> {
    let be = crate::be_config::load(opts)?;
    let get = |name: &str| be.option(name);
    let mut cfg = SmtpConfig::from_lookup(&get);
    cfg.options.insert("config_file".into(), be.config_file());
    let acls = LiteralAcls::from_lookup(&get);
    let text = config_text(opts);
    let auths = crate::auth::config::from_config_text(&text);
    let log = Arc::new(Logger::new(&cfg.log_file_path));
    let services = Services {
        cfg: Arc::new(cfg),
        hosts: Arc::new(crate::smtp::SimpleHostMatcher),
        dsn: Arc::new(crate::smtp::NoDsn),
        auths: Arc::new(auths),
        ids: Arc::new(crate::spool::IdGenerator::default()),
    };
    Ok(Loaded { services, acls, log })
}

fn login_name() -> String {
    // SAFETY: getuid has no preconditions; getpwuid returns NULL or a static record.
    unsafe {
        let uid = libc::getuid();
        let pw = libc::getpwuid(uid);
        if pw.is_null() {
            return uid.to_string();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned()
    }
}

/// `-bs`
pub fn run_bs(opts: &Options) -> i32 {
    let loaded = match load(opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let quit = crate::smtp::stdio::run(
        &loaded.services,
        Box::new(loaded.acls.clone()),
        &login_name(),
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

/// `-bp` (and `-bpc`: the count only).
pub fn run_bp(opts: &Options, count_only: bool) -> i32 {
    let loaded = match load(opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
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

/// `-Mrm id...`
pub fn run_mrm(opts: &Options) -> i32 {
    let loaded = match load(opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let (out, ok) = crate::spool::queue::remove(&loaded.services.cfg.spool_directory, &opts.args, &login_name(), &loaded.log);
    print!("{out}");
    if ok {
        0
    } else {
        1
    }
}
