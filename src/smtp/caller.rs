//! The local process that runs `-bs`: its login, its name from the
//! password file, and whether Exim trusts it (root, the Exim user,
//! `trusted_users`, `trusted_groups`). An untrusted caller cannot choose
//! the envelope sender (unless `untrusted_set_sender` allows it), and its
//! messages get Exim's local fix-ups: a From: line with its name, a
//! Sender: line when the From: is not its own address.

use super::config::SmtpConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub login: String,
    pub uid: u32,
    pub gid: u32,
    /// The full name (gecos up to its first comma, `&` as the login
    /// with a capital), fixed up as an RFC 2822 phrase; may be empty.
    pub name: String,
    pub trusted: bool,
}

impl Caller {
    /// A trusted caller with no name (tests, and tools that act for root).
    pub fn trusted(login: &str) -> Caller {
        Caller { login: login.to_string(), uid: 0, gid: 0, name: String::new(), trusted: true }
    }

    /// The process's real user, as Exim sees its caller.
    pub fn of_this_process(cfg: &SmtpConfig) -> Caller {
        // SAFETY: getuid and getgid have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let (login, gecos) = password_entry(uid).unwrap_or_else(|| (uid.to_string(), String::new()));
        let trusted = is_trusted(cfg, uid, gid, &supplementary_groups());
        Caller { name: originator_name(&gecos, &login), login, uid, gid, trusted }
    }

    /// The address the caller sends from: its login at `qualify_domain`.
    pub fn address(&self, qualify_domain: &str) -> String {
        format!("{}@{}", self.login, qualify_domain)
    }

    /// Is a From: address the caller's own (Exim's local_from_check)? Its
    /// local part may carry a prefix from `prefixes` and a suffix from
    /// `suffixes` (`*` allowed at the outer end, as for routers); an
    /// unqualified address is the caller's when it is the login.
    pub fn owns(&self, from: &str, qualify_domain: &str, prefixes: Option<&str>, suffixes: Option<&str>) -> bool {
        let (local, domain) = match from.rsplit_once('@') {
            Some((l, d)) => (l, Some(d)),
            None => (from, None),
        };
        let local = &local[affix_length(local, prefixes, true)..];
        let local = &local[..local.len() - affix_length(local, suffixes, false)];
        match domain {
            Some(d) => local.eq_ignore_ascii_case(&self.login) && d.eq_ignore_ascii_case(qualify_domain),
            None => local.eq_ignore_ascii_case(&self.login),
        }
    }

    /// `Name <address>`, or the bare address when there is no name.
    pub fn mailbox(&self, address: &str) -> String {
        if self.name.is_empty() {
            address.to_string()
        } else {
            format!("{} <{address}>", self.name)
        }
    }
}

/// Exim's trusted callers: root and the Exim user always; others by
/// `trusted_users`, or by `trusted_groups` for the real or a
/// supplementary group.
fn is_trusted(cfg: &SmtpConfig, uid: u32, gid: u32, groups: &[u32]) -> bool {
    let exim_uid = crate::config::value::find_user(&cfg.exim_user);
    if uid == 0 || exim_uid == Some(uid) {
        return true;
    }
    let listed = |list: &Option<String>, find: fn(&str) -> Option<u32>, ids: &[u32]| {
        list.as_deref().is_some_and(|l| {
            crate::lists::list_items(l, crate::lists::ListSep::Default).iter().filter_map(|item| find(item)).any(|id| ids.contains(&id))
        })
    };
    listed(&cfg.trusted_users, crate::config::value::find_user, &[uid])
        || listed(&cfg.trusted_groups, crate::config::value::find_group, &[&[gid][..], groups].concat())
}

/// The length of the first prefix (or suffix) in `list` that `local`
/// has, 0 for none: Exim's route_check_prefix() and route_check_suffix(),
/// where a `*` at the outer end stands for any text (the longest match).
fn affix_length(local: &str, list: Option<&str>, prefix: bool) -> usize {
    let Some(list) = list else { return 0 };
    let lower = local.to_ascii_lowercase();
    for item in crate::lists::list_items(list, crate::lists::ListSep::Default) {
        let item = item.to_ascii_lowercase();
        let found = match (prefix, item.strip_prefix('*'), item.strip_suffix('*')) {
            (true, Some(fixed), _) => lower.rfind(fixed).map(|at| at + fixed.len()),
            (false, _, Some(fixed)) => lower.find(fixed).map(|at| local.len() - at),
            (true, None, _) => lower.starts_with(&item).then_some(item.len()),
            (false, _, None) => lower.ends_with(&item).then_some(item.len()),
        };
        // A prefix or suffix never takes the whole local part.
        if let Some(n) = found.filter(|&n| n < local.len()) {
            return n;
        }
    }
    0
}

