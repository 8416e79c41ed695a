//! dsearch: is there a directory entry named by the key (lstat())?
//! Options: ret=full (the whole path), filter=file|dir|subdir.

use super::{Lookup, LookupEnv, LookupKind, LookupOutcome, Lookups};
use std::os::unix::fs::FileTypeExt;

pub struct Dsearch;

impl Lookup for Dsearch {
    fn name(&self) -> &'static str {
        "dsearch"
    }
    fn kind(&self) -> LookupKind {
        LookupKind::SingleKey
    }
    fn open(&self, _l: &mut Lookups, dir: &str) -> Result<(), String> {
        match std::fs::read_dir(dir) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("failed to open {dir} for directory search: {}", crate::lookups::error::strerror(&e))),
        }
    }
    fn find(&self, _l: &mut Lookups, dir: &str, key: &str, opts: &[(String, String)], _env: &mut dyn LookupEnv) -> LookupOutcome {
        if key.contains('/') {
            return LookupOutcome::Defer(format!("key for dsearch lookup contains a slash: {key}"));
        }
        let path = format!("{dir}/{key}");
        let md = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return LookupOutcome::NotFound,
            Err(e) => return LookupOutcome::Defer(format!("{path}: lstat: {}", crate::lookups::error::strerror(&e))),
        };
        let opt = |n: &str| opts.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        let ft = md.file_type();
        let wanted = match opt("filter") {
            Some("file") => ft.is_file(),
            Some("dir") => ft.is_dir(),
            Some("subdir") => ft.is_dir() && key != "." && key != "..",
            _ => true,
        };
        let _ = ft.is_fifo();
        if !wanted {
            // Exim sets errno to its internal ERRNO_MISMATCH (-4) and reports
            // it like a failed lstat(): a DEFER. Recorded from Exim 4.96.
            return LookupOutcome::Defer(format!("{path}: lstat: Unknown error -4"));
        }
        LookupOutcome::Found(if opt("ret") == Some("full") { path } else { key.to_string() })
    }
}
