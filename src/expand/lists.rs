//! Exim's list syntax (string_nextinlist): `:` separated, doubled to
//! escape, `<X` to change the separator, white space trimmed.

/// Split a list into its items.
pub fn list_items(list: &str) -> Vec<String> {
    list_items_sep(list, ':')
}

pub fn list_items_sep(list: &str, default_sep: char) -> Vec<String> {
    let (sep, body) = separator(list, default_sep);
    let mut items = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut item = String::new();
        while i < chars.len() {
            if chars[i] == sep {
                if chars.get(i + 1) == Some(&sep) {
                    item.push(sep);
                    i += 2;
                    continue;
                }
                break;
            }
            item.push(chars[i]);
            i += 1;
        }
        items.push(item.trim_end().to_string());
        if i < chars.len() {
            i += 1; // the separator
        }
    }
    items
}

/// The separator in force and the list text after any `<X` prefix.
pub fn separator(list: &str, default_sep: char) -> (char, &str) {
    let t = list.trim_start();
    let mut it = t.chars();
    if it.next() == Some('<') {
        if let Some(c) = it.next() {
            if !c.is_ascii_alphanumeric() && !c.is_ascii_whitespace() {
                return (c, &t[1 + c.len_utf8()..]);
            }
        }
    }
    (default_sep, list)
}

/// Join items into a list with the separator, doubling it inside items.
pub fn join_items(items: &[String], sep: char) -> String {
    let doubled = format!("{sep}{sep}");
    items
        .iter()
        .map(|i| i.replace(sep, &doubled))
        .collect::<Vec<_>>()
        .join(&sep.to_string())
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
    }
}
