//! `-bP` output, as Exim's readconf_print(), print_ol() and print_config().

use super::drivers::{DriverClass, DriverInstance};
use super::main_table::OptionDef;
use super::named_lists::ListKind;
use super::options::{Options, OptionSlot};
use super::value::{print_value, Kind, Value};
use super::{Config, MAIN_ALIASES};

/// What a hidden value shows to a non-admin caller.
const HIDDEN: &str = "<value not displayable>";

/// One option as print_ol() prints it (without the newline). `name` is the
/// name asked for (it may be an alias).
fn option_line(def: &OptionDef, slot: &OptionSlot, name: &str, admin: bool, no_labels: bool) -> String {
    // Booleans, and unset fixed-point values, keep their names under -n.
    if def.kind == Kind::ExpandBool {
        if let Value::Str(v) = &slot.value {
            return format!("{name} = {}", super::value::string_printing(v));
        }
    }
    if def.kind.is_bool() {
        let on = matches!(slot.value, Value::Bool(true));
        return if on { name.to_string() } else { format!("no_{name}") };
    }
    if def.kind == Kind::Fixed && matches!(slot.value, Value::Unset) {
        return format!("{name} =");
    }
    if slot.secure && !admin {
        return if no_labels { HIDDEN.to_string() } else { format!("{name} = {HIDDEN}") };
    }
    match print_value(def.kind, &slot.value) {
        Some(v) if no_labels => v,
        Some(v) => format!("{name} = {v}"),
        None if no_labels => String::new(),
        None => format!("{name} ="),
    }
}

/// `-bP NAME` for a main option; None when there is no such option.
pub fn main_option_line(cfg: &Config, name: &str, admin: bool) -> Option<String> {
    main_option_line_labels(cfg, name, admin, false)
}

pub fn main_option_line_labels(cfg: &Config, name: &str, admin: bool, no_labels: bool) -> Option<String> {
    let target = MAIN_ALIASES.iter().find(|(a, _)| *a == name).map(|(_, t)| *t).unwrap_or(name);
    let i = cfg.main.index(target)?;
    Some(option_line(&cfg.main.table[i], &cfg.main.slots[i], name, admin, no_labels))
}

/// All main options (`-bP` with no names).
pub fn all_main(cfg: &Config, admin: bool, no_labels: bool, out: &mut String) {
    for (def, slot) in cfg.main.table.iter().zip(&cfg.main.slots) {
        if !def.hidden {
            out.push_str(&option_line(def, slot, def.name, admin, no_labels));
            out.push('\n');
        }
    }
}

fn options_lines(opts: &Options, admin: bool, no_labels: bool, out: &mut String) {
    for (def, slot) in opts.table.iter().zip(&opts.slots) {
        if !def.hidden {
            out.push_str(&option_line(def, slot, def.name, admin, no_labels));
            out.push('\n');
        }
    }
}

fn driver_lines(d: &DriverInstance, admin: bool, no_labels: bool, out: &mut String) {
    options_lines(&d.generic, admin, no_labels, out);
    if let Some(p) = &d.private {
        options_lines(p, admin, no_labels, out);
    }
}

/// `-bP router NAME`, `-bP routers`, `-bP router_list` and the same for
/// transports and authenticators. Returns false when a named one is missing.
pub fn drivers(cfg: &Config, class: DriverClass, name: Option<&str>, names_only: bool, admin: bool, no_labels: bool, out: &mut String) -> bool {
    let list = cfg.drivers(class);
    if names_only {
        for d in list {
            out.push_str(&d.name);
            out.push('\n');
        }
        return true;
    }
    for d in list {
        match name {
            None => out.push_str(&format!("\n{} {}:\n", d.name, class.word())),
            Some(n) if n != d.name => continue,
            Some(_) => {}
        }
        driver_lines(d, admin, no_labels, out);
        if name.is_some() {
            return true;
        }
    }
    if let Some(n) = name {
        out.push_str(&format!("{} {n} not found\n", class.word()));
        return false;
    }
    true
}

