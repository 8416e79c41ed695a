//! Exim's list syntax (string_nextinlist): `:` separated, doubled to
//! escape, `<X` to change the separator, white space trimmed.

/// Split a list into its items.
pub fn list_items(list: &str) -> Vec<String> {
    list_items_sep(list, ':')
}

pub fn list_items_sep(list: &str, default_sep: char) -> Vec<String> {
    let (sep, body) = separator(list, default_sep);
    // A control character as separator cannot be doubled to escape it.
    let special = sep.is_ascii_control();
    let chars: Vec<char> = body.chars().collect();
    let mut items = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_ascii_whitespace() && chars[i] != sep {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        if chars[i] == sep {
            i += 1;
            if i >= chars.len() || chars[i] != sep || special {
                items.push(String::new());
                continue;
            }
        }
        let mut item = String::new();
        loop {
            item.push(chars[i]);
            i += 1;
            while i < chars.len() && chars[i] != sep {
                item.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                break;
            }
            i += 1; // the separator
            if i >= chars.len() || chars[i] != sep || special {
                break;
            }
        }
        // Trailing white space goes, unless escaped by a backslash.
        while item.ends_with(|c: char| c.is_ascii_whitespace()) {
            let n = item.len();
            if n >= 2 && item.as_bytes()[n - 2] == b'\\' {
                break;
            }
            item.pop();
        }
        items.push(item);
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
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(sep);
            if item.starts_with(sep) {
                out.push(' ');
            }
        }
        for c in item.chars() {
            if c == sep {
                out.push(sep);
            }
            out.push(c);
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
