//! The linear-search family: lsearch, wildlsearch, nwildlsearch, iplsearch.
//!
//! Exim scans the file for every lookup; rexim parses it once into entries
//! (revalidated by stat, so a changed file is seen as Exim would see it)
//! and indexes it: literal keys by their lower-cased form, and for
//! iplsearch by (prefix length, masked address), so that a lookup in a
//! 100,000-line file costs a few hash probes. The first matching line wins,
//! as in Exim's scan.

use super::{Lookup, LookupEnv, LookupKind, LookupOutcome, Lookups};
use crate::lists::{regex, Expanded};
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

/// One logical line (key line plus continuation lines) of a file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key, de-quoted.
    pub key: String,
    /// The data: rest of the key line after white space and an optional
    /// colon, joined with continuation lines by single spaces.
    pub data: String,
    /// The de-quoted key followed by the rest of the line (ret=full).
    pub full: String,
}

/// A parsed file with its indexes.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub entries: Vec<Entry>,
    by_key: HashMap<String, usize>,
    ip: Option<IpIndex>,
}

/// iplsearch index: for each (is_v6, prefix length), masked address ->
/// first line; plus the first line keyed by a literal "*".
#[derive(Debug, Default)]
struct IpIndex {
    nets: Vec<((bool, u8), HashMap<u128, usize>)>,
    star: Option<usize>,
}

/// stat-identity of a file, to notice replacement or change.
type Stamp = (u64, u64, i64, i64, u64);

/// Parsed files, by path.
#[derive(Default)]
pub struct FileCache {
    files: HashMap<String, (Stamp, Arc<ParsedFile>)>,
}

impl FileCache {
    pub fn clear(&mut self) {
        self.files.clear();
    }

    /// The parsed file, or Exim's open-failure message.
    pub fn get(&mut self, path: &str, want_ip: bool) -> Result<Arc<ParsedFile>, String> {
        let f = std::fs::File::open(path).map_err(|e| format!("failed to open {path} for linear search: {}", crate::lookups::error::strerror(&e)))?;
        let md = f.metadata().map_err(|e| format!("failed to open {path} for linear search: {}", crate::lookups::error::strerror(&e)))?;
        if !md.is_file() {
            return Err(format!("{path} is not a regular file (lsearch lookup)"));
        }
        let stamp = (md.dev(), md.ino(), md.mtime(), md.mtime_nsec(), md.size());
        if let Some((s, p)) = self.files.get(path) {
            if *s == stamp && (!want_ip || p.ip.is_some()) {
                return Ok(p.clone());
            }
        }
        let bytes = std::fs::read(path).map_err(|e| format!("failed to open {path} for linear search: {}", crate::lookups::error::strerror(&e)))?;
        let mut parsed = parse(&crate::bytes::from_vec(bytes));
        if want_ip {
            parsed.ip = Some(index_ip(&parsed.entries));
        }
        let p = Arc::new(parsed);
        self.files.insert(path.to_string(), (stamp, p.clone()));
        Ok(p)
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Exim's string_interpret_escape() for one escape after a backslash;
/// returns the character and how many bytes of `s` were used.
pub fn interpret_escape(s: &[u8]) -> (u8, usize) {
    let Some(&c) = s.first() else { return (b'\\', 0) };
    match c {
        b'0'..=b'7' => {
            let mut v: u32 = 0;
            let mut n = 0;
            while n < 3 && s.get(n).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                v = v * 8 + (s[n] - b'0') as u32;
                n += 1;
            }
            (v as u8, n)
        }
        b'x' => {
            let mut v: u32 = 0;
            let mut n = 1;
            while n < 3 && s.get(n).is_some_and(|d| d.is_ascii_hexdigit()) {
                v = v * 16 + (s[n] as char).to_digit(16).unwrap_or(0);
                n += 1;
            }
            (v as u8, n)
        }
        b'b' => (8, 1),
        b'f' => (12, 1),
        b'n' => (b'\n', 1),
        b'r' => (b'\r', 1),
        b't' => (b'\t', 1),
        b'v' => (11, 1),
        other => (other, 1),
    }
}

/// Split a key line into (de-quoted key, rest after the key).
fn split_key(line: &str) -> (String, &str) {
    let b = line.as_bytes();
    if b.first() == Some(&b'"') {
        let mut key = Vec::new();
        let mut i = 1;
        while i < b.len() && b[i] != b'"' {
            if b[i] == b'\\' {
                let (c, n) = interpret_escape(&b[i + 1..]);
                crate::bytes::push_escaped(&mut key, &b[i + 1..], c);
                i += 1 + n;
            } else {
                key.push(b[i]);
                i += 1;
            }
        }
        if i < b.len() {
            i += 1;
        }
        (crate::bytes::utf8_buffer(key), &line[i..])
    } else {
        let end = line.find(|c: char| c == ':' || is_space(c)).unwrap_or(line.len());
        (line[..end].to_string(), &line[end..])
    }
}

/// Parse the whole text of an lsearch-format file.
pub fn parse(text: &str) -> ParsedFile {
    let mut pf = ParsedFile::default();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        // Keys start in column one; comments and indented lines are not keys.
        if line.is_empty() || line.starts_with('#') || line.starts_with(is_space) {
            continue;
        }
        let (key, rest) = split_key(line);
        let mut d = rest.trim_start_matches(is_space);
        if let Some(x) = d.strip_prefix(':') {
            d = x.trim_start_matches(is_space);
        }
        let mut data = d.trim_end_matches(is_space).to_string();
        let mut full = format!("{key}{}", rest.trim_end_matches(is_space));
        // Continuation lines start with white space and are not blank.
        while let Some(next) = lines.peek() {
            let t = next.trim_matches(is_space);
            if !next.starts_with(is_space) || t.is_empty() {
                break;
            }
            data.push(' ');
            data.push_str(t);
            full.push(' ');
            full.push_str(t);
            lines.next();
        }
        let lc = key.to_ascii_lowercase();
        let idx = pf.entries.len();
        pf.by_key.entry(lc).or_insert(idx);
        pf.entries.push(Entry { key, data, full });
    }
    pf
}

