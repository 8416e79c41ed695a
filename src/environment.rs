//! The process environment as Exim arranges it at start-up:
//! `keep_environment` removes everything it does not list, and
//! `add_environment` adds `name=value` pairs.

/// Apply the two options. `None` for keep_environment means unset: the
/// environment is then left alone (Exim warns about that in its log).
pub fn apply(keep: Option<&str>, add: Option<&str>) {
    if let Some(keep) = keep {
        let patterns = crate::expand::lists::list_items(keep);
        let doomed: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|name| !patterns.iter().any(|p| name_matches(p, name)))
            .collect();
        for name in doomed {
            // SAFETY: rexim is single-threaded at start-up, when this runs.
            unsafe { std::env::remove_var(name) };
        }
    }
    if let Some(add) = add {
        for item in crate::expand::lists::list_items(add) {
            if let Some((k, v)) = item.split_once('=') {
                // SAFETY: as above.
                unsafe { std::env::set_var(k, v) };
            }
        }
    }
}

/// A keep_environment item is a name, a `^` regular expression, or a
/// name with wildcards as Exim's match_isinlist allows.
fn name_matches(pattern: &str, name: &str) -> bool {
    if pattern.starts_with('^') {
        return pcre2::bytes::Regex::new(pattern).ok().and_then(|re| re.is_match(name.as_bytes()).ok()).unwrap_or(false);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return name.ends_with(suffix);
    }
    pattern == name
}

static INITIAL_CWD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The directory rexim was started in (`$initial_cwd`); the first call
/// records it, so make it before changing directory.
pub fn initial_cwd() -> &'static str {
    INITIAL_CWD.get_or_init(|| std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default())
}
