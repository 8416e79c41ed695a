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

/// appendfile's default quota warning (Exim's text).
const QUOTA_WARN_MESSAGE: &str = "To: $local_part@$domain\nSubject: Your mailbox\n\n\
This message is automatically created by mail delivery software (Exim).\n\n\
The size of your mailbox has exceeded a warning threshold that is\n\
set by the system administrator.\n";

fn is_unset(opts: &Options, name: &str) -> bool {
    opts.slot(name).is_some_and(|s| !s.set)
}

/// Defaults that Exim's driver init functions compute from the driver and
/// the other options (the tables hold the class-wide defaults).
pub fn apply_init_defaults(d: &mut DriverInstance) {
    use super::value::Value;
    let driver = d.driver.clone().unwrap_or_default();
    // A fixed user without a group: the group is the user's own.
    if d.class != DriverClass::Authenticator {
        if let (Some(Value::Id(uid)), true) = (d.generic.get("user"), is_unset(&d.generic, "group")) {
            if let Some(gid) = super::value::user_gid(*uid) {
                d.generic.set_value("group", Value::Id(gid));
            }
        }
    }
    if driver == "queryprogram" {
        if let Some(p) = d.private.as_mut() {
            if let (Some(Value::Id(uid)), true) = (p.get("command_user"), is_unset(p, "command_group")) {
                if let Some(gid) = super::value::user_gid(*uid) {
                    p.set_value("command_group", Value::Id(gid));
                }
            }
        }
    }
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
                let nonempty = |v: Option<&Value>| matches!(v, Some(Value::IdList(l)) if !l.is_empty());
                let owners = nonempty(p.get("owners"));
                let owngroups = nonempty(p.get("owngroups"));
                // One-time aliases can only be addresses.
                if p.get_bool("one_time").unwrap_or(false) {
                    for f in ["forbid_pipe", "forbid_file", "forbid_filter_reply"] {
                        p.set_value(f, Value::Bool(true));
                    }
                }
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
            if driver == "pipe" {
                let Some(p) = d.private.as_mut() else { return };
                if p.get_bool("use_bsmtp").unwrap_or(false) {
                    p.set_value("check_string", Value::Str(".".to_string()));
                    p.set_value("escape_string", Value::Str("..".to_string()));
                    // BSMTP has no message prefix or suffix of its own.
                    for affix in ["message_prefix", "message_suffix"] {
                        if is_unset(p, affix) {
                            p.set_value(affix, Value::Unset);
                        }
                    }
                }
            }
            if driver == "appendfile" {
                let Some(p) = d.private.as_mut() else { return };
                // mbx mailboxes use MBX locking unless a lock type was chosen.
                let locks = ["use_fcntl_lock", "use_flock_lock", "use_lockfile", "use_mbx_lock"];
                if p.get_bool("mbx_format").unwrap_or(false) && locks.iter().all(|l| is_unset(p, l)) {
                    p.set_value("use_mbx_lock", Value::Bool(true));
                    p.set_value("use_lockfile", Value::Bool(false));
                }
                if p.get_str("quota_warn_threshold").is_some() && is_unset(p, "quota_warn_message") {
                    p.set_value("quota_warn_message", Value::Str(QUOTA_WARN_MESSAGE.to_string()));
                }
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
            // Most authenticators' init functions default the public name
            // to the instance name; cram_md5 and cyrus_sasl do not (Exim
            // then refuses the configuration).
            let named = !matches!(driver.as_str(), "cram_md5" | "cyrus_sasl");
            if named && matches!(d.generic.get("public_name"), Some(Value::Unset)) {
                let name = d.name.clone();
                d.generic.set_value("public_name", Value::Str(name));
            }
            if driver == "cyrus_sasl" {
                let public = d.generic.get_str("public_name").map(str::to_string);
                if let (Some(p), Some(public)) = (d.private.as_mut(), public) {
                    if is_unset(p, "server_mech") {
                        p.set_value("server_mech", Value::Str(public));
                    }
                }
            }
        }
    }
}