/// Parse an IP address with an optional /mask (Exim's
/// string_is_ip_address() with a mask pointer).
pub fn parse_ip_net(s: &str) -> Option<IpNet> {
    let (addr, mask) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match mask {
        Some(m) if !m.is_empty() && m.bytes().all(|c| c.is_ascii_digit()) => m.parse::<u8>().ok().filter(|&l| l <= max)?,
        Some(_) => return None,
        None => max,
    };
    IpNet::new(ip, len).ok()
}

fn addr_bits(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u32::from(a) as u128),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

fn masked(bits: u128, v6: bool, len: u8) -> u128 {
    let width = if v6 { 128 } else { 32 };
    if len == 0 {
        0
    } else {
        bits & (u128::MAX << (width - len as u32)) & if v6 { u128::MAX } else { 0xffff_ffff }
    }
}

fn index_ip(entries: &[Entry]) -> IpIndex {
    let mut groups: HashMap<(bool, u8), HashMap<u128, usize>> = HashMap::new();
    let mut star = None;
    for (i, e) in entries.iter().enumerate() {
        if e.key == "*" {
            star.get_or_insert(i);
            continue;
        }
        let Some(net) = parse_ip_net(&e.key) else { continue };
        let (v6, bits) = addr_bits(net.addr());
        let len = net.prefix_len();
        groups.entry((v6, len)).or_default().entry(masked(bits, v6, len)).or_insert(i);
    }
    let mut nets: Vec<_> = groups.into_iter().collect();
    nets.sort_by_key(|(k, _)| *k);
    IpIndex { nets, star }
}

impl ParsedFile {
    /// First line whose key equals `key` caselessly.
    pub fn find_literal(&self, key: &str) -> Option<&Entry> {
        self.by_key.get(&key.to_ascii_lowercase()).map(|&i| &self.entries[i])
    }

    /// First line whose network contains `ip` (iplsearch).
    fn find_ip(&self, key: &str) -> Option<&Entry> {
        let idx = self.ip.as_ref()?;
        if key == "*" {
            return idx.star.map(|i| &self.entries[i]);
        }
        let ip: IpAddr = key.parse().ok()?;
        let (v6, bits) = addr_bits(ip);
        idx.nets
            .iter()
            .filter(|((f, _), _)| *f == v6)
            .filter_map(|((_, len), m)| m.get(&masked(bits, v6, *len)).copied())
            .min()
            .map(|i| &self.entries[i])
    }
}

