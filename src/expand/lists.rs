//! Exim's list syntax (string_nextinlist): `:` separated, doubled to
//! escape, `<X` to change the separator, white space trimmed.

/// Split a list into its items.
pub fn list_items(list: &str) -> Vec<String> {
    list_items_sep(list, ':')
}

pub fn list_items_sep(list: &str, default_sep: char) -> Vec<String> {
    let (sep, body) = separator(list, default_sep);
    // Separators are ASCII (punctuation or control), so the scan can work on
    // bytes: no byte of a multi-byte character equals one.
    let Ok(sep) = u8::try_from(sep) else {
        return vec![body.to_string()];
    };
    // A control character as separator cannot be doubled to escape it.
    let special = sep.is_ascii_control();
    let b = body.as_bytes();
    let mut items = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() && b[i] != sep {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] == sep {
            i += 1;
            if i >= b.len() || b[i] != sep || special {
                items.push(String::new());
                continue;
            }
        }
        let mut item: Vec<u8> = Vec::new();
        loop {
            // The first byte is data even if it is the separator (doubled).
            let start = i;
            i += 1;
            while i < b.len() && b[i] != sep {
                i += 1;
            }
            item.extend_from_slice(&b[start..i]);
            if i >= b.len() {
                break;
            }
            i += 1; // the separator
            if i >= b.len() || b[i] != sep || special {
                break;
            }
        }
        // Trailing white space goes, unless escaped by a backslash.
        while item.last().is_some_and(u8::is_ascii_whitespace) {
            let n = item.len();
            if n >= 2 && item[n - 2] == b'\\' {
                break;
            }
            item.pop();
        }
        items.push(String::from_utf8(item).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()));
    }
    items
}

/// The separator in force and the list text after any `<X` prefix.
pub fn separator(list: &str, default_sep: char) -> (char, &str) {
    let t = list.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let mut it = t.chars();
    if it.next() == Some('<') {
        if let Some(c) = it.next() {
            if c.is_ascii_punctuation() || c.is_ascii_control() {
                let rest = &t[1 + c.len_utf8()..];
                return (c, rest.trim_start_matches(|w: char| w.is_ascii_whitespace() && w != c));
            }
        }
    }
    (default_sep, list)
}

/// Join items into a list with the separator, doubling it inside items
/// (Exim's string_append_listele). An item that starts with the
/// separator gets a space before it, so the doubling cannot run into
/// the separator in front.
pub fn join_items(items: &[String], sep: char) -> String {
    let mut out = String::with_capacity(items.iter().map(|i| i.len() + 2).sum());
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(sep);
            if item.starts_with(sep) {
                out.push(' ');
            }
        }
        if item.contains(sep) {
            for c in item.chars() {
                if c == sep {
                    out.push(sep);
                }
                out.push(c);
            }
        } else {
            out.push_str(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_exim() {
        assert_eq!(list_items("a:b::c"), vec!["a", "b:c"]);
        assert_eq!(list_items(" a : b "), vec!["a", "b"]);
        assert_eq!(list_items("<; a;b"), vec!["a", "b"]);
        assert_eq!(list_items(""), Vec::<String>::new());
        assert_eq!(list_items(":a"), vec!["", "a"]);
        assert_eq!(list_items("a:::b"), vec!["a:", "b"]);
        assert_eq!(list_items("<\n a\n\nb\nc"), vec!["a", "", "b", "c"]);
    }
}
