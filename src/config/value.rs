//! Option value types and their parsers, as Exim's readconf_handle_option()
//! reads them, with Exim's error texts (see `texts.rs`).

use super::texts;

/// The type of an option (Exim's opt_* types that configurations can reach).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// opt_bool: `name`, `no_name`, `not_name`, `name = true|false|yes|no`.
    Bool,
    /// opt_expand_bool: a boolean, or a string to expand at use when the
    /// value starts with `$`.
    ExpandBool,
    /// opt_int: decimal, 0x hex or leading-0 octal, K/M/G/T suffixes.
    Int,
    /// opt_mkint: an integer printed with K or M when it is a multiple.
    MkInt,
    /// opt_Kint: a size held in kilobytes (plain numbers are kilobytes).
    KInt,
    /// opt_octint: always octal, printed in octal.
    OctInt,
    /// opt_fixed: decimal with up to three decimals, held times 1000.
    Fixed,
    /// opt_time: 1w2d3h4m5s.
    Time,
    /// opt_timelist: colon-separated ascending times.
    TimeList,
    /// smtp_receive_timeout: a time, or an expanded string when it starts with `$`.
    TimeOrExpand,
    /// opt_stringptr (lists are strings too; expansion is a table flag).
    Str,
    /// opt_uid / opt_gid: a user or group name, or a number.
    Uid,
    Gid,
    /// opt_expand_uid / opt_expand_gid: as Uid/Gid unless the value contains `$`.
    ExpandUid,
    ExpandGid,
    /// opt_uidlist / opt_gidlist: colon-separated users or groups.
    UidList,
    GidList,
}

impl Kind {
    pub fn is_bool(self) -> bool {
        matches!(self, Kind::Bool | Kind::ExpandBool)
    }
}

/// A typed option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Unset,
    Bool(bool),
    /// Int, MkInt, OctInt, Fixed (times 1000) and KInt (kilobytes).
    Int(i64),
    /// Seconds.
    Time(i64),
    TimeList(Vec<i64>),
    /// An expanded time option given as a string (smtp_receive_timeout = $x).
    Str(String),
    /// A user or group: the number and, when known, the name.
    Id(u32),
    IdList(Vec<u32>),
}

fn is_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

/// Exim's extra_chars_error(): the text of "extra characters follow ...".
fn extra_chars(rest: &str, t1: &str, t2: &str, t3: &str) -> String {
    let comment = if rest.starts_with('#') { texts::COMMENT_ONLY_AT_LINE_START } else { "" };
    format!("extra characters follow {t1}{t2}{t3}{comment}")
}

/// Parse the leading integer like C strtol(): returns (value, bytes used,
/// overflowed). Base 0 accepts 0x hex and leading-0 octal.
fn strtol(s: &str, base: u32) -> (i64, usize, bool) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut radix = base;
    if (base == 0 || base == 16) && i + 1 < b.len() && b[i] == b'0' && (b[i + 1] | 0x20) == b'x'
        && i + 2 < b.len() && (b[i + 2] as char).is_ascii_hexdigit()
    {
        radix = 16;
        i += 2;
    } else if base == 0 {
        radix = if i < b.len() && b[i] == b'0' { 8 } else { 10 };
    }
    let start = i;
    let mut v: i128 = 0;
    let mut over = false;
    while i < b.len() {
        let d = match (b[i] as char).to_digit(radix) {
            Some(d) => d,
            None => break,
        };
        v = v * radix as i128 + d as i128;
        if v > i64::MAX as i128 {
            over = true;
            v = i64::MAX as i128;
        }
        i += 1;
    }
    if i == start {
        return (0, 0, false);
    }
    let v = if neg { -(v as i64) } else { v as i64 };
    (v, i, over)
}

