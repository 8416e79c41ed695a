//! Driver instances (routers, transports, authenticators): generic options
//! from the class table, private ones from the driver's table, read as
//! Exim's readconf_driver_init() does.

use super::driver_tables::*;
use super::main_table::OptionDef;
use super::options::Options;

/// The three driver classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverClass {
    Router,
    Transport,
    Authenticator,
}

impl DriverClass {
    /// The word Exim uses in messages and `-bP` ("router" ...).
    pub fn word(self) -> &'static str {
        match self {
            DriverClass::Router => "router",
            DriverClass::Transport => "transport",
            DriverClass::Authenticator => "authenticator",
        }
    }

    pub fn generic(self) -> &'static [OptionDef] {
        match self {
            DriverClass::Router => ROUTERS_GENERIC,
            DriverClass::Transport => TRANSPORTS_GENERIC,
            DriverClass::Authenticator => AUTHENTICATORS_GENERIC,
        }
    }

    /// The drivers of this class, sorted by name, with their private tables.
    pub fn drivers(self) -> &'static [(&'static str, &'static [OptionDef])] {
        match self {
            DriverClass::Router => ROUTERS_DRIVERS,
            DriverClass::Transport => TRANSPORTS_DRIVERS,
            DriverClass::Authenticator => AUTHENTICATORS_DRIVERS,
        }
    }

    /// Older option names still accepted (beyond Exim 4.96 where noted in
    /// docs/config.md): (alias, table name).
    pub fn aliases(self) -> &'static [(&'static str, &'static str)] {
        match self {
            DriverClass::Transport => &[("tls_verify_cert_hostname", "tls_verify_cert_hostnames")],
            _ => &[],
        }
    }
}

/// One configured driver instance.
#[derive(Debug, Clone)]
pub struct DriverInstance {
    pub class: DriverClass,
    pub name: String,
    pub file: String,
    pub line: usize,
    /// The driver name (`driver = smtp`), once given.
    pub driver: Option<String>,
    pub generic: Options,
    /// Private options; None until `driver` is set.
    pub private: Option<Options>,
}

impl DriverInstance {
    pub fn new(class: DriverClass, name: &str, file: &str, line: usize) -> DriverInstance {
        DriverInstance {
            class,
            name: name.to_string(),
            file: file.to_string(),
            line,
            driver: None,
            generic: Options::new(class.generic()),
            private: None,
        }
    }

    /// An option value by name, private options first.
    pub fn option(&self, name: &str) -> Option<&super::value::Value> {
        self.private.as_ref().and_then(|p| p.get(name)).or_else(|| self.generic.get(name))
    }
}

/// The private table of a driver, by driver name.
pub fn find_driver(class: DriverClass, driver: &str) -> Option<&'static [OptionDef]> {
    class.drivers().iter().find(|(n, _)| *n == driver).map(|(_, t)| *t)
}

fn is_unset(opts: &Options, name: &str) -> bool {
    opts.slot(name).is_some_and(|s| !s.set)
}

/// Defaults that Exim's driver init functions compute from the driver and
/// the other options (the tables hold the class-wide defaults).
pub fn apply_init_defaults(d: &mut DriverInstance) {
    use super::value::Value;
    let driver = d.driver.clone().unwrap_or_default();
    match d.class {
        DriverClass::Router => {
            if is_unset(&d.generic, "log_as_local") {
                d.generic.set_value("log_as_local", Value::Bool(driver == "accept"));
            }
            let clu = d.generic.get_bool("check_local_user").unwrap_or(false);
            if is_unset(&d.generic, "retry_use_local_part") {
                let set = |n: &str| d.generic.slot(n).is_some_and(|s| s.set);
                let v = clu
                    || ["local_parts", "condition", "local_part_prefix", "local_part_suffix", "senders", "require_files"]
                        .iter()
                        .any(|n| set(n));
                d.generic.set_value("retry_use_local_part", Value::Bool(v));
            }
            if driver == "redirect" {
                let Some(p) = d.private.as_mut() else { return };
                let owners = p.slot("owners").is_some_and(|s| s.set);
                let owngroups = p.slot("owngroups").is_some_and(|s| s.set);
                if is_unset(p, "check_owner") {
                    p.set_value("check_owner", Value::Bool(clu || owners));
                }
                if is_unset(p, "check_group") {
                    let modemask = p.get_int("modemask").unwrap_or(0o22);
                    p.set_value("check_group", Value::Bool((clu && modemask & 0o20 == 0) || owngroups));
                }
            }
        }
        DriverClass::Transport => {
            if is_unset(&d.generic, "retry_use_local_part") {
                d.generic.set_value("retry_use_local_part", Value::Bool(driver != "smtp"));
            }
            if driver == "appendfile" {
                let Some(p) = d.private.as_mut() else { return };
                let bsmtp = p.get_bool("use_bsmtp").unwrap_or(false);
                let mbox = p.get_str("directory").is_none()
                    && !p.get_bool("maildir_format").unwrap_or(false)
                    && !p.get_bool("mailstore_format").unwrap_or(false);
                let defaults: &[(&str, &str)] = if bsmtp {
                    &[("check_string", "."), ("escape_string", "..")]
                } else if mbox {
                    &[
                        ("message_prefix", "From ${if def:return_path{$return_path}{MAILER-DAEMON}} ${tod_bsdinbox}\n"),
                        ("message_suffix", "\n"),
                        ("check_string", "From "),
                        ("escape_string", ">From "),
                    ]
                } else {
                    &[]
                };
                for (name, v) in defaults {
                    let unset = matches!(p.get(name), Some(Value::Unset));
                    if (bsmtp || unset) && is_unset(p, name) {
                        p.set_value(name, Value::Str(v.to_string()));
                    }
                }
            }
        }
        DriverClass::Authenticator => {
            if matches!(d.generic.get("public_name"), Some(Value::Unset)) {
                let name = d.name.clone();
                d.generic.set_value("public_name", Value::Str(name));
            }
        }
    }
}
