//! Exim's list syntax (string_nextinlist): `:` separated, doubled to
//! escape, `<X` to change the separator, white space trimmed.

/// Split a list into its items.
pub fn list_items(list: &str) -> Vec<String> {
    list_items_sep(list, ':')
}

pub fn list_items_sep(list: &str, default_sep: char) -> Vec<String> {
    let sep = u8::try_from(default_sep).unwrap_or(b':');
    crate::lists::list_items(list, crate::lists::ListSep::Changeable(sep))
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
        push_item(&mut out, item, sep, i == 0);
    }
    out
}

/// Append one item to a list being joined (`first`: nothing before it).
pub fn push_item(out: &mut String, item: &str, sep: char, first: bool) {
    if !first {
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

/// The items of an expansion list, one at a time, borrowed from it where
/// it needs no undoubling.
pub fn iter(list: &str) -> crate::lists::ListIter<'_> {
    crate::lists::ListIter::new(list, crate::lists::ListSep::Changeable(b':'))
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
