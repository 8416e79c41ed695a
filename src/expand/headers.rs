//! Exim's find_header: the text of `$h_`, `$bh_`, `$lh_` and `$rh_` from a
//! message's header lines, as stored by reception (`Name: value\n`, folded
//! lines kept with their newlines). Decoding of RFC 2047 words for `$h_`
//! and `$bh_` is the evaluator's (it knows `headers_charset`).

use super::ast::HeaderKind;

/// Headers whose values are address lists: several of them are joined
/// with a comma as well as a newline.
const ADDRESS_HEADERS: [&str; 6] = ["bcc", "cc", "from", "reply-to", "sender", "to"];

fn is_address_header(name: &str) -> bool {
    let base = name.get(..7).filter(|p| p.eq_ignore_ascii_case("resent-")).map_or(name, |_| &name[7..]);
    ADDRESS_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(base))
}

/// The value of header `name` (a trailing colon is ignored) over `lines`,
/// or None when the message has no such header.
pub fn find<'a>(lines: impl IntoIterator<Item = &'a str>, kind: HeaderKind, name: &str) -> Option<String> {
    let name = name.strip_suffix(':').unwrap_or(name);
    let mut out: Option<String> = None;
    for line in lines {
        let Some((n, value)) = line.split_once(':') else { continue };
        if !n.trim_end().eq_ignore_ascii_case(name) {
            continue;
        }
        let acc = out.get_or_insert_with(String::new);
        match kind {
            // Raw: every header's text as it is, newlines included.
            HeaderKind::Raw => acc.push_str(value),
            // One list element per header, its colons doubled.
            HeaderKind::List => {
                if !acc.is_empty() {
                    acc.push(':');
                }
                acc.push_str(&value.trim_end_matches('\n').replace(':', "::"));
            }
            HeaderKind::Decoded | HeaderKind::Basic => {
                let v = value.trim_matches(|c: char| c.is_ascii_whitespace());
                if v.is_empty() {
                    continue;
                }
                if !acc.is_empty() {
                    acc.push_str(if is_address_header(name) { ",\n" } else { "\n" });
                }
                acc.push_str(v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The values below were recorded from Exim 4.96 (-bh, a DATA ACL's
    // logwrite) for this message's headers.
    const LINES: [&str; 6] = ["Subject:  abc  \n", "X: one\n", "X:two \n  cont\n", "To: a@b,\n c@d\n", "To: e@f\n", "E:\n"];

    #[test]
    fn forms_as_exim() {
        let f = |k, n| find(LINES, k, n);
        assert_eq!(f(HeaderKind::Raw, "subject").as_deref(), Some("  abc  \n"));
        assert_eq!(f(HeaderKind::Decoded, "subject").as_deref(), Some("abc"));
        assert_eq!(f(HeaderKind::List, "x").as_deref(), Some(" one:two \n  cont"));
        assert_eq!(f(HeaderKind::Raw, "x").as_deref(), Some(" one\ntwo \n  cont\n"));
        assert_eq!(f(HeaderKind::Decoded, "x").as_deref(), Some("one\ntwo \n  cont"));
        assert_eq!(f(HeaderKind::Decoded, "to").as_deref(), Some("a@b,\n c@d,\ne@f"));
        assert_eq!(f(HeaderKind::Raw, "to:").as_deref(), Some(" a@b,\n c@d\n e@f\n"));
        assert_eq!(f(HeaderKind::Decoded, "e").as_deref(), Some(""));
        assert_eq!(f(HeaderKind::Decoded, "missing"), None);
    }
}
