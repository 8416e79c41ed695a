//! A one-pass reader for expansion strings: literal text, escapes,
//! `\N...\N`, variables, headers, operators, items and conditions.
//! It gives up (`None`) on every error and on the few rare shapes it does
//! not know (item options, `acl` conditions, `prvscheck`), which the
//! grammar then reads, with Exim's texts.
//! Most of a pest parse is pest's cost per rule call (call-limit and stack
//! checks, attempt tracking for error messages); this reader has none.
//! Whatever it accepts, it must read exactly as `parse::parse_tree` does
//! (the tests below compare the two, on random strings and on every line
//! of the expansion testsuite scripts).

use super::ast::{Branches, Cond, DefTarget, HeaderKind, HeaderRef, Item, JsonMode, LoopKind, Node, Seq};
use super::escape::interpret_escape;
use super::items::{self, ItemId};
use super::operators::Op;
use super::{conditions, variables};

/// `$` followed by one of these starts a header reference (in the
/// grammar's order: the first that matches is taken).
const HEADER_PREFIXES: [(&str, HeaderKind); 8] = [
    ("bheader_", HeaderKind::Basic),
    ("bh_", HeaderKind::Basic),
    ("lheader_", HeaderKind::List),
    ("lh_", HeaderKind::List),
    ("rheader_", HeaderKind::Raw),
    ("rh_", HeaderKind::Raw),
    ("header_", HeaderKind::Decoded),
    ("h_", HeaderKind::Decoded),
];

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
        if let Some(header) = self.header(start) {
            return Some(Node::Header(header?));
        }
        let len = self.name_len(start);
        if len == 0 {
            return None;
        }
        self.pos = start + len;
        variables::resolve(&self.src[start..self.pos]).map(Node::Var)
    }

    /// A header reference at `start` (after `$` or `def:`): `None` when
    /// there is no header prefix, `Some(None)` when the reference is one
    /// the grammar must read (no name, or no colon after it).
    fn header(&mut self, start: usize) -> Option<Option<HeaderRef>> {
        let rest = &self.s[start..];
        let (prefix, kind) = HEADER_PREFIXES.iter().find(|(p, _)| rest.starts_with(p.as_bytes()))?;
        let name_start = start + prefix.len();
        let len = self.s[name_start..].iter().take_while(|&&b| (b'!'..=b'~').contains(&b) && b != b':').count();
        if len == 0 || self.s.get(name_start + len) != Some(&b':') {
            return Some(None);
        }
        self.pos = name_start + len + 1;
        Some(Some(HeaderRef { kind: *kind, name: self.src[name_start..name_start + len].to_string() }))
    }

    fn name_len(&self, start: usize) -> usize {
        self.s[start..].iter().take_while(|&&b| is_name_char(b)).count()
    }

    /// After `${`: a variable, an operator or an item.
    fn braced(&mut self, start: usize) -> Option<Node> {
        let end = start + self.name_len(start);
        let name = &self.src[start..end];
        if name.is_empty() {
            return None;
        }
        if let Some(def) = items::find(name) {
            return self.generic_item(def, end);
        }
        self.pos = end;
        match name {
            "if" => return self.if_item(),
            "extract" => return self.extract_item(),
            "filter" => return self.filter_item(),
            "lookup" => return self.lookup_item(),
            "run" => return self.run_item(),
            _ => {}
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
                self.expect(b'}')?;
                Some(Node::Op { op, arg })
            }
            _ => None,
        }
    }
}