/// A (n)wildlsearch key is matched as a one-item list (Exim calls
/// match_isinlist() with no named lists and no `@` specials): `!`
/// negates; then `^regex` (caseless unless `(?-i)`), `*suffix`, a nested
/// `type;file-or-query` lookup, or a caseless literal. Err: DEFER message.
fn wild_match(lookups: &mut Lookups, env: &mut dyn LookupEnv, subject: &str, key: &str) -> Result<bool, String> {
    let (negated, pattern) = match key.strip_prefix('!') {
        Some(r) => (true, r.trim_start_matches(|c: char| c.is_ascii_whitespace())),
        None => (false, key),
    };
    let hit = if pattern.starts_with('^') {
        let re = regex::compile(pattern, true)?;
        regex::captures(&re, subject)?.is_some()
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        subject.len() >= suffix.len()
            && subject.is_char_boundary(subject.len() - suffix.len())
            && subject[subject.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    } else if let Some(semi) = pattern.find(';') {
        let spec = super::LookupSpec::parse(&pattern[..semi]).map_err(|e| e.to_string())?;
        let arg = &pattern[semi + 1..];
        let found = if spec.is_query_style() {
            lookups.query(&spec, arg, env)
        } else {
            lookups.find(&spec, arg, subject, env).map_err(|e| e.to_string())?
        };
        match found.outcome {
            LookupOutcome::Found(_) => true,
            LookupOutcome::NotFound => false,
            LookupOutcome::Defer(m) => return Err(m),
        }
    } else {
        subject.eq_ignore_ascii_case(pattern)
    };
    // One-item list: a negative item that does not match means "in".
    Ok(hit != negated)
}

/// Which member of the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Plain,
    Wild,
    NWild,
    Ip,
}

pub struct LsearchFamily {
    name: &'static str,
    variant: Variant,
}

pub static LSEARCH: LsearchFamily = LsearchFamily { name: "lsearch", variant: Variant::Plain };
pub static WILDLSEARCH: LsearchFamily = LsearchFamily { name: "wildlsearch", variant: Variant::Wild };
pub static NWILDLSEARCH: LsearchFamily = LsearchFamily { name: "nwildlsearch", variant: Variant::NWild };
pub static IPLSEARCH: LsearchFamily = LsearchFamily { name: "iplsearch", variant: Variant::Ip };

fn value_of(e: &Entry, opts: &[(String, String)]) -> String {
    if opts.iter().any(|(k, v)| k == "ret" && v == "full") {
        e.full.clone()
    } else {
        e.data.clone()
    }
}

