//! A one-pass reader for the common shapes of expansion strings: literal
//! text, escapes, `\N...\N`, `$name`, `${name}` and `${operator:...}`.
//! It gives up (`None`) on everything else (items, conditions, headers,
//! and every error), which the grammar then reads, with Exim's texts.
//! Most of a pest parse is pest's cost per rule call (call-limit and stack
//! checks, attempt tracking for error messages); this reader has none.
//! Whatever it accepts, it must read exactly as `parse::parse_tree` does
//! (the tests below compare the two).

use super::ast::{Node, Seq};
use super::escape::interpret_escape;
use super::operators::Op;
use super::{items, variables};

/// `$` followed by one of these starts a header reference.
const HEADER_PREFIXES: [&str; 8] = ["bheader_", "bh_", "lheader_", "lh_", "rheader_", "rh_", "header_", "h_"];
/// Items the grammar reads by name that are not in `items::ITEMS` (`if`
/// is read here when its condition is a simple one).
const OTHER_ITEMS: [&str; 4] = ["extract", "filter", "lookup", "run"];

/// The AST of `source`, or `None` when it needs the grammar.
pub fn parse(source: &str) -> Option<Seq> {
    let mut r = Reader { src: source, s: source.as_bytes(), pos: 0 };
    let seq = r.text(false)?;
    (r.pos == r.s.len()).then_some(seq)
}

struct Reader<'a> {
    src: &'a str,
    s: &'a [u8],
    pos: usize,
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Reader<'_> {
    /// Text to the end of the string or, inside braces, to the first
    /// unescaped "}" (which is left for the caller).
    fn text(&mut self, inner: bool) -> Option<Seq> {
        let mut seq = Seq::new();
        while self.pos < self.s.len() {
            let node = match self.s[self.pos] {
                b'}' if inner => break,
                b'\\' => self.backslash(),
                b'$' => self.dollar()?,
                _ => {
                    let start = self.pos;
                    let rest = &self.s[start..];
                    let len = if inner {
                        memchr::memchr3(b'$', b'\\', b'}', rest)
                    } else {
                        memchr::memchr2(b'$', b'\\', rest)
                    };
                    self.pos = start + len.unwrap_or(rest.len());
                    Node::Lit(self.src[start..self.pos].to_string())
                }
            };
            // Adjacent literals are merged, as parse::text_seq does.
            match (seq.last_mut(), node) {
                (Some(Node::Lit(prev)), Node::Lit(s)) => crate::bytes::push_str(prev, &s),
                (_, node) => seq.push(node),
            }
        }
        Some(seq)
    }

    /// `\N...\N` (to the end if unclosed), or an escape: up to three octal
    /// digits, `x` and one or two hex digits, or any one character.
    fn backslash(&mut self) -> Node {
        if self.s[self.pos..].starts_with(b"\\N") {
            let body = self.pos + 2;
            let end = memchr::memmem::find(&self.s[body..], b"\\N").map(|i| body + i);
            self.pos = end.map_or(self.s.len(), |e| e + 2);
            return Node::Lit(self.src[body..end.unwrap_or(self.s.len())].to_string());
        }
        let start = self.pos + 1;
        let b = &self.s[start..];
        let octal = |c: &u8| (b'0'..=b'7').contains(c);
        let len = match b.first() {
            None => 0,
            Some(c) if octal(c) => b.iter().take(3).take_while(|c| octal(c)).count(),
            Some(b'x') if b.get(1).is_some_and(u8::is_ascii_hexdigit) => {
                1 + b[1..].iter().take(2).take_while(|c| c.is_ascii_hexdigit()).count()
            }
            Some(_) => self.src[start..].chars().next().map_or(0, char::len_utf8),
        };
        self.pos = start + len;
        Node::Lit(interpret_escape(&self.src[start..self.pos]))
    }

    fn dollar(&mut self) -> Option<Node> {
        let start = self.pos + 1;
        if self.s.get(start) == Some(&b'{') {
            return self.braced(start + 1);
        }
        let len = self.s[start..].iter().take_while(|&&b| is_name_char(b)).count();
        let name = &self.src[start..start + len];
        if len == 0 || HEADER_PREFIXES.iter().any(|p| name.starts_with(p)) {
            return None;
        }
        self.pos = start + len;
        variables::resolve(name).map(Node::Var)
    }

    /// After `${`: a variable or an operator; anything else is the grammar's.
    fn braced(&mut self, start: usize) -> Option<Node> {
        let len = self.s[start..].iter().take_while(|&&b| is_name_char(b)).count();
        let end = start + len;
        let name = &self.src[start..end];
        if len == 0 || OTHER_ITEMS.contains(&name) {
            return None;
        }
        if let Some(def) = items::find(name) {
            return self.generic_item(def, end);
        }
        if name == "if" {
            return self.if_item(end);
        }
        match self.s.get(end) {
            Some(b'}') => {
                self.pos = end + 1;
                variables::resolve(name).map(Node::Var)
            }
            Some(b':') => {
                let op = Op::parse(name).ok()?;
                self.pos = end + 1;
                let arg = self.text(true)?;
                if self.s.get(self.pos) != Some(&b'}') {
                    return None;
                }
                self.pos += 1;
                Some(Node::Op { op, arg })
            }
            _ => None,
        }
    }
}