impl Reader<'_> {
    fn expect(&mut self, b: u8) -> Option<()> {
        if self.s.get(self.pos) != Some(&b) {
            return None;
        }
        self.pos += 1;
        Some(())
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// One braced string (without white space before it).
    fn arg(&mut self) -> Option<Seq> {
        self.expect(b'{')?;
        let text = self.text(true)?;
        self.expect(b'}')?;
        Some(text)
    }

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
            args.push(self.arg()?);
        }
    }

    /// The end of an item: white space, an optional "fail", white space
    /// and "}". Whether there was a "fail".
    fn tail(&mut self) -> Option<bool> {
        self.skip_ws();
        let fail = self.s[self.pos..].starts_with(b"fail") && !self.s.get(self.pos + 4).is_some_and(|&b| is_name_char(b));
        if fail {
            self.pos += 4;
            self.skip_ws();
        }
        self.expect(b'}')?;
        Some(fail)
    }

    /// The arguments and end of an item with `fixed` strings and then
    /// Exim's yes/no strings, as far as they are well formed (what
    /// `parse::check_yes_no` accepts).
    fn yes_no_args(&mut self, fixed: usize) -> Option<(Vec<Seq>, bool)> {
        let args = self.args()?;
        let fail = self.tail()?;
        (args.len() >= fixed && args.len() - fixed <= 2).then_some((args, fail))
    }

    fn if_item(&mut self) -> Option<Node> {
        self.skip_ws();
        let cond = self.condition()?;
        let (args, fail) = self.yes_no_args(0)?;
        Some(Node::Item(Box::new(Item::If { cond, branches: branches(args, fail) })))
    }

    /// `${extract{...}...}`, named or numbered, with json or not, when the
    /// grammar would accept it.
    fn extract_item(&mut self) -> Option<Node> {
        let before = self.pos;
        self.skip_ws();
        let mut json = None;
        for (word, mode) in [("jsons", JsonMode::Jsons), ("json", JsonMode::Json)] {
            if self.s[self.pos..].starts_with(word.as_bytes())
                && !self.s.get(self.pos + word.len()).is_some_and(|&b| is_name_char(b))
            {
                json = Some(mode);
                self.pos += word.len();
                break;
            }
        }
        if json.is_none() {
            self.pos = before;
        }
        let args = self.args()?;
        let fail = self.tail()?;
        if args.len() < 2 {
            return None;
        }
        let numbered = match args[0].as_slice() {
            [Node::Lit(s)] => json.is_none() && s.trim().parse::<i64>().is_ok(),
            [] => return None,
            _ => json.is_none() && args.len() >= 3 && args.len() != 4,
        };
        let fixed = if numbered { 3 } else { 2 };
        if args.len() < fixed || args.len() - fixed > 2 {
            return None;
        }
        Some(Node::Item(Box::new(Item::Extract { json, args, fail })))
    }

    /// `${filter{list}{condition}}`.
    fn filter_item(&mut self) -> Option<Node> {
        let (list, cond) = self.list_and_condition()?;
        // The grammar reads a "fail" here and ignores it.
        self.tail()?;
        Some(Node::Item(Box::new(Item::Filter { list, cond })))
    }

    /// `${lookup{key} type {file}...}` and `${lookup type {query}...}`.
    fn lookup_item(&mut self) -> Option<Node> {
        let before = self.pos;
        self.skip_ws();
        let key = if self.s.get(self.pos) == Some(&b'{') {
            Some(self.arg()?)
        } else {
            self.pos = before;
            None
        };
        self.skip_ws();
        let start = self.pos;
        let len = self.s[start..].iter().take_while(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'{')).count();
        if len == 0 {
            return None;
        }
        self.pos = start + len;
        let search_type = &self.src[start..self.pos];
        crate::lookups::LookupSpec::parse(search_type).ok()?;
        let (mut args, fail) = self.yes_no_args(1)?;
        let query = args.remove(0);
        let search_type = search_type.to_string();
        Some(Node::Item(Box::new(Item::Lookup { key, search_type, query, branches: branches(args, fail) })))
    }

    /// `${run{command}...}` without options.
    fn run_item(&mut self) -> Option<Node> {
        let (mut args, fail) = self.yes_no_args(1)?;
        let command = args.remove(0);
        Some(Node::Item(Box::new(Item::Run { options: String::new(), command, branches: branches(args, fail) })))
    }

    /// An item of the table without options; `prvscheck`, with its own
    /// count, is left to the grammar.
    fn generic_item(&mut self, def: &items::ItemDef, end: usize) -> Option<Node> {
        self.pos = end;
        let (args, fail) = match def.id {
            ItemId::Prvscheck => return None,
            ItemId::Env => self.yes_no_args(1)?,
            ItemId::Listextract | ItemId::Certextract => self.yes_no_args(2)?,
            _ => {
                let args = self.args()?;
                self.skip_ws();
                self.expect(b'}')?;
                (args, false)
            }
        };
        if !(def.min_args..=def.max_args).contains(&args.len()) {
            return None;
        }
        Some(Node::Item(Box::new(Item::Generic { id: def.id, options: String::new(), args, fail })))
    }
}