/// opt_int / opt_mkint / opt_octint: the value must fit a C int.
pub fn read_int(s: &str, name: &str, octal: bool) -> Result<i64, String> {
    let inttype = if octal { "octal " } else { "" };
    let (mut v, used, mut over) = strtol(s, if octal { 8 } else { 0 });
    if used == 0 {
        return Err(format!("{inttype}integer expected for {name}"));
    }
    let mut rest = &s[used..];
    if !over {
        if let Some(c) = rest.chars().next() {
            let times = match c {
                'K' | 'k' => 1,
                'M' | 'm' => 2,
                'G' | 'g' => 3,
                'T' | 't' => 4,
                _ => 0,
            };
            if times > 0 {
                rest = &rest[1..];
                for _ in 0..times {
                    if v > i32::MAX as i64 / 1024 || v < i32::MIN as i64 / 1024 {
                        over = true;
                        break;
                    }
                    v *= 1024;
                }
            }
        }
    }
    if over || v > i32::MAX as i64 || v < i32::MIN as i64 {
        return Err(format!("absolute value of integer \"{s}\" is too large (overflow)"));
    }
    let rest = rest.trim_start_matches(|c: char| is_space(c as u8));
    if !rest.is_empty() {
        return Err(extra_chars(rest, inttype, "integer value for ", name));
    }
    Ok(v)
}

/// opt_Kint: kilobytes; suffixes up to Y multiply by powers of 1024 from K.
pub fn read_kint(s: &str, name: &str) -> Result<i64, String> {
    let (mut v, used, mut over) = strtol(s, 0);
    if used == 0 {
        return Err(format!("integer expected for {name}"));
    }
    let mut rest = &s[used..];
    if !over {
        const MULT: &str = "YyZzEePpTtGgMmKk";
        if let Some(c) = rest.chars().next() {
            if let Some(pos) = MULT.find(c) {
                rest = &rest[1..];
                // K is the unit; each letter pair before it is one more 1024.
                let times = (14 - (pos & !1)) / 2;
                for _ in 0..times {
                    if v > i64::MAX / 1024 || v < i64::MIN / 1024 {
                        over = true;
                        break;
                    }
                    v *= 1024;
                }
            }
        }
    }
    if over {
        return Err(format!("absolute value of integer \"{s}\" is too large (overflow)"));
    }
    let rest = rest.trim_start_matches(|c: char| is_space(c as u8));
    if !rest.is_empty() {
        return Err(extra_chars(rest, "", "integer value for ", name));
    }
    Ok(v)
}

/// opt_fixed: held times 1000; at most three decimals are kept.
pub fn read_fixed(s: &str, name: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return Err(format!("fixed-point number expected for {name}"));
    }
    let mut i = 0;
    let mut v: i128 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = (v * 10 + (b[i] - b'0') as i128).min(i64::MAX as i128);
        i += 1;
    }
    if v > (i32::MAX / 1000) as i128 {
        return Err(format!("integer \"{s}\" is too large (overflow)"));
    }
    let mut v = v as i64 * 1000;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let mut d = 100;
        while i < b.len() && b[i].is_ascii_digit() {
            v += (b[i] - b'0') as i64 * d;
            d /= 10;
            i += 1;
        }
    }
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    if i < b.len() {
        return Err(extra_chars(&s[i..], "", "fixed-point value for ", name));
    }
    Ok(v)
}

/// Exim's readconf_readtime(): a sequence of number+unit up to `terminator`
/// (None: end of string). Returns None when the text is not a time.
pub fn read_time(s: &str, terminator: Option<u8>) -> Option<i64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    loop {
        if i >= b.len() || !b[i].is_ascii_digit() {
            return None;
        }
        let mut v: i64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            v = (v * 10 + (b[i] - b'0') as i64).min(i32::MAX as i64);
            i += 1;
        }
        let mult = match b.get(i) {
            Some(b'w') => 7 * 24 * 3600,
            Some(b'd') => 24 * 3600,
            Some(b'h') => 3600,
            Some(b'm') => 60,
            Some(b's') => 1,
            _ => return None,
        };
        i += 1;
        // Exim computes in a C int; keep the same wrap-around.
        total = (total as i32).wrapping_add((v as i32).wrapping_mul(mult)) as i64;
        if b.get(i).copied() == terminator {
            return Some(total);
        }
    }
}

pub fn read_time_option(s: &str, name: &str) -> Result<i64, String> {
    match read_time(s, None) {
        Some(t) if t >= 0 => Ok(t),
        _ => Err(format!("invalid time value for {name}")),
    }
}