impl Reader<'_> {
    /// Braced strings, each closed, with white space before each.
    fn args(&mut self) -> Option<Vec<Seq>> {
        let mut args = Vec::new();
        loop {
            let before = self.pos;
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b'{') {
                self.pos = before;
                return Some(args);
            }
            self.pos += 1;
            args.push(self.text(true)?);
            if self.s.get(self.pos) != Some(&b'}') {
                return None;
            }
            self.pos += 1;
        }
    }

    /// White space and the "}" that ends an item (no "fail").
    fn close(&mut self) -> Option<()> {
        self.skip_ws();
        if self.s.get(self.pos) != Some(&b'}') {
            return None;
        }
        self.pos += 1;
        Some(())
    }

    /// `${if COND {yes}{no}}` where COND is a condition of the table that
    /// takes one or two strings (negated or not) and has all of them.
    fn if_item(&mut self, end: usize) -> Option<Node> {
        use super::ast::{Branches, Cond, Item};
        self.pos = end;
        self.skip_ws();
        let mut negations = 0;
        while self.s.get(self.pos) == Some(&b'!') {
            negations += 1;
            self.pos += 1;
            self.skip_ws();
        }
        let rest = &self.s[self.pos..];
        let symbol = ["<=", ">=", "==", "<", ">", "="].into_iter().find(|op| rest.starts_with(op.as_bytes()));
        let len = match symbol {
            Some(op) => op.len(),
            None => rest.iter().take_while(|&&b| is_name_char(b)).count(),
        };
        let (id, want) = super::conditions::find(&self.src[self.pos..self.pos + len])?;
        if !(1..=2).contains(&want) {
            return None;
        }
        self.pos += len;
        // All the strings the condition takes, and no more.
        let mut cond_args = Vec::new();
        for _ in 0..want {
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b'{') {
                return None;
            }
            self.pos += 1;
            cond_args.push(self.text(true)?);
            if self.s.get(self.pos) != Some(&b'}') {
                return None;
            }
            self.pos += 1;
        }
        let mut cond = Cond::Simple { id, args: cond_args };
        for _ in 0..negations {
            cond = Cond::Not(Box::new(cond));
        }
        let args = self.args()?;
        self.close()?;
        if args.len() > 2 {
            return None;
        }
        let mut it = args.into_iter();
        let branches = Branches { yes: it.next(), no: it.next(), fail: false };
        Some(Node::Item(Box::new(Item::If { cond, branches })))
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// An item whose arguments are all braced strings, without options or
    /// "fail", with a count it takes; the items with yes/no strings and
    /// their own checks (env, listextract, certextract, prvscheck) are left
    /// to the grammar.
    fn generic_item(&mut self, def: &items::ItemDef, end: usize) -> Option<Node> {
        use super::items::ItemId;
        if matches!(def.id, ItemId::Env | ItemId::Listextract | ItemId::Certextract | ItemId::Prvscheck) {
            return None;
        }
        self.pos = end;
        let args = self.args()?;
        self.close()?;
        let (min, max) = match def.id {
            ItemId::Map => (2, 2),
            ItemId::Reduce | ItemId::Sort => (3, 3),
            _ => (def.min_args, def.max_args),
        };
        if !(min..=max).contains(&args.len()) {
            return None;
        }
        Some(Node::Item(Box::new(super::ast::Item::Generic { id: def.id, options: String::new(), args, fail: false })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agrees(s: &str) -> bool {
        match parse(s) {
            Some(quick) => {
                let tree = super::super::parse::parse_tree(s);
                assert_eq!(format!("{:?}", Ok::<_, ()>(quick)), format!("{:?}", tree.map_err(|_| ())), "{s:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn reads_as_the_grammar_does() {
        let read = [
            "${lc:HELLO World}",
            "$primary_hostname on ${lc:$qualify_domain}",
            "${md5:${uc:a}b}c",
            "a}b\\}c",
            "\\N${x}\\Nrest",
            "\\Nunclosed",
            "\\0\\101\\x4g\\x41\\xZ\\t\\\u{e9}\\",
            "${base64:}",
            "${hash_3:hello world}",
            "${listcount:a:b}",
            "x${value}y",
            "${substr_2_3:${sha256:\\N}\\N}}",
            "${sg{a.b.c.d}{\\\\.}{-}}",
            "${map{a:b:c}{<$item>}}",
            "${reduce {1:2} {0}\n {${eval:$value+$item}} }",
            "${hmac{md5}{secret}{message}}",
            "${tr{abcabc}{ab}{xy}}",
            "${hash{3}{hello}}",
            "${if eq{abc}{abc}{yes}{no}}",
            "${if >{10}{2}{bigger}{smaller}}",
            "${if match{foo123}{^\\N[a-z]+(\\d+)\\N}{$1}{none}}",
            "${if isip{10.1.2.3}{ip}{not}}",
            "${if inlist{b}{a:b:c}{in}{out}}",
            "${if ! ! eq {a} {b} }",
            "${if <={1}{2}{y}}",
            "${if eq{a}{b}}",
        ];
        for s in read {
            assert!(agrees(s), "not read: {s:?}");
        }
        for s in [
            "$h_subject:", "${lc:x", "$", "${", "${foo-bar}", "${nosuchop:x}", "$nosuchvar",
            "${sg{a}{b}}", "${map{a}{b}{c}}", "${tr{a}{b}{c} fail}", "${hmac,x{md5}{s}{m}}", "${sg{a}{b}{c}",
            "${env{HOME}}", "${tr{a}{b}{c}x}", "${if and{{eq{a}{a}}}{y}}", "${if def:x{y}}", "${if eq{a}}",
            "${if eq{a}{b}{y}{n}{z}}", "${if eq{a}{b} fail}", "${if eqx{a}{b}}", "${if}",
        ] {
            assert!(parse(s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn random_strings_read_as_the_grammar_does() {
        let pieces = [
            "$", "{", "}", "\\", "N", "x", "4", "7", "8", "a", " ", ":", "lc", "uc", "md5", "h_", "-", "if", "value",
            "primary_hostname", "${", "${lc:", "${hash_2:", "\\N", "\u{e9}", "item", "_", "${sg", "${tr", "${map",
            "${reduce", "fail", "${hash", "\n", "}{", ",", "${hmac", "${if ", "eq", "!", "<", "=", "isip", "{a}",
            "match",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut read = 0;
        for _ in 0..20_000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for k in 0..(seed % 12) {
                s.push_str(pieces[((seed >> (k * 5 + 4)) % pieces.len() as u64) as usize]);
            }
            read += usize::from(agrees(&s));
        }
        // The comparison means something only if many strings were read.
        assert!(read > 2_000, "{read}");
    }
}