fn branches(args: Vec<Seq>, fail: bool) -> Branches {
    let mut it = args.into_iter();
    let yes = it.next();
    let no = it.next();
    Branches { yes, no, fail }
}

// ---- conditions ----

impl Reader<'_> {
    /// A condition: negations, then a combination, a loop, `def:` or a
    /// condition of the table with all the strings it takes.
    fn condition(&mut self) -> Option<Cond> {
        let mut negations = 0;
        while self.s.get(self.pos) == Some(&b'!') {
            negations += 1;
            self.pos += 1;
            self.skip_ws();
        }
        let mut cond = self.cond_body()?;
        for _ in 0..negations {
            cond = Cond::Not(Box::new(cond));
        }
        Some(cond)
    }

    fn cond_body(&mut self) -> Option<Cond> {
        let rest = &self.s[self.pos..];
        if let Some(op) = ["<=", ">=", "==", "<", ">", "="].into_iter().find(|op| rest.starts_with(op.as_bytes())) {
            let (id, want) = conditions::find(op)?;
            self.pos += op.len();
            return self.cond_args(id, want);
        }
        let start = self.pos;
        self.pos += self.name_len(start);
        match &self.src[start..self.pos] {
            "and" | "or" => self.combination(&self.src[start..self.pos] == "and"),
            "def" => self.def(),
            "forall" => self.cond_loop(LoopKind::All, None),
            "forall_json" => self.cond_loop(LoopKind::All, Some(JsonMode::Json)),
            "forall_jsons" => self.cond_loop(LoopKind::All, Some(JsonMode::Jsons)),
            "forany" => self.cond_loop(LoopKind::Any, None),
            "forany_json" => self.cond_loop(LoopKind::Any, Some(JsonMode::Json)),
            "forany_jsons" => self.cond_loop(LoopKind::Any, Some(JsonMode::Jsons)),
            name => {
                let (id, want) = conditions::find(name)?;
                self.cond_args(id, want)
            }
        }
    }

    /// The strings a condition of the table takes, all of them.
    fn cond_args(&mut self, id: conditions::CondId, want: usize) -> Option<Cond> {
        let mut args = Vec::with_capacity(want);
        for _ in 0..want {
            self.skip_ws();
            args.push(self.arg()?);
        }
        Some(Cond::Simple { id, args })
    }

    /// `and{{c1}{c2}...}` / `or{...}`.
    fn combination(&mut self, and: bool) -> Option<Cond> {
        self.skip_ws();
        self.expect(b'{')?;
        let mut subs = Vec::new();
        loop {
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b'{') => {
                    self.pos += 1;
                    self.skip_ws();
                    subs.push(self.condition()?);
                    self.skip_ws();
                    self.expect(b'}')?;
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Some(if and { Cond::And(subs) } else { Cond::Or(subs) });
                }
                _ => return None,
            }
        }
    }

    /// `forall{list}{condition}` and its kin.
    fn cond_loop(&mut self, kind: LoopKind, json: Option<JsonMode>) -> Option<Cond> {
        let (list, cond) = self.list_and_condition()?;
        Some(Cond::Loop { kind, json, list, cond: Box::new(cond) })
    }

    /// `{list}{condition}`, the arguments of `${filter}` and `forall`/`forany`.
    fn list_and_condition(&mut self) -> Option<(Seq, Cond)> {
        self.skip_ws();
        let list = self.arg()?;
        self.skip_ws();
        self.expect(b'{')?;
        self.skip_ws();
        let cond = self.condition()?;
        self.skip_ws();
        self.expect(b'}')?;
        Some((list, cond))
    }

    /// `def:name` or `def:h_name:`.
    fn def(&mut self) -> Option<Cond> {
        self.expect(b':')?;
        let start = self.pos;
        if let Some(header) = self.header(start) {
            return Some(Cond::Def(DefTarget::Header(header?)));
        }
        let len = self.name_len(start);
        if len == 0 {
            return None;
        }
        self.pos = start + len;
        variables::resolve(&self.src[start..self.pos]).map(|v| Cond::Def(DefTarget::Var(v)))
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
            "$h_subject: $rh_x-y: $bheader_z:",
            "${env{HOME}}",
            "${if and{{eq{a}{a}}}{y}}",
            "${if def:value{y}}",
            "${if def:h_subject:{y}}",
            "${if eq{a}{b} fail}",
            "${if eq{a}{b}{y} fail}",
            "${extract{2}{:}{one:two:three}}",
            "${extract{b}{a=1 b=2 c=3}}",
            "${extract json {a}{\"a\":1}{$value}{no}}",
            "${extract{$value}{a}{b}{c}{d}}",
            "${listextract{2}{a:b:c}}",
            "${filter{1:2:3:4:5}{>{$item}{2}}}",
            "${filter {a:b} { !eq{$item}{a} } fail }",
            "${if and{{eq{a}{a}}{!eq{a}{b}}}{and}{nand}}",
            "${if or { {eq{a}{b}} {bool{true}} } {y}{n}}",
            "${if and{}{y}}",
            "${if forany{a:b:c}{eq{$item}{b}}{any}{none}}",
            "${if forall_jsons{[1]}{ def:item }}",
            "${if first_delivery {y}}",
            "${lookup{k}lsearch{/dev/null}{$value}{no}}",
            "${lookup dnsdb{a=example.com}}",
            "${lookup{k} partial-lsearch*@,ret=key {/f} fail}",
            "${run{/bin/true}{y}{n}}",
        ];
        for s in read {
            assert!(agrees(s), "not read: {s:?}");
        }
        for s in [
            "$h_subject", "$h_:", "${lc:x", "$", "${", "${foo-bar}", "${nosuchop:x}", "$nosuchvar",
            "${sg{a}{b}}", "${map{a}{b}{c}}", "${tr{a}{b}{c} fail}", "${hmac,x{md5}{s}{m}}", "${sg{a}{b}{c}",
            "${tr{a}{b}{c}x}", "${if def:nosuchvar{y}}", "${if eq{a}}", "${if acl{{a}}}", "${run,x{a}}",
            "${if eq{a}{b}{y}{n}{z}}", "${if eqx{a}{b}}", "${if}", "${extract{}{a}}", "${extract{1}{a}}",
            "${lookup{a}nosuch{b}}", "${lookup{a}lsearch}", "${filter{a}{eq{a}}}", "${if and{{eq{a}{b}}x}}",
            "${if forany{a}{eq{a}{b}}x}", "${prvscheck{a}{b}}", "${listextract{1}{a}{y}{n}{z}}",
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
            "match", "${extract", " json", "${lookup", "lsearch", "${run", "${filter", "and{", "or{", "forany",
            "def:", "h_x:", "$h_", "${env", "${listextract", " fail",
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

    /// Every line of our expansion scripts, and every suffix of it from a
    /// "$", reads the same with both readers (the suffixes reach the
    /// forms that only appear inside a line).
    #[test]
    fn testsuite_lines_read_as_the_grammar_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testsuite/scripts/0100-Expansion");
        let (mut lines, mut read) = (0, 0);
        for entry in std::fs::read_dir(dir).expect("scripts") {
            let text = std::fs::read(entry.expect("entry").path()).expect("script");
            for line in String::from_utf8_lossy(&text).lines() {
                for (i, _) in line.match_indices('$') {
                    lines += 1;
                    read += usize::from(agrees(&line[i..]));
                }
                lines += 1;
                read += usize::from(agrees(line));
            }
        }
        assert!(read * 4 > lines * 3, "{read} of {lines}");
    }
}