impl Lookup for LsearchFamily {
    fn name(&self) -> &'static str {
        self.name
    }
    fn kind(&self) -> LookupKind {
        LookupKind::SingleKey
    }
    fn open(&self, lookups: &mut Lookups, file: &str) -> Result<(), String> {
        lookups.files.get(file, self.variant == Variant::Ip).map(|_| ())
    }
    fn find(&self, lookups: &mut Lookups, file: &str, key: &str, opts: &[(String, String)], env: &mut dyn LookupEnv) -> LookupOutcome {
        if self.variant == Variant::Ip && key != "*" && key.parse::<IpAddr>().is_err() {
            return LookupOutcome::Defer(format!(
                "\"{key}\" is not a valid iplsearch key (an IP address, with optional CIDR mask, is wanted): in a host list, use net-iplsearch as the search type"
            ));
        }
        let pf = match lookups.files.get(file, self.variant == Variant::Ip) {
            Ok(p) => p,
            Err(m) => return LookupOutcome::Defer(m),
        };
        let hit = match self.variant {
            Variant::Plain => pf.find_literal(key).map(|e| value_of(e, opts)),
            Variant::Ip => pf.find_ip(key).map(|e| value_of(e, opts)),
            Variant::Wild | Variant::NWild => {
                let mut hit = None;
                for e in &pf.entries {
                    let pattern = if self.variant == Variant::Wild {
                        match env.expand(&e.key) {
                            Expanded::Ok(p) => p,
                            Expanded::ForcedFail => continue,
                            Expanded::Error(m) => {
                                // Exim's list code logs this and defers with
                                // the (usually empty) search_error_message.
                                lookups.log.push(format!("failed to expand \"{}\" while checking a list: {m}", e.key));
                                return LookupOutcome::Defer(lookups.search_error_message.clone().unwrap_or_default());
                            }
                        }
                    } else {
                        e.key.clone()
                    };
                    match wild_match(lookups, env, key, &pattern) {
                        Ok(true) => {
                            hit = Some(value_of(e, opts));
                            break;
                        }
                        Ok(false) => {}
                        Err(m) => return LookupOutcome::Defer(m),
                    }
                }
                hit
            }
        };
        match hit {
            Some(v) => LookupOutcome::Found(v),
            None => LookupOutcome::NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The file and the results were recorded with Exim 4.96.
    const LS2: &str = "k1: a\n\n  b\nk2: a\n# c\n  b\nk3: a\n  # c\n  b\nk4: a\n \n  b\nk5: a\n\tb  \n   \tc\nk6 a\nk6 dup\n  k7: x\nk8:a:b\n\"k9\\\"q\" v9\n\"k10 v10\nk11:\t\n  x\nK12: A\n";

    #[test]
    fn lsearch_format_as_exim() {
        let pf = parse(LS2);
        let get = |k: &str| pf.find_literal(k).map(|e| e.data.clone());
        assert_eq!(get("k1").as_deref(), Some("a"));
        assert_eq!(get("k2").as_deref(), Some("a"));
        assert_eq!(get("k3").as_deref(), Some("a # c b"));
        assert_eq!(get("k4").as_deref(), Some("a"));
        assert_eq!(get("k5").as_deref(), Some("a b c"));
        assert_eq!(get("k6").as_deref(), Some("a"));
        assert_eq!(get("k7"), None);
        assert_eq!(get("  k7"), None);
        assert_eq!(get("k8").as_deref(), Some("a:b"));
        assert_eq!(get("k9\"q").as_deref(), Some("v9"));
        assert_eq!(get("k10"), None);
        assert_eq!(get("k10 v10").as_deref(), Some(""));
        assert_eq!(get("k11").as_deref(), Some(" x"));
        assert_eq!(get("k12").as_deref(), Some("A"));
        assert_eq!(get("K12").as_deref(), Some("A"));
    }

    #[test]
    fn ip_index_first_match_wins() {
        let mut pf = parse("1.2.3.4: one\n10.0.0.0/8 ten\n\"abcd::cdab\": v6\n\"abcd:abcd::/32\" v6net\n0.0.0.0/0 all\n10.1.0.0/16 late\nbogus x\n");
        pf.ip = Some(index_ip(&pf.entries));
        let get = |k: &str| pf.find_ip(k).map(|e| e.data.clone());
        assert_eq!(get("1.2.3.4").as_deref(), Some("one"));
        assert_eq!(get("10.1.9.9").as_deref(), Some("ten"));
        assert_eq!(get("abcd::cdab").as_deref(), Some("v6"));
        assert_eq!(get("abcd:abcd::1").as_deref(), Some("v6net"));
        assert_eq!(get("11.1.1.1").as_deref(), Some("all"));
        assert_eq!(get("1::1"), None);
        assert_eq!(pf.find_ip("1.2.3.4").unwrap().full, "1.2.3.4: one");
    }

    #[test]
    fn escapes() {
        assert_eq!(interpret_escape(b"t"), (b'\t', 1));
        assert_eq!(interpret_escape(b"101x"), (b'A', 3));
        assert_eq!(interpret_escape(b"x41"), (b'A', 3));
        assert_eq!(split_key("\"a\\tb\" rest").0, "a\tb");
    }

    #[test]
    fn masks() {
        assert_eq!(parse_ip_net("1.2.3.4/33"), None);
        assert_eq!(parse_ip_net("1.2.3.4/").map(|n| n.prefix_len()), None);
        assert_eq!(parse_ip_net("::1").map(|n| n.prefix_len()), Some(128));
    }
}
