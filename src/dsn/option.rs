//! Exim's extract_option: ESMTP parameters are taken off the END of the
//! command's data, one at a time, so the rightmost is seen first.

/// One parameter taken off the end of `data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted<'a> {
    /// What is left of the data, for the next call (or the address).
    pub before: &'a str,
    pub name: &'a str,
    /// With no `=`, Exim makes the value the name itself.
    pub value: &'a str,
}

/// C's isspace in the "C" locale.
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Take the last `NAME=value` (or bare `NAME`) off `data`. None when there
/// is none Exim would accept: no space before it, a name with other than
/// letters, or an unbalanced quote (a quoted local part may hold spaces).
pub fn extract_option(data: &str) -> Option<Extracted<'_>> {
    let b = data.as_bytes();
    if b.is_empty() {
        return None;
    }
    // Trailing white space is dropped.
    let mut end = b.len();
    while end > 1 && c_isspace(b[end - 1]) {
        end -= 1;
    }
    let mut v = end - 1;
    while v > 0 && b[v] != b'=' && !c_isspace(b[v]) {
        if b[v] == b'"' {
            loop {
                v -= 1;
                if v == 0 || b[v] == b'"' {
                    break;
                }
            }
            if v == 0 {
                return None;
            }
        }
        v -= 1;
    }
    if v == 0 {
        return None;
    }
    let (name_start, before_end, value_start) = if b[v] == b'=' {
        let mut n = v;
        while n > 0 && b[n - 1].is_ascii_alphabetic() {
            n -= 1;
        }
        // RFC 5321 says SP; a TAB is seen in the wild and accepted.
        if n == 0 || !c_isspace(b[n - 1]) {
            return None;
        }
        (n, n - 1, v + 1)
    } else {
        (v + 1, v, v + 1)
    };
    let name = &data[name_start..if b[v] == b'=' { v } else { end }];
    let value = &data[value_start..end];
    Some(Extracted { before: &data[..before_end], name, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(s: &str) -> Option<(&str, &str, &str)> {
        extract_option(s).map(|e| (e.before, e.name, e.value))
    }

    #[test]
    fn rightmost_first() {
        assert_eq!(ex("<a@b> RET=HDRS ENVID=x"), Some(("<a@b> RET=HDRS", "ENVID", "x")));
        assert_eq!(ex("<a@b> RET=HDRS"), Some(("<a@b>", "RET", "HDRS")));
        assert_eq!(ex("<a@b>\tRET=HDRS  "), Some(("<a@b>", "RET", "HDRS")));
        assert_eq!(ex("<a@b> PRDR"), Some(("<a@b>", "PRDR", "PRDR")));
        assert_eq!(ex("<a@b> RET="), Some(("<a@b>", "RET", "")));
        assert_eq!(ex("<a@b> X-Y=1"), None);
        assert_eq!(ex("<a@b>"), None);
        assert_eq!(ex(""), None);
        assert_eq!(ex("<\"a b\"@c> SIZE=1"), Some(("<\"a b\"@c>", "SIZE", "1")));
        assert_eq!(ex("<\"a b\"@c>"), None);
    }
}