/// The checks of Exim's driver init functions. Err: (for the driver, text)
/// where "for the driver" selects Exim's "error for NAME CLASS:" heading.
pub fn init_checks(d: &DriverInstance) -> Result<(), (bool, String)> {
    use super::value::Value;
    let driver = d.driver.as_deref().unwrap_or("");
    let p = d.private.as_ref();
    let set = |n: &str| p.and_then(|p| p.get(n)).is_some_and(|v| !matches!(v, Value::Unset));
    let flag = |n: &str| p.and_then(|p| p.get_bool(n)).unwrap_or(false);
    let fail = |m: &str| Err((true, m.to_string()));
    match (d.class, driver) {
        (DriverClass::Router, _) => {
            if let Some(s) = d.generic.get_str("self") {
                let ok = matches!(s, "freeze" | "defer" | "fail" | "send" | "pass")
                    || s.strip_prefix("reroute:").is_some();
                if !ok {
                    return fail(&format!("{s} is not valid for the self option"));
                }
            }
            match driver {
                "queryprogram" if !set("command_user") => fail("command_user must be specified"),
                "manualroute" if set("route_list") == set("route_data") => {
                    fail("route_list or route_data (but not both) must be specified")
                }
                "redirect" if !set("file") && !set("data") => fail("one of \"file\" or \"data\" must be specified"),
                "redirect" if set("file") && set("data") => fail("only one of \"file\" or \"data\" must be specified"),
                "iplookup" if p.and_then(|p| p.get_int("port")).unwrap_or(0) <= 0 => fail("a port must be specified"),
                "redirect" if flag("one_time") && !matches!(d.generic.get("unseen"), Some(Value::Bool(false))) => {
                    fail("\"unseen\" may not be used with \"one_time\"")
                }
                "manualroute" => {
                    let codes = ["decline", "defer", "fail", "freeze", "ignore", "pass"];
                    let get = |n: &str| p.and_then(|p| p.get_str(n)).unwrap_or("").to_string();
                    let hai = get("host_all_ignored");
                    if !codes.contains(&hai.as_str()) || hai == "ignore" {
                        return fail("unrecognized setting for host_all_ignored option");
                    }
                    if !codes.contains(&get("host_find_failed").as_str()) {
                        return fail("unrecognized setting for host_find_failed option");
                    }
                    Ok(())
                }
                _ => Ok(()),
            }
        }
        (DriverClass::Transport, "appendfile") if set("file") && set("directory") => {
            fail("only one of \"file\" or \"directory\" can be specified")
        }
        (DriverClass::Transport, "lmtp") if set("command") == set("socket") => Err((
            false,
            format!("one (and only one) of command or socket must be set for the {} transport", d.name),
        )),
        (DriverClass::Transport, "pipe") if flag("use_shell") && flag("restrict_to_path") => {
            Err((false, format!("both restrict_to_path and use_shell set for {} transport", d.name)))
        }
        _ => Ok(()),
    }
}

/// Whether an authenticator can act as a server and as a client (set by
/// Exim's driver init functions from the options that are present).
pub fn auth_roles(d: &DriverInstance) -> (bool, bool) {
    use super::value::Value;
    let set = |n: &str| d.option(n).is_some_and(|v| !matches!(v, Value::Unset));
    let driver = d.driver.as_deref().unwrap_or("");
    let server = set("server_condition")
        || match driver {
            "cram_md5" => set("server_secret"),
            "spa" => set("server_password"),
            "dovecot" => set("server_socket"),
            "cyrus_sasl" => true,
            "external" | "tls" => set("server_param1") || set("server_param2") || set("server_param3"),
            _ => false,
        };
    let client = match driver {
        "plaintext" | "external" => set("client_send"),
        "cram_md5" => set("client_secret"),
        "spa" => set("client_username") && set("client_password"),
        _ => false,
    };
    (server, client)
}
