//! Reading a whole configuration file: the main section (options, macros,
//! named lists) and the sections after `begin`, as Exim's readconf_main()
//! and readconf_rest() do.

use pest::Parser;

use super::acl::{self, Acl};
use super::drivers::{find_driver, DriverClass, DriverInstance};
use super::error::ConfigError;
use super::named_lists::{ListKind, NamedList};
use super::options::{handle_option, Handled, Options, SettingError};
use super::preprocessor::{Logical, Preprocessor};
use super::syntax::{LineParser, Rule};
use super::texts;
use super::{Config, RawLine, MAIN_ALIASES};

/// Section names in Exim's order (after appending an `s`).
const SECTIONS: &[&str] = &["acls", "authenticators", "local_scans", "retrys", "rewrites", "routers", "transports"];

fn setting_error(pp: &Preprocessor, l: &Logical, e: SettingError) -> ConfigError {
    pp.error(e.message).with_source(&l.text, e.column)
}

pub fn read(cfg: &mut Config, pp: &mut Preprocessor) -> Result<(), ConfigError> {
    read_main(cfg, pp)?;
    // readconf_main()'s check once the main section is read.
    if let Some(e) = cfg.main.get_str("errors_reply_to") {
        if !e.contains('@') {
            return Err(ConfigError::general(format!("errors_reply_to ({e}) does not contain a domain")));
        }
    }
    let mut had = [false; 7];
    while let Some(section) = pp.next_section.clone() {
        let mut name = section.clone();
        if !name.to_ascii_lowercase().ends_with('s') {
            name.push('s');
        }
        let Some(idx) = SECTIONS.iter().position(|s| s.eq_ignore_ascii_case(&name)) else {
            return Err(pp.error(format!("\"{section}\" is not a known configuration section name")));
        };
        if had[idx] {
            return Err(pp.error(format!("\"{section}\" section is repeated in the configuration file")));
        }
        had[idx] = true;
        match idx {
            0 => read_acls(cfg, pp)?,
            1 => read_drivers(cfg, pp, DriverClass::Authenticator)?,
            2 => read_local_scan(cfg, pp)?,
            3 => read_retry(cfg, pp)?,
            4 => read_rewrite(cfg, pp)?,
            5 => read_drivers(cfg, pp, DriverClass::Router)?,
            _ => read_drivers(cfg, pp, DriverClass::Transport)?,
        }
    }
    check_references(cfg)
}

fn macro_assignment(pp: &mut Preprocessor, text: &str) -> Result<(), ConfigError> {
    pp.macros.read_assignment(text).map_err(|e| {
        let mut err = if e.with_line { pp.error(e.message) } else { ConfigError::general(e.message) };
        err.panic_only = true;
        err
    })
}

fn read_main(cfg: &mut Config, pp: &mut Preprocessor) -> Result<(), ConfigError> {
    while let Some(l) = pp.next_line()? {
        if l.line == 1 && l.text.starts_with('\u{feff}') {
            return Err(pp.error(texts::UNEXPECTED_BOM));
        }
        if l.text.starts_with(|c: char| c.is_ascii_uppercase()) {
            macro_assignment(pp, &l.text)?;
            continue;
        }
        if let Some(list) = named_list(pp, &l)? {
            if cfg.named_lists.iter().any(|n| n.kind == list.kind && n.name == list.name) {
                return Err(pp.error(format!(
                    "duplicate name \"{}\" for a named {}",
                    list.name,
                    list.kind.type_name()
                )));
            }
            cfg.named_lists.push(list);
            continue;
        }
        match handle_option(&l.text, &mut cfg.main, MAIN_ALIASES, &l.file, l.line) {
            Ok(Handled::Done) => {}
            Ok(Handled::Unknown(name)) => {
                return Err(pp.error(texts::main_option_unknown(&name)).with_source(&l.text, 0));
            }
            Err(e) => return Err(setting_error(pp, &l, e)),
        }
    }
    Ok(())
}

