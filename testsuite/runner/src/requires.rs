//! Optional features: category REQUIRES files checked against the
//! binary's `-bV` output ("Support for:", "Lookups", "Authenticators",
//! "Routers", "Transports", "Malware") and its built-in macros.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Default)]
pub struct Features {
    /// "support X", "lookup X", "authenticator X", "router X",
    /// "transport X", "malware X", "feature _HAVE_X" (lowercased names).
    items: BTreeSet<String>,
    pub version: String,
    pub ipv4: bool,
    pub ipv6: bool,
    /// off_t is wider than 4 bytes ("Size of off_t: 8").
    pub large_files: bool,
    /// Services a `running X` line may ask for that this host can provide
    /// (see `services`).
    pub running: BTreeSet<String>,
}

/// Where the commands of a test look for programs (the PATH they get).
pub const TEST_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

/// Services of `running X` lines that are programs a test starts itself
/// with `background`: available when the program is installed. Exim's
/// 2700-redis starts `redis-server` on its default port; in the runner's
/// private network namespace nothing else can hold that port. Services the
/// test expects already running (ClamAV, SpamAssassin, socks) are never
/// assumed.
const STARTED_BY_TESTS: &[(&str, &str)] = &[("redis", "redis-server")];

/// The `running` services available with the programs found on `path`.
pub fn services(path: &str) -> BTreeSet<String> {
    STARTED_BY_TESTS
        .iter()
        .filter(|(_, program)| find_program(path, program).is_some())
        .map(|(service, _)| service.to_string())
        .collect()
}

/// An executable file named `name` in one of the directories of `path`.
pub fn find_program(path: &str, name: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path.split(':').filter(|d| !d.is_empty()).map(|d| std::path::Path::new(d).join(name)).find(|p| {
        std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    })
}

impl Features {
    pub fn from_bv(bv: &str, macros: &str) -> Features {
        let mut f = Features::default();
        for line in bv.lines() {
            if let Some(size) = line.strip_prefix("Size of off_t: ") {
                f.large_files = size.trim().parse::<u32>().map(|n| n > 4).unwrap_or(false);
                continue;
            }
            if let Some(rest) = line.strip_prefix("Exim version ") {
                f.version = rest.split_whitespace().next().unwrap_or("").to_string();
                continue;
            }
            let Some((head, list)) = line.split_once(':') else { continue };
            let kind = match head.trim() {
                "Support for" => "support",
                h if h.starts_with("Lookups") => "lookup",
                "Authenticators" => "authenticator",
                "Routers" => "router",
                "Transports" => "transport",
                "Malware" => "malware",
                _ => continue,
            };
            for word in list.split_whitespace() {
                let word = word.to_ascii_lowercase();
                // "appendfile/maildir/mailstore/mbx" lists appendfile's formats;
                // "lsearch/nwildlsearch" lists lookups of one module.
                let parts: Vec<&str> = word.split('/').collect();
                if kind == "transport" && parts.len() > 1 {
                    f.items.insert(format!("transport {}", parts[0]));
                    for p in &parts[1..] {
                        f.items.insert(format!("transport {}/{}", parts[0], p));
                    }
                } else {
                    for p in parts {
                        f.items.insert(format!("{} {}", kind, p));
                    }
                }
            }
        }
        for m in macros.lines() {
            if let Some(name) = m.split(['=', ' ']).next() {
                if name.starts_with('_') {
                    f.items.insert(format!("feature {}", name.to_ascii_lowercase()));
                }
            }
        }
        f
    }

    pub fn has(&self, item: &str) -> bool {
        self.items.contains(&item.to_ascii_lowercase())
    }

    /// Check one REQUIRES line; Err(reason) when it is not met.
    pub fn check(&self, requirement: &str) -> Result<(), String> {
        let req = requirement.trim();
        if req.is_empty() || req.starts_with('#') {
            return Ok(());
        }
        if let Some(what) = req.strip_prefix("running ") {
            return match what.trim() {
                "IPv4" if self.ipv4 => Ok(()),
                "IPv6" if self.ipv6 => Ok(()),
                other if self.running.contains(other) => Ok(()),
                other => Err(format!("REQUIRES: running {} (not available here)", other)),
            };
        }
        // A feature that left Exim's experimental set is listed without
        // the prefix by builds made after the suite's REQUIRES file.
        let promoted = req.strip_prefix("support Experimental_").map(|f| self.has(&format!("support {}", f))).unwrap_or(false);
        if self.has(req) || promoted {
            Ok(())
        } else {
            Err(format!("REQUIRES: {} (not in the binary's -bV output)", req))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BV: &str = "Exim version 4.96 #2 built 27-May-2026 16:52:26\nSupport for: crypteq iconv() IPv6 GnuTLS DKIM\nLookups (built-in): lsearch wildlsearch nwildlsearch iplsearch cdb dnsdb\nAuthenticators: cram_md5 plaintext\nRouters: accept dnslookup\nTransports: appendfile/maildir/mailstore autoreply lmtp pipe smtp\nMalware: clamd\n";

    #[test]
    fn parses_bv() {
        let f = Features::from_bv(BV, "_HAVE_TLS=y\n_OPT_X=1\n");
        assert_eq!(f.version, "4.96");
        assert!(!f.large_files);
        assert!(Features::from_bv("Size of off_t: 8\n", "").large_files);
        for ok in ["support GnuTLS", "lookup dnsdb", "authenticator plaintext", "router accept", "transport appendfile/maildir", "transport lmtp", "malware clamd", "feature _HAVE_TLS", "support iconv()"] {
            assert!(f.check(ok).is_ok(), "{}", ok);
        }
        assert!(Features::from_bv("Support for: Queue_Ramp\n", "").check("support Experimental_Queue_Ramp").is_ok());
        let mut g = f.clone();
        g.running.insert("redis".into());
        assert!(g.check("running redis").is_ok());
        assert!(g.check("running ClamAV").is_err());
        for bad in ["support OpenSSL", "lookup redis", "transport appendfile/mbx", "feature _HAVE_XYZ", "running redis"] {
            assert!(f.check(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn services_are_installed_programs() {
        let dir = std::env::temp_dir().join(format!("rexim-requires-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = format!("/nonexistent:{}", dir.display());
        assert!(services(&path).is_empty());
        std::fs::write(dir.join("redis-server"), "#!/bin/sh\n").unwrap();
        assert!(services(&path).is_empty(), "not executable");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("redis-server"), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(services(&path).into_iter().collect::<Vec<_>>(), vec!["redis"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