/// opt_timelist: up to 12 ascending times separated by colons.
pub fn read_time_list(s: &str, name: &str) -> Result<Vec<i64>, String> {
    const MAX: usize = 12;
    let mut out = Vec::new();
    let mut s = s;
    if s.is_empty() {
        return Ok(out);
    }
    loop {
        if out.len() == MAX {
            return Err(format!("too many time values for {name}"));
        }
        let next = s.find(':');
        // The time ends at the colon, or at white space before it.
        let term = next.map(|p| {
            let before = s[..p].trim_end_matches(|c: char| is_space(c as u8));
            s.as_bytes()[before.len()]
        });
        let t = match read_time(s, term) {
            Some(t) if t >= 0 => t,
            _ => return Err(format!("invalid time value for {name}")),
        };
        if let Some(&last) = out.last() {
            if t < last {
                return Err(format!("time value out of order for {name}"));
            }
        }
        out.push(t);
        match next {
            None => break,
            Some(p) => s = s[p + 1..].trim_start_matches(|c: char| is_space(c as u8)),
        }
    }
    if out.first() == Some(&0) {
        out.clear();
    }
    Ok(out)
}

/// Boolean after `=`: true/yes/false/no (any case); the word ends at a
/// non-name character and nothing may follow.
pub fn read_bool_word(s: &str, name: &str) -> Result<bool, String> {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let word = &s[..end];
    let is = |w: &str| word.eq_ignore_ascii_case(w);
    let v = if is("true") || is("yes") {
        true
    } else if is("false") || is("no") {
        false
    } else {
        return Err(format!("\"{word}\" is not a valid value for the \"{name}\" option"));
    };
    let rest = s[end..].trim_start_matches(|c: char| is_space(c as u8));
    if !rest.is_empty() {
        return Err(extra_chars(rest, &format!("\"{word}\" "), "for boolean option ", name));
    }
    Ok(v)
}

/// Exim's string_interpret_escape() for one escape after a backslash;
/// returns the byte and how many input bytes were used after the backslash.
pub fn interpret_escape(b: &[u8]) -> (u8, usize) {
    match b.first() {
        None => (b'\\', 0),
        Some(c @ b'0'..=b'7') => {
            let mut v = (c - b'0') as u32;
            let mut n = 1;
            while n < 3 && n < b.len() && (b'0'..=b'7').contains(&b[n]) {
                v = v * 8 + (b[n] - b'0') as u32;
                n += 1;
            }
            (v as u8, n)
        }
        Some(b'x') => {
            let mut v = 0u32;
            let mut n = 1;
            while n < 3 && n < b.len() && b[n].is_ascii_hexdigit() {
                v = v * 16 + (b[n] as char).to_digit(16).unwrap();
                n += 1;
            }
            (v as u8, n)
        }
        Some(b'b') => (8, 1),
        Some(b'f') => (12, 1),
        Some(b'n') => (b'\n', 1),
        Some(b'r') => (b'\r', 1),
        Some(b't') => (b'\t', 1),
        Some(b'v') => (11, 1),
        Some(&c) => (c, 1),
    }
}