/// A named list definition line, or None when the line is something else.
fn named_list(pp: &Preprocessor, l: &Logical) -> Result<Option<NamedList>, ConfigError> {
    let Ok(mut pairs) = LineParser::parse(Rule::named_list, &l.text) else {
        return Ok(None);
    };
    let (mut hide, mut kind, mut cache, mut rest) = (false, None, false, "");
    for p in pairs.next().expect("named_list").into_inner() {
        match p.as_rule() {
            Rule::hide => hide = true,
            Rule::list_kind => kind = ListKind::from_keyword(p.as_str()),
            Rule::cache => cache = true,
            Rule::rest => rest = p.as_str(),
            _ => {}
        }
    }
    let kind = kind.expect("grammar gives a list kind");
    if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
        return Err(pp.error(texts::UNRECOGNIZED_LINE));
    }
    let s = rest.trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let name = &s[..end];
    let after = s[end..].trim_start();
    let Some(value) = after.strip_prefix('=') else {
        return Err(pp.error(format!("missing '=' after \"{name}\"")));
    };
    let value = super::value::read_string(value.trim_start(), name).map_err(|m| pp.error(m))?;
    let cacheable = cache || !value.contains('$');
    Ok(Some(NamedList {
        kind,
        name: name.to_string(),
        value,
        hide,
        cacheable,
        file: l.file.clone(),
        line: l.line,
    }))
}

fn read_acls(cfg: &mut Config, pp: &mut Preprocessor) -> Result<(), ConfigError> {
    let mut current: Option<Acl> = None;
    while let Some(l) = pp.next_line()? {
        let (name, rest) = acl::read_name(&l.text);
        if name.starts_with(|c: char| c.is_ascii_uppercase()) && rest.starts_with('=') {
            if let Some(a) = current.take() {
                cfg.acls.push(a);
            }
            macro_assignment(pp, &l.text)?;
            continue;
        }
        if rest.starts_with(':') {
            if name.is_empty() {
                return Err(pp.error("missing or malformed ACL name"));
            }
            if let Some(a) = current.take() {
                cfg.acls.push(a);
            }
            if cfg.acls.iter().any(|a| a.name == name) {
                return Err(pp.error(format!("there are two ACLs called \"{name}\"")));
            }
            current = Some(Acl { name: name.to_string(), file: l.file.clone(), line: l.line, statements: Vec::new() });
            continue;
        }
        let Some(a) = current.as_mut() else {
            return Err(pp.error("missing or malformed ACL name"));
        };
        acl::add_line(a, &l.text, &l.file, l.line).map_err(|m| pp.error(format!("error in ACL: {m}")))?;
    }
    if let Some(a) = current.take() {
        cfg.acls.push(a);
    }
    Ok(())
}

fn finish_driver(d: &mut DriverInstance) -> Result<(), ConfigError> {
    if d.driver.is_none() {
        return Err(ConfigError::general(format!("no driver defined for {} \"{}\"", d.class.word(), d.name)));
    }
    super::drivers::apply_init_defaults(d);
    super::drivers::init_checks(d).map_err(|(for_driver, m)| {
        if for_driver {
            ConfigError::for_driver(format!("{} {}", d.name, d.class.word()), m)
        } else {
            ConfigError::general(m)
        }
    })
}

fn read_drivers(cfg: &mut Config, pp: &mut Preprocessor, class: DriverClass) -> Result<(), ConfigError> {
    let mut list: Vec<DriverInstance> = Vec::new();
    let mut current: Option<DriverInstance> = None;
    let word = class.word();
    while let Some(l) = pp.next_line()? {
        let (name, rest) = acl::read_name(&l.text);
        if name.starts_with(|c: char| c.is_ascii_uppercase()) && rest.starts_with('=') {
            if let Some(mut d) = current.take() {
                finish_driver(&mut d)?;
                list.push(d);
            }
            macro_assignment(pp, &l.text)?;
            continue;
        }
        if let Some(after) = rest.strip_prefix(':') {
            if let Some(mut d) = current.take() {
                finish_driver(&mut d)?;
                list.push(d);
            }
            if list.iter().any(|d| d.name == name) {
                return Err(ConfigError::general(format!("there are two {word}s called \"{name}\"")));
            }
            if !after.trim().is_empty() {
                return Err(pp.error(format!("extra characters follow driver name {name}")));
            }
            current = Some(DriverInstance::new(class, name, &l.file, l.line));
            continue;
        }
        let Some(d) = current.as_mut() else {
            return Err(pp.error(format!("{word} name missing")));
        };
        match handle_option(&l.text, &mut d.generic, &[], &l.file, l.line) {
            Ok(Handled::Done) => {
                if d.private.is_none() {
                    if let Some(drv) = d.generic.get_str("driver").map(str::to_string) {
                        let Some(table) = find_driver(class, &drv) else {
                            return Err(pp.error(format!(
                                "{word} {}: cannot find {word} driver \"{drv}\"",
                                d.name
                            )));
                        };
                        d.driver = Some(drv);
                        d.private = Some(Options::new(table));
                    }
                }
            }
            Ok(Handled::Unknown(opt)) => {
                let Some(private) = d.private.as_mut() else {
                    return Err(pp.error(format!(
                        "option \"{opt}\" unknown (\"driver\" must be specified before any private options)"
                    )));
                };
                match handle_option(&l.text, private, class.aliases(), &l.file, l.line) {
                    Ok(Handled::Done) => {}
                    Ok(Handled::Unknown(opt)) => {
                        return Err(pp.error(texts::driver_option_unknown(&opt)).with_source(&l.text, 0))
                    }
                    Err(e) => return Err(setting_error(pp, &l, e)),
                }
            }
            Err(e) => return Err(setting_error(pp, &l, e)),
        }
    }
    if let Some(mut d) = current.take() {
        finish_driver(&mut d)?;
        list.push(d);
    }
    match class {
        DriverClass::Router => cfg.routers = list,
        DriverClass::Transport => cfg.transports = list,
        DriverClass::Authenticator => cfg.authenticators = list,
    }
    Ok(())
}

