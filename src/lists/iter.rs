//! Exim's generic list iteration (string_nextinlist()).
//!
//! Every list in Exim, from `domains =` to `${listcount:...}`, is split by
//! the same rules: a default separator (usually colon) that may be changed
//! by a leading `<X` where X is punctuation or a control character; a
//! doubled separator stands for one literal separator character (unless the
//! separator is a control character); leading white space before an item
//! and trailing white space after it are dropped; an empty string has no
//! items, and a separator at the very end does not make an empty item.

/// How the separator of a list is chosen (Exim's `sep` argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListSep {
    /// Colon, changeable by a leading `<X` (Exim's sep = 0).
    Default,
    /// The given character, changeable by a leading `<X` (Exim's sep < 0).
    Changeable(u8),
    /// The given character, no `<X` change allowed (Exim's sep > 0).
    Fixed(u8),
}

/// An iterator over the items of an Exim list. It keeps the separator that
/// was finally chosen, so that sub-lists can be rebuilt by callers.
#[derive(Clone, Debug)]
pub struct ListIter<'a> {
    rest: &'a [u8],
    sep: ListSep,
    chosen: Option<u8>,
}

fn is_space(c: u8) -> bool {
    // C isspace() in the C locale.
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

impl<'a> ListIter<'a> {
    pub fn new(list: &'a str, sep: ListSep) -> Self {
        ListIter { rest: list.as_bytes(), sep, chosen: None }
    }

    /// The separator in force (after any `<X` change); known once the first
    /// item has been asked for.
    pub fn separator(&mut self) -> u8 {
        self.choose_separator();
        self.chosen.unwrap_or(b':')
    }

    fn choose_separator(&mut self) {
        if self.chosen.is_some() {
            return;
        }
        let mut s = self.rest;
        let sep = match self.sep {
            ListSep::Fixed(c) => c,
            ListSep::Default | ListSep::Changeable(_) => {
                while let Some(&c) = s.first() {
                    if !is_space(c) {
                        break;
                    }
                    s = &s[1..];
                }
                if s.first() == Some(&b'<')
                    && s.get(1).is_some_and(|c| c.is_ascii_punctuation() || c.is_ascii_control())
                {
                    let c = s[1];
                    s = &s[2..];
                    c
                } else if let ListSep::Changeable(c) = self.sep {
                    c
                } else {
                    b':'
                }
            }
        };
        self.rest = s;
        self.chosen = Some(sep);
    }
}

impl<'a> ListIter<'a> {
    /// The next item: borrowed from the list, unless a doubled separator
    /// in it had to be undone (no allocation for most items).
    pub fn next_item(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        self.choose_separator();
        let sep = self.chosen.unwrap_or(b':');
        let special = sep.is_ascii_control();
        let mut s = self.rest;
        // Leading white space is dropped, unless it is the separator itself.
        while let Some(&c) = s.first() {
            if !is_space(c) || c == sep {
                break;
            }
            s = &s[1..];
        }
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let first = memchr::memchr(sep, s);
        let doubled = |at: usize| !special && s.get(at + 1) == Some(&sep);
        let item = match first {
            Some(at) if doubled(at) => {
                // Copied a run at a time between separators.
                let mut out: Vec<u8> = Vec::with_capacity(at + 16);
                let mut start = 0;
                let end = loop {
                    let Some(at) = memchr::memchr(sep, &s[start..]).map(|p| start + p) else {
                        out.extend_from_slice(&s[start..]);
                        break s.len();
                    };
                    if doubled(at) {
                        out.extend_from_slice(&s[start..=at]);
                        start = at + 2;
                        continue;
                    }
                    out.extend_from_slice(&s[start..at]);
                    break at + 1;
                };
                self.rest = &s[end..];
                while out.last().is_some_and(|&c| is_space(c)) {
                    out.pop();
                }
                std::borrow::Cow::Owned(self.text(out))
            }
            _ => {
                let at = first.unwrap_or(s.len());
                self.rest = &s[(at + 1).min(s.len())..];
                let mut item = &s[..at];
                while item.last().is_some_and(|&c| is_space(c)) {
                    item = &item[..item.len() - 1];
                }
                std::borrow::Cow::Borrowed(self.slice_text(item))
            }
        };
        Some(item)
    }

    /// Bytes of the list as text. The list is a `str` cut only at the
    /// separator and at ASCII white space, so with an ASCII separator
    /// every piece is still UTF-8.
    fn slice_text(&self, b: &'a [u8]) -> &'a str {
        if self.chosen.is_some_and(|c| c.is_ascii()) {
            // SAFETY: see above: cut at ASCII bytes of a valid str.
            unsafe { std::str::from_utf8_unchecked(b) }
        } else {
            std::str::from_utf8(b).unwrap_or("")
        }
    }

    fn text(&self, out: Vec<u8>) -> String {
        if self.chosen.is_some_and(|c| c.is_ascii()) {
            // SAFETY: as for `slice_text`.
            unsafe { String::from_utf8_unchecked(out) }
        } else {
            String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        }
    }
}

impl Iterator for ListIter<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.next_item().map(std::borrow::Cow::into_owned)
    }
}

/// Split `list` into its items by Exim's rules.
pub fn list_items(list: &str, sep: ListSep) -> Vec<String> {
    ListIter::new(list, sep).collect()
}

/// Exim's `${listcount:...}` count of items.
pub fn list_count(list: &str, sep: ListSep) -> usize {
    let mut it = ListIter::new(list, sep);
    std::iter::from_fn(|| it.next_item()).count()
}

/// Append `item` to a list being built with separator `sep`, doubling any
/// separator characters inside it (string_append_listele()).
pub fn list_append(list: &mut String, sep: char, item: &str) {
    if !list.is_empty() {
        list.push(sep);
    }
    for c in item.chars() {
        list.push(c);
        if c == sep {
            list.push(sep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values recorded from Exim 4.96 (${listcount} / ${listextract}).
    #[test]
    fn exim_splitting() {
        assert_eq!(list_items("a:b::c: d :", ListSep::Default), ["a", "b:c", "d"]);
        assert_eq!(list_items("a: b ::c :d", ListSep::Default)[1], "b :c");
        assert_eq!(list_items(" <; a;b", ListSep::Default), ["a", "b"]);
        assert_eq!(list_items("<a a", ListSep::Default), ["<a a"]);
        assert_eq!(list_count("", ListSep::Default), 0);
        assert_eq!(list_count(" ", ListSep::Default), 0);
        assert_eq!(list_items(":", ListSep::Default), [""]);
        assert_eq!(list_items("::1", ListSep::Default), [":1"]);
        assert_eq!(list_items("<; ::1 ; 1.2.3.4", ListSep::Default), ["::1", "1.2.3.4"]);
        assert_eq!(list_items("a::", ListSep::Default), ["a:"]);
        assert_eq!(list_items("a\n:b", ListSep::Fixed(b'\n')), ["a", ":b"]);
    }

    #[test]
    fn fixed_separator_ignores_change() {
        assert_eq!(list_items("<;a;b", ListSep::Fixed(b',')), ["<;a;b"]);
        assert_eq!(list_items("a,b", ListSep::Changeable(b',')), ["a", "b"]);
        assert_eq!(list_items("<:a:b", ListSep::Changeable(b',')), ["a", "b"]);
    }

    #[test]
    fn append_doubles_separator() {
        let mut l = String::new();
        list_append(&mut l, ':', "a");
        list_append(&mut l, ':', "b:c");
        assert_eq!(l, "a:b::c");
        assert_eq!(list_items(&l, ListSep::Default), ["a", "b:c"]);
    }
}
