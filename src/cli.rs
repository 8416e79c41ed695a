//! Exim's command line.

use std::path::PathBuf;

use crate::config;

pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config_path: Option<PathBuf> = None;
    let mut defines: Vec<(String, String)> = Vec::new();
    let mut mode: Option<&str> = None;
    let mut no_labels = false;
    let mut rest: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if mode.is_some() {
            rest.push(a.to_string());
        } else if a == "-C" && i + 1 < args.len() {
            i += 1;
            config_path = Some(PathBuf::from(&args[i]));
        } else if let Some(p) = a.strip_prefix("-C").filter(|p| !p.is_empty()) {
            config_path = Some(PathBuf::from(p));
        } else if let Some(d) = a.strip_prefix("-D") {
            match config::parse_define(d) {
                Ok(m) => defines.push(m),
                Err(e) => {
                    eprintln!("{e}");
                    return 1;
                }
            }
        } else if a == "-n" {
            no_labels = true;
        } else if a == "-bP" || a == "-bV" {
            mode = Some(if a == "-bP" { "P" } else { "V" });
        }
        i += 1;
    }
    match mode {
        Some("P") => config::bp_main(config_path.as_deref(), &defines, &rest, no_labels),
        Some("V") => config::bv_main(config_path.as_deref(), &defines),
        _ => 0,
    }
}