/// The login and gecos field of a user.
pub(crate) fn password_entry(uid: u32) -> Option<(String, String)> {
    // SAFETY: getpwuid returns NULL or a pointer to a static record, read
    // at once; its strings are NUL-terminated.
    unsafe {
        let pw = libc::getpwuid(uid);
        if pw.is_null() {
            return None;
        }
        let text = |p: *const libc::c_char| {
            if p.is_null() {
                String::new()
            } else {
                std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        Some((text((*pw).pw_name), text((*pw).pw_gecos)))
    }
}

fn supplementary_groups() -> Vec<u32> {
    // SAFETY: a first call with size 0 asks for the count; the second
    // fills a buffer of that size.
    unsafe {
        let n = libc::getgroups(0, std::ptr::null_mut());
        if n <= 0 {
            return Vec::new();
        }
        let mut groups = vec![0; n as usize];
        let got = libc::getgroups(n, groups.as_mut_ptr());
        groups.truncate(got.max(0) as usize);
        groups
    }
}

/// The caller's full name from the gecos field: up to the first comma,
/// each `&` standing for the login with its first letter in capitals (the
/// Unix convention Exim follows), made a valid phrase (Debian's
/// `headers_charset` for any RFC 2047 word).
fn originator_name(gecos: &str, login: &str) -> String {
    let name = gecos.split(',').next().unwrap_or_default();
    let name = if name.contains('&') {
        let mut capital = login.to_string();
        if let Some(first) = capital.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        name.replace('&', &capital)
    } else {
        name.to_string()
    };
    crate::rewrite::phrase::fix_phrase(&name, "UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_from_gecos() {
        assert_eq!(originator_name("Exim Testsuite Caller,,,", "eximtest"), "Exim Testsuite Caller");
        assert_eq!(originator_name("& Smith", "jim"), "Jim Smith");
        assert_eq!(originator_name("", "jim"), "");
    }

    #[test]
    fn from_addresses_of_the_caller() {
        let c = Caller { login: "jim".into(), uid: 1001, gid: 1001, name: String::new(), trusted: false };
        assert!(c.owns("jim@test.ex", "test.ex", None, None));
        assert!(c.owns("JIM@Test.Ex", "test.ex", None, None));
        assert!(c.owns("jim", "test.ex", None, None));
        assert!(!c.owns("jim@other.ex", "test.ex", None, None));
        assert!(!c.owns("x-jim@test.ex", "test.ex", None, None));
        assert!(c.owns("x-jim@test.ex", "test.ex", Some("x-"), None));
        assert!(c.owns("a-b-jim@test.ex", "test.ex", Some("*-"), None));
        assert!(c.owns("jim+list@test.ex", "test.ex", None, Some("+*")));
        assert!(c.owns("jim-y@test.ex", "test.ex", Some("x-"), Some("-y : -z")));
        assert!(!c.owns("jimmy@test.ex", "test.ex", None, Some("-*")));
    }

    #[test]
    fn trust() {
        let cfg = |extra: &[(&str, &str)]| {
            let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            SmtpConfig::from_lookup(&move |n| extra.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
        };
        assert!(is_trusted(&cfg(&[]), 0, 0, &[]));
        assert!(!is_trusted(&cfg(&[("exim_user", "4000")]), 4001, 4001, &[]));
        assert!(is_trusted(&cfg(&[("exim_user", "4000")]), 4000, 4001, &[]));
        assert!(is_trusted(&cfg(&[("trusted_users", "17 : 4001")]), 4001, 4001, &[]));
        assert!(is_trusted(&cfg(&[("trusted_groups", "4010")]), 4001, 4001, &[4010]));
        assert!(!is_trusted(&cfg(&[("trusted_groups", "4010")]), 4001, 4001, &[4011]));
    }
}