/// Exim's read_string(): a value not starting with `"` is taken verbatim;
/// a quoted one has escapes interpreted and must end at its closing quote.
pub fn read_string(s: &str, name: &str) -> Result<String, String> {
    if !s.starts_with('"') {
        return Ok(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 1;
    let mut closed = false;
    while i < b.len() {
        match b[i] {
            b'"' => {
                closed = true;
                i += 1;
                break;
            }
            b'\\' => {
                let (c, n) = interpret_escape(&b[i + 1..]);
                crate::bytes::push_escaped(&mut out, &b[i + 1..], c);
                i += 1 + n;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    if !closed {
        return Err(format!("missing quote at end of string value for {name}"));
    }
    if i < b.len() {
        return Err(extra_chars(&s[i..], "string value for ", name, ""));
    }
    Ok(crate::bytes::utf8_buffer(out))
}

/// Look up a user by name or number (Exim's route_finduser()).
pub fn find_user(name: &str) -> Option<u32> {
    if !name.is_empty() && name.bytes().all(|c| c.is_ascii_digit()) {
        return name.parse().ok();
    }
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: getpwnam with a valid C string; the result is read at once.
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        None
    } else {
        Some(unsafe { (*pw).pw_uid })
    }
}

/// Look up a group by name or number (Exim's route_findgroup()).
pub fn find_group(name: &str) -> Option<u32> {
    if !name.is_empty() && name.bytes().all(|c| c.is_ascii_digit()) {
        return name.parse().ok();
    }
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: getgrnam with a valid C string; the result is read at once.
    let gr = unsafe { libc::getgrnam(c.as_ptr()) };
    if gr.is_null() {
        None
    } else {
        Some(unsafe { (*gr).gr_gid })
    }
}

pub fn user_name(uid: u32) -> Option<String> {
    // SAFETY: getpwuid result is copied out at once.
    let pw = unsafe { libc::getpwuid(uid) };
    if pw.is_null() {
        return None;
    }
    let name = unsafe { std::ffi::CStr::from_ptr((*pw).pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// A user's primary group.
pub fn user_gid(uid: u32) -> Option<u32> {
    // SAFETY: getpwuid result is read at once.
    let pw = unsafe { libc::getpwuid(uid) };
    if pw.is_null() {
        None
    } else {
        Some(unsafe { (*pw).pw_gid })
    }
}

pub fn group_name(gid: u32) -> Option<String> {
    // SAFETY: getgrgid result is copied out at once.
    let gr = unsafe { libc::getgrgid(gid) };
    if gr.is_null() {
        return None;
    }
    let name = unsafe { std::ffi::CStr::from_ptr((*gr).gr_name) };
    Some(name.to_string_lossy().into_owned())
}

/// Split a colon list for uid/gid lists (Exim's string_nextinlist with the
/// default separator).
fn colon_items(s: &str) -> Vec<String> {
    crate::lists::list_items(s, crate::lists::ListSep::Default)
}

/// Parse a value of the given kind from the text after `=` (already read as
/// a string by `read_string` for string-like kinds).
pub fn parse(kind: Kind, s: &str, name: &str) -> Result<Value, String> {
    Ok(match kind {
        Kind::Bool => Value::Bool(if s.is_empty() { true } else { read_bool_word(s, name)? }),
        Kind::ExpandBool if s.starts_with('$') => Value::Str(s.to_string()),
        Kind::ExpandBool => Value::Bool(if s.is_empty() { true } else { read_bool_word(s, name)? }),
        Kind::Int | Kind::MkInt => Value::Int(read_int(s, name, false)?),
        Kind::OctInt => Value::Int(read_int(s, name, true)?),
        Kind::KInt => Value::Int(read_kint(s, name)?),
        Kind::Fixed => Value::Int(read_fixed(s, name)?),
        Kind::Time => Value::Time(read_time_option(s, name)?),
        Kind::TimeList => Value::TimeList(read_time_list(s, name)?),
        Kind::TimeOrExpand => {
            if s.starts_with('$') {
                Value::Str(s.to_string())
            } else {
                Value::Time(read_time_option(s, name)?)
            }
        }
        Kind::Str => Value::Str(read_string(s, name)?),
        Kind::Uid | Kind::ExpandUid => {
            let v = read_string(s, name)?;
            if kind == Kind::ExpandUid && v.contains('$') {
                return Ok(Value::Str(v));
            }
            Value::Id(find_user(&v).ok_or_else(|| format!("user {v} was not found"))?)
        }
        Kind::Gid | Kind::ExpandGid => {
            let v = read_string(s, name)?;
            if kind == Kind::ExpandGid && v.contains('$') {
                return Ok(Value::Str(v));
            }
            Value::Id(find_group(&v).ok_or_else(|| format!("group {v} was not found"))?)
        }
        Kind::UidList => {
            let v = expand_now(&read_string(s, name)?, name)?;
            let mut ids = Vec::new();
            for item in colon_items(&v) {
                ids.push(find_user(&item).ok_or_else(|| format!("user {item} was not found"))?);
            }
            Value::IdList(ids)
        }
        Kind::GidList => {
            let v = expand_now(&read_string(s, name)?, name)?;
            let mut ids = Vec::new();
            for item in colon_items(&v) {
                ids.push(find_group(&item).ok_or_else(|| format!("group {item} was not found"))?);
            }
            Value::IdList(ids)
        }
    })
}

/// Exim's readconf_printtime().
pub fn print_time(t: i64) -> String {
    crate::expand::readconf_printtime(t)
}

/// The text after `name = ` that `-bP` prints for a value (None for the
/// types whose unset form is `name =` with no trailing space).
pub fn print_value(kind: Kind, v: &Value) -> Option<String> {
    Some(match (kind, v) {
        (Kind::MkInt, Value::Int(x)) => {
            let x = *x;
            if x != 0 && x % 1024 == 0 {
                if (x / 1024) % 1024 == 0 {
                    format!("{}M", x / 1024 / 1024)
                } else {
                    format!("{}K", x / 1024)
                }
            } else {
                x.to_string()
            }
        }
        (Kind::KInt, Value::Int(x)) => {
            let x = *x;
            if x == 0 {
                "0".to_string()
            } else if x % (1024 * 1024 * 1024) == 0 {
                format!("{}T", x / 1024 / 1024 / 1024)
            } else if x % (1024 * 1024) == 0 {
                format!("{}G", x / 1024 / 1024)
            } else if x % 1024 == 0 {
                format!("{}M", x / 1024)
            } else {
                format!("{x}K")
            }
        }
        (Kind::OctInt, Value::Int(x)) => {
            if *x == 0 {
                "0".to_string()
            } else {
                format!("0{:o}", x)
            }
        }
        (Kind::Fixed, Value::Int(x)) => {
            if *x < 0 {
                return None;
            }
            let mut s = format!("{}.", x / 1000);
            let mut f = x % 1000;
            loop {
                s.push(char::from(b'0' + (f / 100) as u8));
                f = (f * 10) % 1000;
                if f == 0 {
                    break;
                }
            }
            s
        }
        (Kind::Fixed, Value::Unset) => return None,
        (_, Value::Int(x)) => x.to_string(),
        (_, Value::Time(t)) => print_time(*t),
        (_, Value::TimeList(l)) => l.iter().map(|t| print_time(*t)).collect::<Vec<_>>().join(":"),
        (_, Value::Str(s)) => string_printing(s),
        (Kind::Uid | Kind::ExpandUid, Value::Id(u)) => user_name(*u).unwrap_or_else(|| u.to_string()),
        (Kind::Gid | Kind::ExpandGid, Value::Id(g)) => group_name(*g).unwrap_or_else(|| g.to_string()),
        (Kind::UidList, Value::IdList(l)) | (Kind::GidList, Value::IdList(l)) => {
            if l.is_empty() {
                return None;
            }
            let names: Vec<String> = l
                .iter()
                .map(|id| {
                    if kind == Kind::UidList {
                        user_name(*id).unwrap_or_else(|| id.to_string())
                    } else {
                        group_name(*id).unwrap_or_else(|| id.to_string())
                    }
                })
                .collect();
            names.join(":")
        }
        (Kind::UidList | Kind::GidList, Value::Unset) => return None,
        (_, Value::Unset) => String::new(),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::Id(i)) => i.to_string(),
        (_, Value::IdList(l)) => l.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(":"),
    })
}

/// Exim's string_printing(): non-printing characters as escapes (the
/// backslash itself is left alone).
pub fn string_printing(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        match c {
            b' '..=b'~' => out.push(c as char),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            0x08 => out.push_str("\\b"),
            0x1b => out.push_str("\\e"),
            _ => out.push_str(&format!("\\{c:03o}")),
        }
    }
    out
}

/// The context for the few expansions Exim makes while reading the
/// configuration (user and group lists): no variables, lists or lookups.
struct ReadContext;

impl crate::expand::Context for ReadContext {
    fn variable(&self, _name: &str) -> Option<String> {
        None
    }

    fn match_list(
        &mut self,
        _kind: crate::expand::ListKind,
        _subject: &str,
        _list: &str,
    ) -> Result<Option<crate::expand::Found>, crate::expand::ExpandError> {
        Err(crate::expand::ExpandError::Failed("no lists while reading the configuration".to_string()))
    }
}

/// Expand a value at read time (Exim expands user and group lists, the
/// spool directory and the log file path then).
pub fn expand_now(s: &str, name: &str) -> Result<String, String> {
    if !s.contains('$') && !s.contains('\\') {
        return Ok(s.to_string());
    }
    let fail = |e: crate::expand::ExpandError| format!("failed to expand {name}: {}", e.message());
    let compiled = crate::expand::compile(s).map_err(fail)?;
    crate::expand::evaluate(&compiled, &mut ReadContext).map_err(fail)
}