fn read_raw(pp: &mut Preprocessor) -> Result<Vec<RawLine>, ConfigError> {
    let mut out = Vec::new();
    while let Some(l) = pp.next_line()? {
        out.push(RawLine { text: l.text, file: l.file, line: l.line });
    }
    Ok(out)
}

fn read_retry(cfg: &mut Config, pp: &mut Preprocessor) -> Result<(), ConfigError> {
    while let Some(l) = pp.next_line()? {
        let rule = super::retry::parse_line(&l.text, &l.file, l.line).map_err(|m| pp.error(m))?;
        cfg.retry_rules.push(rule);
        cfg.retry.push(RawLine { text: l.text, file: l.file, line: l.line });
    }
    Ok(())
}

fn read_rewrite(cfg: &mut Config, pp: &mut Preprocessor) -> Result<(), ConfigError> {
    while let Some(l) = pp.next_line()? {
        let rule = super::rewrite::parse_rule(&l.text, &l.file, l.line).map_err(|m| pp.error(m))?;
        cfg.rewrite_rules.push(rule);
        cfg.rewrite.push(RawLine { text: l.text, file: l.file, line: l.line });
    }
    Ok(())
}

/// rexim, like this Exim build, has no local_scan() options.
fn read_local_scan(cfg: &mut Config, pp: &mut Preprocessor) -> Result<(), ConfigError> {
    let err = pp.error("local_scan() options not supported: (LOCAL_SCAN_HAS_OPTIONS not defined in Local/Makefile)");
    cfg.local_scan = read_raw(pp)?;
    if cfg.local_scan.is_empty() {
        Ok(())
    } else {
        Err(err)
    }
}

/// The check Exim's route_init() makes after reading the routers: some
/// drivers need a transport (unless verify_only), some must not have one.
fn check_references(cfg: &Config) -> Result<(), ConfigError> {
    // auths_init(): every authenticator needs a public name, and no two
    // servers (or clients) may share one.
    for (i, a) in cfg.authenticators.iter().enumerate() {
        let Some(pa) = a.generic.get_str("public_name") else {
            return Err(ConfigError::general(format!("no public name specified for the {} authenticator", a.name)));
        };
        let (sa, ca) = super::drivers::auth_roles(a);
        for b in &cfg.authenticators[i + 1..] {
            let (sb, cb) = super::drivers::auth_roles(b);
            if b.generic.get_str("public_name").is_some_and(|pb| pb.eq_ignore_ascii_case(pa)) && ((ca && cb) || (sa && sb)) {
                let role = if ca && cb { "client" } else { "server" };
                return Err(ConfigError::general(format!(
                    "two {role} authenticators ({} and {}) have the same public name ({pa})",
                    a.name, b.name
                )));
            }
        }
    }
    for r in &cfg.routers {
        let driver = r.driver.as_deref().unwrap_or("");
        let has_transport = r.generic.get_str("transport").is_some();
        let verify_only = r.generic.get_bool("verify_only").unwrap_or(false);
        let message = match driver {
            "accept" | "dnslookup" | "ipliteral" if !has_transport && !verify_only => {
                "a transport is required for this router"
            }
            "iplookup" | "redirect" if has_transport => "a transport must not be defined for this router",
            _ => continue,
        };
        return Err(ConfigError::general(format!("{} router:\n  {message}", r.name)));
    }
    Ok(())
}