/// `-bP +NAME`: a named list of any kind.
pub fn named_list(cfg: &Config, name: &str, no_labels: bool, out: &mut String) -> bool {
    let mut found = false;
    for kind in ListKind::ALL {
        if let Some(l) = cfg.named_list(kind, name) {
            found = true;
            let v = if l.hide { "<value not displayable>" } else { l.value.as_str() };
            if no_labels {
                out.push_str(&format!("{v}\n"));
            } else {
                out.push_str(&format!("{}list {} = {}\n", kind.prefix(), name, v));
            }
        }
    }
    if !found {
        out.push_str(&format!("no address, domain, host, or local part list called \"{name}\" exists\n"));
    }
    found
}

/// `-bP macros`, `-bP macro NAME`, `-bP macro_list`.
pub fn macros(cfg: &Config, name: Option<&str>, names_only: bool, no_labels: bool, out: &mut String) -> bool {
    for m in cfg.macros.all() {
        if name.is_some_and(|n| n != m.name) {
            continue;
        }
        if names_only {
            out.push_str(&format!("{}\n", m.name));
        } else if no_labels {
            out.push_str(&format!("{}\n", m.replacement));
        } else {
            out.push_str(&format!("{}={}\n", m.name, m.replacement));
        }
        if name.is_some() {
            return true;
        }
    }
    match name {
        None => true,
        Some(n) => {
            out.push_str(&format!("macro {n} not found\n"));
            false
        }
    }
}

/// `-bP config`: Exim's print_config().
pub fn config(cfg: &Config, admin: bool, terse: bool, out: &mut String) {
    let ts = if terse { 0 } else { 2 };
    let mut indent = 0;
    out.push_str("# Exim Configuration (4.96)\n");
    for raw in &cfg.config_lines {
        let current = raw.trim_start();
        if current.is_empty() {
            continue;
        }
        let current = collapse_spaces(current);
        if current.starts_with('#') {
            out.push_str(&current);
            out.push('\n');
        } else if current.starts_with("begin") && current[5..].starts_with(|c: char| c.is_ascii_whitespace()) {
            if !terse {
                out.push('\n');
            }
            out.push_str(&current);
            out.push('\n');
            indent = ts;
        } else if current.ends_with(':') && !current.contains('=') {
            if !terse {
                out.push('\n');
            }
            out.push_str(&format!("{:w$}{current}\n", "", w = ts));
            indent = 2 * ts;
        } else if !admin
            && (current.starts_with(|c: char| c.is_ascii_uppercase())
                || (current.starts_with("hide") && current[4..].starts_with(|c: char| c.is_ascii_whitespace())))
        {
            match current.find('=') {
                Some(p) => out.push_str(&format!("{:w$}{}= {HIDDEN}\n", "", &current[..p], w = indent)),
                None => out.push_str(&format!("{:w$}\n", HIDDEN, w = indent)),
            }
        } else {
            out.push_str(&format!("{:w$}{current}\n", "", w = indent));
        }
    }
}

/// Runs of white space become one space, as Exim's print_config() does
/// it, including its quirk: after a run is shortened, the character it
/// tests for `"`, `'` or `$` (which stop the collapsing) is the one that
/// has moved into the run's old end.
fn collapse_spaces(s: &str) -> String {
    let mut b = s.as_bytes().to_vec();
    let mut p = 0;
    while p < b.len() {
        if !b[p].is_ascii_whitespace() {
            p += 1;
            continue;
        }
        b[p] = b' ';
        let mut next = p;
        while next < b.len() && b[next].is_ascii_whitespace() {
            next += 1;
        }
        if next - p > 1 {
            b.drain(p + 1..next);
        }
        if matches!(b.get(next), Some(b'"') | Some(b'\'') | Some(b'$')) {
            break;
        }
        p += 1;
    }
    String::from_utf8_lossy(&b).into_owned()
}
