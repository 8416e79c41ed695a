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
