//! Evaluating a compiled expansion against a context.

use std::borrow::Cow;

use super::ast::*;
use super::conditions::CondId;
use super::context::{Context, ListKind};
use super::error::ExpandError;
use super::items::ItemId;
use super::operators::{self, OpEnv};
use super::regex_cache;
use super::variables::{self, VarRef};
use super::{encode, ipaddr, lists, strings};
use crate::bytes::{self, from_bytes, from_vec, to_bytes};

type Result<T> = std::result::Result<T, ExpandError>;

fn failed<T>(msg: impl Into<String>) -> Result<T> {
    Err(ExpandError::Failed(msg.into()))
}

/// Evaluation state: the context plus the variables that items set
/// for the strings they expand (`$value`, `$item`, `$0`...).
pub struct Evaluator<'c> {
    pub ctx: &'c mut dyn Context,
    value: Option<String>,
    item: Option<String>,
    numeric: Vec<String>,
    /// Variables an item sets for the strings it expands
    /// (`$prvscheck_address`...), looked up before the context.
    locals: Vec<(&'static str, String)>,
    depth: usize,
    /// Whether tainted data went into the string being built: Exim 4.96
    /// marks data from outside (the client, the message, the command line)
    /// and refuses it where it could name a file.
    taint: bool,
    /// Evaluating a string that failed to compile (`error_as_exim_meets_it`).
    pub(crate) to_error: bool,
}

/// Deep nesting (from `${expand:}` loops or hostile input) stops here.
const MAX_DEPTH: usize = 200;

impl<'c> Evaluator<'c> {
    pub fn new(ctx: &'c mut dyn Context) -> Self {
        Evaluator { ctx, value: None, item: None, numeric: Vec::new(), locals: Vec::new(), depth: 0, taint: false, to_error: false }
    }

    /// Start with `$1`, `$2`... set (an authenticator's values).
    pub fn with_numeric(mut self, values: &[String]) -> Self {
        self.numeric = std::iter::once(String::new()).chain(values.iter().cloned()).collect();
        self
    }

    /// Start with `$0`, `$1`... set to `values`.
    pub fn with_numeric_from_zero(mut self, values: Vec<String>) -> Self {
        self.numeric = values;
        self
    }

    /// $item for the next list item, in the buffer the last one used.
    fn set_item(&mut self, text: &str) {
        let mut buf = self.item.take().unwrap_or_default();
        buf.clear();
        buf.push_str(text);
        self.item = Some(buf);
    }

    /// Evaluate a sequence; its taint joins that of the string being built.
    pub fn seq(&mut self, seq: &Seq) -> Result<String> {
        let (s, t) = self.seq_t(seq)?;
        self.taint |= t;
        Ok(s)
    }

    /// Evaluate a sequence on its own, returning whether it is tainted.
    pub fn seq_t(&mut self, seq: &Seq) -> Result<(String, bool)> {
        let mut out = String::new();
        let tainted = self.seq_into(seq, &mut out)?;
        Ok((out, tainted))
    }

    /// Evaluate a sequence on its own onto the end of `out` (whose
    /// buffer a caller can reuse), returning whether it is tainted. On an
    /// error `out` holds whatever was written before it.
    pub fn seq_into(&mut self, seq: &Seq, out: &mut String) -> Result<bool> {
        let outer = std::mem::replace(&mut self.taint, false);
        let start = out.len();
        let r = seq.iter().try_for_each(|node| self.node(node, out));
        let tainted = std::mem::replace(&mut self.taint, outer);
        // Exim's strings are C strings: whatever takes this one stops at
        // a NUL (from an escape in the text, or ${from_utf8}).
        if bytes::nul_made() {
            if let Some(i) = memchr::memchr(0, &out.as_bytes()[start..]) {
                out.truncate(start + i);
            }
        }
        r.map(|_| tainted)
    }

    fn node(&mut self, node: &Node, out: &mut String) -> Result<()> {
        // A result that is the whole string so far is moved, not copied.
        // (Values from outside were cut at a NUL where they were made, as
        // Exim adds them as C strings.)
        fn append(out: &mut String, s: String) {
            if out.capacity() == 0 {
                *out = s;
            } else {
                bytes::push_str(out, &s);
            }
        }
        match node {
            // A copy of the right size, not a buffer grown to fit.
            Node::Lit(s) if out.capacity() == 0 => *out = s.clone(),
            Node::Lit(s) => bytes::push_str(out, s),
            // The evaluator's own variables are copied straight into the
            // output, not through a String of their own.
            Node::Var(VarRef::Item) => bytes::push_str(out, self.item.as_deref().unwrap_or_default()),
            Node::Var(VarRef::Numeric(n)) => bytes::push_str(out, self.numeric.get(*n).map_or("", |s| s.as_str())),
            Node::Var(VarRef::Value) if self.value.is_some() => bytes::push_str(out, self.value.as_deref().unwrap_or_default()),
            Node::Var(v) => {
                if let VarRef::Named(name) = v {
                    self.taint |= self.ctx.is_tainted(name);
                }
                append(out, self.var(v))
            }
            Node::Header(h) => {
                // Headers come from the message: always tainted.
                self.taint = true;
                let text = self.ctx.header(h.kind, &h.name).unwrap_or_default();
                // $h_ and $bh_ decode RFC 2047 words; when that fails Exim
                // gives the text undecoded.
                let text = match h.kind {
                    HeaderKind::Decoded if text.contains("=?") => {
                        encode::rfc2047d(&text, &self.headers_charset()).unwrap_or(text)
                    }
                    HeaderKind::Basic if text.contains("=?") => encode::rfc2047_decode(&text, None).unwrap_or(text),
                    _ => text,
                };
                append(out, text)
            }
            Node::Op { op, arg } => {
                let (sub, tainted) = self.seq_t(arg)?;
                let r = operators::apply(op, sub, self)?;
                self.taint |= tainted && operators::keeps_taint(op.kind);
                append(out, r);
            }
            Node::Item(item) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    self.depth -= 1;
                    return failed("expansion nested too deeply");
                }
                let r = self.item(item);
                self.depth -= 1;
                append(out, r?);
            }
        }
        Ok(())
    }

    pub fn var(&self, v: &VarRef) -> String {
        match v {
            // Outside any item, $value is the context's (an ACL
            // condition's lookup); an item's value ends with the item.
            VarRef::Value => self.value.clone().or_else(|| self.ctx.variable("value")).unwrap_or_default(),
            VarRef::Item => self.item.clone().unwrap_or_default(),
            VarRef::Numeric(n) => self.numeric.get(*n).cloned().unwrap_or_default(),
            VarRef::Named(name) if self.locals.iter().any(|(n, _)| *n == &**name) => {
                self.locals.iter().rev().find(|(n, _)| *n == &**name).map(|(_, v)| v.clone()).unwrap_or_default()
            }
            VarRef::Named(name) => match self.ctx.variable(name) {
                Some(v) => v,
                None if &**name == "reply_address" => self.reply_address(),
                None => match variables::default_of(name) {
                    variables::Default::Fixed(s) => s.to_string(),
                    _ => String::new(),
                },
            },
        }
    }

    /// `$reply_address`: the raw Reply-To: header, or From: when that is
    /// missing or blank, on one line without surrounding white space.
    fn reply_address(&self) -> String {
        let header = |name| self.ctx.header(HeaderKind::Raw, name).filter(|v| !v.trim().is_empty());
        let v = header("reply-to").or_else(|| header("from")).unwrap_or_default();
        v.replace('\n', " ").trim().to_string()
    }

    fn branches(&mut self, ok: bool, b: &Branches, value: Option<String>, what: &str, default_yes: &str) -> Result<String> {
        self.choose(ok, b.yes.as_ref(), b.no.as_ref(), b.fail, value, what, default_yes)
    }

    /// Expand the yes or the no string with `$value` set.
    #[allow(clippy::too_many_arguments)]
    fn choose(
        &mut self,
        ok: bool,
        yes: Option<&Seq>,
        no: Option<&Seq>,
        fail: bool,
        value: Option<String>,
        what: &str,
        default_yes: &str,
    ) -> Result<String> {
        // The "no" string sees the $value from before the item.
        let saved = ok.then(|| std::mem::replace(&mut self.value, value));
        // Exim reads a string it skips, and stops at an error in it: the
        // yes string before the no string is evaluated, the no string
        // after the yes string was.
        if !ok {
            if let Some(e) = self.skipped_error(yes) {
                return Err(e);
            }
            self.skip(yes);
        }
        let r = if ok {
            match yes {
                Some(yes) => self.seq(yes),
                None => Ok(self.value.take().unwrap_or_else(|| default_yes.to_string())),
            }
        } else if fail {
            Err(ExpandError::ForcedFail(format!("\"{what}\" failed and \"fail\" requested")))
        } else {
            match no {
                Some(no) => self.seq(no),
                None => Ok(String::new()),
            }
        };
        if let Some(outer) = saved {
            self.value = outer;
        }
        if ok && r.is_ok() {
            if let Some(e) = self.skipped_error(no) {
                return Err(e);
            }
            self.skip(no);
        }
        r
    }

    /// A string that is not evaluated: Exim reads it in its skipping mode,
    /// where each `${run}` "pretends it worked" and sets `$runrc` to 0.
    fn skip(&mut self, skipped: Option<&Seq>) {
        if skipped.is_some_and(has_run) {
            self.ctx.set_variable("runrc", "0".into());
        }
    }

    /// The syntax error in a string that is skipped, when the string
    /// failed to compile (`to_error`).
    fn skipped_error(&self, skipped: Option<&Seq>) -> Option<ExpandError> {
        if !self.to_error {
            return None;
        }
        skipped.and_then(first_broken).cloned()
    }

    fn item(&mut self, item: &Item) -> Result<String> {
        match item {
            Item::If { cond, branches } => {
                let saved = self.numeric.clone();
                let ok = self.cond(cond)?;
                let value = self.value.clone();
                let r = self.branches(ok, branches, value, "if", "true");
                self.numeric = saved;
                // `${if cond}` alone yields "true" or nothing.
                if branches.yes.is_none() {
                    return Ok(if ok { "true".into() } else { String::new() });
                }
                r
            }
            Item::Lookup { key, search_type, query, branches } => {
                // Neither the key nor the file taints the data found.
                let key = key.as_ref().map(|k| self.seq_t(k)).transpose()?.map(|(k, _)| k);
                let (query_text, query_tainted) = self.seq_t(query)?;
                if query_tainted && key.is_some() {
                    self.ctx.log(&format!("Tainted filename for search: '{query_text}'"));
                    // Exim's message is lost on the way out: it prints
                    // "(null)", or nothing when the name was computed.
                    let computed = query.iter().any(|n| matches!(n, Node::Op { .. } | Node::Item(_)));
                    return failed(if computed { "" } else { "(null)" });
                }
                let query = query_text;
                let found = self.ctx.lookup(key.as_deref(), search_type, &query)?;
                let (value, numeric) = match found {
                    Some(f) => (Some(f.value.map(|mut v| {
                        bytes::cut_at_nul(&mut v);
                        v
                    }).unwrap_or_default()), f.numeric),
                    None => (None, Vec::new()),
                };
                let ok = value.is_some();
                let saved = (!numeric.is_empty()).then(|| std::mem::replace(&mut self.numeric, numeric));
                let r = self.branches(ok, branches, value, "lookup", "");
                if let Some(n) = saved {
                    self.numeric = n;
                }
                r
            }
            Item::Extract { json, args, fail } => self.extract(*json, args, *fail),
            Item::Filter { list, cond } => {
                let list = self.seq(list)?;
                // Exim reads the condition once skipping before the first
                // list item, even when there is none.
                if cond.has_run() {
                    self.ctx.set_variable("runrc", "0".into());
                }
                let (sep, _) = lists::separator(&list, ':');
                let mut out = String::new();
                let mut first = true;
                let saved = self.item.take();
                let mut items = lists::iter(&list);
                while let Some(it) = items.next_item() {
                    self.set_item(&it);
                    match self.cond(cond) {
                        Ok(true) => {
                            lists::push_item(&mut out, &it, sep, first);
                            first = false;
                        }
                        Ok(false) => {}
                        Err(e) => {
                            self.item = saved;
                            return Err(e.inside_condition("filter"));
                        }
                    }
                }
                self.item = saved;
                Ok(out)
            }
            Item::Run { options, command, branches } => {
                let cmd = self.seq(command)?;
                let result = self.ctx.run(options, &cmd)?;
                self.ctx.set_variable("runrc", result.rc.to_string());
                // Unlike a lookup's, run's "no" string sees the output too.
                let outer = std::mem::replace(&mut self.value, Some(result.output.clone()));
                let r = self.branches(result.rc == 0, branches, Some(result.output), "run", "");
                self.value = outer;
                r
            }
            Item::Generic { id, options: _, args, fail } => self.generic(*id, args, *fail),
            Item::Broken { first, error } => {
                self.item(first)?;
                Err(error.clone())
            }
            Item::Invalid(error) => Err(error.clone()),
        }
    }

    fn args(&mut self, args: &[Seq]) -> Result<Vec<String>> {
        args.iter().map(|a| self.seq(a)).collect()
    }

    fn yes_no(&mut self, ok: bool, args: &[Seq], value: Option<String>, fail: bool, what: &str) -> Result<String> {
        self.choose(ok, args.first(), args.get(1), fail, value, what, "")
    }

    fn generic(&mut self, id: ItemId, args: &[Seq], fail: bool) -> Result<String> {
        match id {
            ItemId::Substr | ItemId::Length | ItemId::Hash | ItemId::Nhash => {
                let v = self.args(args)?;
                let name = super::items::def_of(id).name;
                let num = |s: &str| -> Result<i64> {
                    s.parse::<i64>().map_err(|_| ExpandError::Failed(format!("\"{s}\" is not a number (in \"{name}\" expansion)")))
                };
                // Only substr's start may be negative; the other numbers
                // are counts.
                let count = |s: &str| -> Result<i64> {
                    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                        Ok(s.parse().unwrap_or(i64::MAX))
                    } else {
                        failed(format!("\"{s}\" is not a positive number (in \"{name}\" expansion)"))
                    }
                };
                let subject = v.last().cloned().unwrap_or_default();
                let n1 = if id == ItemId::Length { count(&v[0])? } else { num(&v[0])? };
                let n2 = if v.len() == 3 { Some(count(&v[1])?) } else { None };
                match id {
                    ItemId::Substr => Ok(strings::extract_substr(&subject, n1, n2.unwrap_or(-1))),
                    ItemId::Length => Ok(strings::extract_substr(&subject, 0, n1)),
                    ItemId::Hash => strings::compute_hash(&subject, n1, n2.unwrap_or(-1)),
                    _ => strings::compute_nhash(&subject, n1, n2.unwrap_or(-1)),
                }
            }
            ItemId::Sg => self.sg(args),
            ItemId::Tr => {
                let v = self.args(args)?;
                Ok(tr(&v[0], &v[1], &v[2]))
            }
            ItemId::Hmac => {
                let v = self.args(args)?;
                encode::hmac_hex(&v[0], &to_bytes(&v[1]), &to_bytes(&v[2]))
            }
            ItemId::Map => {
                let list = self.seq(&args[0])?;
                // Exim reads the body once skipping before the first list
                // item, even when there is none (and so for reduce and sort).
                self.skip(Some(&args[1]));
                let (sep, _) = lists::separator(&list, ':');
                let saved = self.item.take();
                let mut out = String::new();
                let mut first = true;
                let mut items = lists::iter(&list);
                while let Some(it) = items.next_item() {
                    self.set_item(&it);
                    match self.seq(&args[1]) {
                        // Exim writes an empty result after the first as a
                        // space, so that the separators are not doubled.
                        Ok(v) if v.is_empty() && !first => lists::push_item(&mut out, " ", sep, false),
                        Ok(v) => lists::push_item(&mut out, &v, sep, first),
                        Err(e) => {
                            self.item = saved;
                            return Err(e.inside("map"));
                        }
                    }
                    first = false;
                }
                self.item = saved;
                Ok(out)
            }
            ItemId::Reduce => {
                let list = self.seq(&args[0])?;
                let init = self.seq(&args[1])?;
                self.skip(Some(&args[2]));
                let saved = (self.item.take(), self.value.take());
                let mut acc = init;
                let mut items = lists::iter(&list);
                while let Some(it) = items.next_item() {
                    self.set_item(&it);
                    self.value = Some(acc);
                    match self.seq(&args[2]) {
                        Ok(v) => acc = v,
                        Err(e) => {
                            (self.item, self.value) = saved;
                            return Err(e.inside("reduce"));
                        }
                    }
                }
                (self.item, self.value) = saved;
                Ok(acc)
            }
            ItemId::Sort => self.sort(args),
            ItemId::Listextract => {
                let n = self.seq(&args[0])?;
                let list = self.seq(&args[1])?;
                let idx: i64 = n.trim().parse().map_err(|_| {
                    ExpandError::Failed("first argument of \"listextract\" must be numeric".to_string())
                })?;
                let items = lists::list_items(&list);
                // Exim counts a negative index from the end; one that goes
                // past the start by more than one lands on the first item.
                let pos = if idx < 0 { items.len() as i64 + idx + 1 } else { idx };
                let pick = match pos {
                    0 => None,
                    p if p < 0 => items.first().cloned(),
                    p => items.get(p as usize - 1).cloned(),
                };
                let ok = pick.is_some();
                self.yes_no(ok, &args[2..], pick, fail, "listextract")
            }
            ItemId::Listquote => {
                let v = self.args(args)?;
                // The separator is a byte, even of a multibyte character.
                let sep = to_bytes(&v[0]).first().copied().unwrap_or(b':');
                // An empty element is written as a space so that it survives.
                if v[1].is_empty() {
                    return Ok(" ".into());
                }
                let mut out = Vec::with_capacity(v[1].len() + 4);
                for &b in to_bytes(&v[1]).iter() {
                    out.push(b);
                    if b == sep {
                        out.push(b);
                    }
                }
                Ok(from_vec(out))
            }
            ItemId::Readfile => {
                let v = self.args(args)?;
                match std::fs::read(&v[0]) {
                    Ok(bytes) => {
                        let text = bytes::fgets_text(bytes);
                        Ok(match v.get(1) {
                            Some(eol) => text.replace('\n', eol),
                            None => text,
                        })
                    }
                    // A directory opens but reads as nothing.
                    Err(e) if e.raw_os_error() == Some(libc::EISDIR) => Ok(String::new()),
                    Err(e) => failed(format!("failed to open {}: {}", v[0], crate::texts::errno_text(&e))),
                }
            }
            ItemId::Env => {
                let key = self.seq(&args[0])?;
                let val = std::env::var(&key).ok();
                let ok = val.is_some();
                if args.len() == 1 {
                    return Ok(val.unwrap_or_default());
                }
                self.yes_no(ok, &args[1..], val, fail, "env")
            }
            ItemId::Acl => {
                let v = self.args(args)?;
                self.ctx.acl(&v[0], &v[1..])
            }
            ItemId::Prvs => {
                let v = self.args(args)?;
                prvs(&v[0], &v[1], v.get(2).map(String::as_str))
            }
            ItemId::Prvscheck => {
                let address = self.seq(&args[0])?;
                let Some(tag) = PrvsTag::parse(&address) else {
                    // Exim's $prvscheck_result is global: it outlives the
                    // item, and an address without a tag clears it.
                    self.ctx.set_variable("prvscheck_result", String::new());
                    return Ok(String::new());
                };
                // The secret may depend on the address and key number.
                let depth = self.locals.len();
                self.locals.push(("prvscheck_address", tag.address.clone()));
                self.locals.push(("prvscheck_keynum", tag.keynum.clone()));
                let r = (|| {
                    let secret = self.seq(&args[1])?;
                    let result = if tag.is_valid(&secret) { "1" } else { "" };
                    self.locals.push(("prvscheck_result", result.into()));
                    self.ctx.set_variable("prvscheck_result", result.into());
                    // Without a third string (or with an empty one) the
                    // address is the result, valid or not.
                    let third = args.get(2).map(|s| self.seq(s)).transpose()?.unwrap_or_default();
                    Ok(if third.is_empty() { tag.address.clone() } else { third })
                })();
                self.locals.truncate(depth);
                r
            }
            ItemId::Readsocket => {
                let v = self.args(args)?;
                let spec = v.get(2).map(String::as_str).unwrap_or("");
                let result = if self.ctx.take_stale_socket(&v[0]) {
                    let (e, log) = super::readsocket::stale(&v[1]);
                    if let Some(line) = log {
                        self.ctx.log(line);
                    }
                    Err(e)
                } else {
                    let r = super::readsocket::readsocket(&v[0], &v[1], spec);
                    if matches!(&r, Err(e) if e.0.starts_with(super::readsocket::UNIX_CONNECT_FAILED)) {
                        self.ctx.leave_stale_socket(&v[0]);
                    }
                    r
                };
                match result {
                    Ok(answer) => Ok(match v.get(3) {
                        Some(eol) if args.len() > 3 => answer.replace('\n', eol),
                        _ => answer,
                    }),
                    // The fifth string, if given, stands in for any failure.
                    Err(_) if v.len() > 4 => Ok(v[4].clone()),
                    Err(e) => failed(e.0),
                }
            }
            ItemId::Authresults => {
                let id = self.seq(&args[0])?;
                Ok(self.authresults(&id))
            }
            ItemId::Imapfolder => {
                let v = self.args(args)?;
                let sep = v.get(1).and_then(|s| s.chars().next()).unwrap_or('/');
                strings::imapfolder(&v[0], sep, v.get(2).map(String::as_str).unwrap_or(""))
            }
            ItemId::SrsEncode => {
                let v = self.args(args)?;
                super::srs::encode(&v[0], &v[1], &v[2])
            }
            ItemId::Perl => failed("A setting of perl_startup is needed when using the Perl interpreter"),
            ItemId::Dlfunc => {
                let file = self.seq(&args[0])?;
                failed(format!("dlopen \"{file}\" failed: rexim does not load code"))
            }
            ItemId::Certextract => failed("second argument of \"certextract\" must be a certificate variable"),
        }
    }

    /// Global substitution the way Exim (and Perl's /g) does it: after an
    /// empty match the next search starts one character on, but an empty
    /// match right after a non-empty one is still taken.
    /// `${authresults{id}}`: an Authentication-Results: header for what
    /// is known of the client (RFC 8601 iprev, and auth once AUTH exists).
    fn authresults(&self, id: &str) -> String {
        let mut out = format!("Authentication-Results: {id}");
        let ip = self.ctx.variable("sender_host_address").unwrap_or_default();
        if !ip.is_empty() {
            match self.ctx.variable("sender_host_name").filter(|n| !n.is_empty()) {
                Some(name) => out.push_str(&format!(";\n\tiprev=pass ({name}) smtp.remote-ip={ip}")),
                None => out.push_str(&format!(";\n\tiprev=fail smtp.remote-ip={ip}")),
            }
        }
        if let Some(auth_id) = self.ctx.variable("authenticated_id").filter(|_| {
            self.ctx.variable("sender_host_authenticated").is_some_and(|a| !a.is_empty())
        }) {
            out.push_str(&format!(";\n\tauth=pass smtp.auth={auth_id}"));
        }
        out
    }

    fn sg(&mut self, args: &[Seq]) -> Result<String> {
        // The result is tainted by the parts of the subject it keeps and by
        // the replacements, not by the subject as such.
        let (subject, subject_tainted) = self.seq_t(&args[0])?;
        let pattern = self.seq(&args[1])?;
        let repl_src = self.seq(&args[2])?;
        let re = regex_cache::compile(&pattern, "sg")?;
        let mut kept_subject = false;
        let repl = super::compile(&repl_src)?;
        // PCRE2 matches bytes, as in Exim: a match may cut a character.
        let subject = to_bytes(&subject);
        let mut locs = re.take_locations();
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let found = re
                .captures_read_at(&mut locs, &subject, pos)
                .map_err(|e| ExpandError::Failed(format!("sg failed: {e}")))?;
            let Some(m) = found else { break };
            kept_subject |= m.start() > pos;
            out.extend_from_slice(&subject[pos..m.start()]);
            if let Some(text) = repl.literal() {
                // Nothing in it refers to the groups.
                bytes::push_bytes(&mut out, text);
            } else {
                let groups = regex_cache::groups(&locs, &subject);
                let saved = std::mem::replace(&mut self.numeric, groups);
                let r = self.seq(&repl.nodes);
                self.numeric = saved;
                bytes::push_bytes(&mut out, &r?);
            }
            pos = m.end();
            if m.start() == m.end() {
                let Some(&c) = subject.get(pos) else { break };
                out.push(c);
                kept_subject = true;
                pos += 1;
            }
        }
        re.put_locations(locs);
        kept_subject |= pos < subject.len();
        out.extend_from_slice(&subject[pos..]);
        self.taint |= subject_tainted && kept_subject;
        Ok(from_vec(out))
    }

    fn sort(&mut self, args: &[Seq]) -> Result<String> {
        let list = self.seq(&args[0])?;
        let cmp = self.seq(&args[1])?;
        self.skip(Some(&args[2]));
        let (sep, _) = lists::separator(&list, ':');
        let id = match super::conditions::find(cmp.trim()) {
            Some((id, 2)) if sort_comparator(id) => id,
            Some(_) => return failed("comparator not handled for sort"),
            // Exim reports an unknown comparator with an empty message.
            None => return failed(""),
        };
        let saved = self.item.take();
        let mut keyed = Vec::new();
        let mut items = lists::iter(&list);
        while let Some(it) = items.next_item() {
            self.set_item(&it);
            let k = self.seq(&args[2]);
            match k {
                Ok(k) => keyed.push((k, it)),
                Err(e) => {
                    self.item = saved;
                    return Err(e.inside("sort"));
                }
            }
        }
        self.item = saved;
        // Exim's sort is an insertion sort placing each item before the
        // first one the comparator says it precedes; keep that stability.
        let mut sorted: Vec<(String, Cow<'_, str>)> = Vec::new();
        for (k, it) in keyed {
            let mut at = sorted.len();
            for (i, (sk, _)) in sorted.iter().enumerate() {
                // A comparison that cannot be made (not a number) is false.
                if compare(id, &k, sk).unwrap_or(false) {
                    at = i;
                    break;
                }
            }
            sorted.insert(at, (k, it));
        }
        let mut out = String::with_capacity(list.len());
        for (i, (_, it)) in sorted.iter().enumerate() {
            lists::push_item(&mut out, it, sep, i == 0);
        }
        Ok(out)
    }

    fn extract(&mut self, json: Option<JsonMode>, args: &[Seq], fail: bool) -> Result<String> {
        let first = self.seq(&args[0])?;
        // Exim trims the key (or number) before it looks at it.
        let first = first.trim_matches(|c: char| c.is_ascii_whitespace());
        if first.is_empty() {
            return failed("first argument of \"extract\" must not be empty");
        }
        let numbered = first.parse::<i64>().is_ok() && args.len() >= 3 && json.is_none();
        let (found, rest) = if numbered {
            let seps = self.seq(&args[1])?;
            let subject = self.seq(&args[2])?;
            let n: i64 = first.parse().expect("checked");
            (extract_numbered(n, &seps, &subject), &args[3..])
        } else if let Some(mode) = json {
            let subject = self.seq(&args[1])?;
            (super::json::extract(first, &subject, mode)?, &args[2..])
        } else {
            let subject = self.seq(&args[1])?;
            (extract_named(first, &subject), &args[2..])
        };
        if rest.len() > 2 {
            return failed("missing '}' after 'extract'");
        }
        let ok = found.is_some();
        if rest.is_empty() {
            if !ok && fail {
                return Err(ExpandError::ForcedFail("\"extract\" failed and \"fail\" requested".into()));
            }
            return Ok(found.unwrap_or_default());
        }
        self.yes_no(ok, rest, found, fail, "extract")
    }

    // ---- conditions ----

    /// Evaluate a condition; what it reads does not taint the result.
    pub fn cond(&mut self, c: &Cond) -> Result<bool> {
        let outer = std::mem::replace(&mut self.taint, false);
        let r = self.cond_inner(c);
        self.taint = outer;
        r
    }

    fn cond_inner(&mut self, c: &Cond) -> Result<bool> {
        match c {
            Cond::Not(inner) => Ok(!self.cond(inner)?),
            Cond::And(subs) | Cond::Or(subs) => {
                // and stops at the first false, or at the first true; the
                // rest is skipped (see skip()).
                let stop_at = matches!(c, Cond::Or(_));
                for (i, s) in subs.iter().enumerate() {
                    if self.cond(s)? == stop_at {
                        if subs[i + 1..].iter().any(Cond::has_run) {
                            self.ctx.set_variable("runrc", "0".into());
                        }
                        return Ok(stop_at);
                    }
                }
                Ok(!stop_at)
            }
            Cond::Def(DefTarget::Var(v)) => Ok(!self.var(v).is_empty()),
            Cond::Def(DefTarget::Header(h)) => Ok(self.ctx.header(h.kind, &h.name).is_some()),
            Cond::Loop { kind, json, list, cond } => {
                let list = self.seq(list)?;
                let mut json_items = match json {
                    None => None,
                    Some(mode) => Some(super::json::array_items(&list, *mode)?.into_iter()),
                };
                let mut list_items = lists::iter(&list);
                let saved = self.item.take();
                let want = *kind == LoopKind::Any;
                // Exim's forall is false for an empty list, like forany.
                let mut result = false;
                loop {
                    match &mut json_items {
                        Some(items) => match items.next() {
                            Some(it) => self.item = Some(it),
                            None => break,
                        },
                        None => match list_items.next_item() {
                            Some(it) => self.set_item(&it),
                            None => break,
                        },
                    }
                    result = !want;
                    match self.cond(cond) {
                        Ok(r) if r == want => {
                            result = want;
                            break;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            self.item = saved;
                            return Err(e);
                        }
                    }
                }
                self.item = saved;
                Ok(result)
            }
            Cond::Acl(args) => {
                let v = self.args(args)?;
                let (accepted, message) = self.ctx.acl_condition(&v[0], &v[1..])?;
                self.value = Some(message);
                Ok(accepted)
            }
            Cond::Simple { id, args } => self.simple(*id, args),
        }
    }

    /// A condition's argument; a literal is borrowed from the compiled
    /// string rather than copied.
    fn arg<'a>(&mut self, seq: &'a Seq) -> Result<Cow<'a, str>> {
        match seq.as_slice() {
            [] => Ok(Cow::Borrowed("")),
            [Node::Lit(s)] if bytes::nul_made() => Ok(Cow::Borrowed(bytes::until_nul(s))),
            [Node::Lit(s)] => Ok(Cow::Borrowed(s)),
            _ => self.seq(seq).map(Cow::Owned),
        }
    }

    fn simple(&mut self, id: CondId, args: &[Seq]) -> Result<bool> {
        self.taint = false;
        // No condition takes more than two strings (conditions::CONDITIONS).
        let mut v = [Cow::Borrowed(""), Cow::Borrowed("")];
        for (slot, a) in v.iter_mut().zip(args) {
            *slot = self.arg(a)?;
        }
        match id {
            CondId::Eq | CondId::Eqi | CondId::Lt | CondId::Lti | CondId::Le | CondId::Lei | CondId::Gt
            | CondId::Gti | CondId::Ge | CondId::Gei | CondId::NumLt | CondId::NumLe | CondId::NumEq
            | CondId::NumGt | CondId::NumGe => compare(id, &v[0], &v[1]),
            CondId::Bool => {
                let t = v[0].trim();
                match t.to_ascii_lowercase().as_str() {
                    "" => Ok(false),
                    "true" | "yes" => Ok(true),
                    "false" | "no" => Ok(false),
                    _ => match parse_exim_number(t) {
                        Some(n) => Ok(n != 0),
                        None => failed(format!("unrecognised boolean value \"{t}\"")),
                    },
                }
            }
            CondId::BoolLax => {
                let t = v[0].trim().to_ascii_lowercase();
                Ok(!matches!(t.as_str(), "" | "false" | "no" | "0"))
            }
            // A tainted file name is never looked at.
            CondId::Exists => Ok(!self.taint && std::fs::metadata(&*v[0]).is_ok()),
            CondId::Isip => Ok(ipaddr::ip_version(&v[0]).is_some()),
            CondId::Isip4 => Ok(ipaddr::ip_version(&v[0]) == Some(4)),
            CondId::Isip6 => Ok(ipaddr::ip_version(&v[0]) == Some(6)),
            CondId::Match => {
                let re = regex_cache::compile(&v[1], "match")?;
                match re.groups(&to_bytes(&v[0])) {
                    Ok(Some(groups)) => {
                        self.numeric = groups;
                        Ok(true)
                    }
                    Ok(None) => Ok(false),
                    Err(e) => failed(format!("match failed: {e}")),
                }
            }
            CondId::Inlist | CondId::Inlisti => {
                let caseless = id == CondId::Inlisti;
                for it in lists::list_items(&v[1]) {
                    let hit = if caseless { it.eq_ignore_ascii_case(&v[0]) } else { it == v[0] };
                    if hit {
                        self.value = Some(it);
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            CondId::MatchIp | CondId::MatchDomain | CondId::MatchAddress | CondId::MatchLocalPart => {
                let kind = match id {
                    CondId::MatchIp => ListKind::Host,
                    CondId::MatchDomain => ListKind::Domain,
                    CondId::MatchAddress => ListKind::Address,
                    _ => ListKind::LocalPart,
                };
                match self.ctx.match_list(kind, &v[0], &v[1])? {
                    Some(found) => {
                        self.value = found.value;
                        // Exim's match_address leaves $0, $1... as they were.
                        if !found.numeric.is_empty() && id != CondId::MatchAddress {
                            self.numeric = found.numeric;
                        }
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            CondId::Crypteq => super::crypteq::crypteq(&v[0], &v[1]),
            CondId::FirstDelivery => Ok(self.ctx.variable("first_delivery").as_deref() == Some("yes")),
            CondId::QueueRunning => Ok(self.ctx.variable("queue_running").as_deref() == Some("yes")),
            CondId::InboundSrs => match super::srs::decode(&v[0], &v[1]) {
                Some(original) => {
                    self.ctx.set_variable("srs_recipient", original);
                    Ok(true)
                }
                None => Ok(false),
            },
            CondId::Ldapauth | CondId::Pam | CondId::Pwcheck | CondId::Radius => {
                failed(format!("{} condition is not supported by rexim", cond_name(id)))
            }
        }
    }
}

fn sort_comparator(id: CondId) -> bool {
    matches!(
        id,
        CondId::NumLt | CondId::NumLe | CondId::NumGt | CondId::NumGe | CondId::Lt | CondId::Lti
            | CondId::Le | CondId::Lei | CondId::Gt | CondId::Gti | CondId::Ge | CondId::Gei
    )
}

fn cond_name(id: CondId) -> &'static str {
    super::conditions::CONDITIONS.iter().find(|c| c.1 == id).map(|c| c.0).unwrap_or("?")
}

/// Exim's numeric comparison operands: decimal with an optional K/M/G.
fn parse_exim_number(s: &str) -> Option<i64> {
    let t = s.trim();
    let (num, mult) = match t.as_bytes().last()? {
        b'k' | b'K' => (&t[..t.len() - 1], 1024),
        b'm' | b'M' => (&t[..t.len() - 1], 1024 * 1024),
        b'g' | b'G' => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    let digits = num.strip_prefix('-').or_else(|| num.strip_prefix('+')).unwrap_or(num);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<i64>().ok().map(|n| n.saturating_mul(mult))
}

/// Exim's expanded_string_integer: an optional sign, decimal digits, an
/// optional K/M/G, white space around; a blank string is 0.
pub fn expanded_string_integer(s: &str, isplus: bool) -> Result<i64> {
    let t = s.trim_start();
    if t.is_empty() {
        return Ok(0);
    }
    let b = t.as_bytes();
    let mut end = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end == digits_start {
        return failed(format!("integer expected but \"{t}\" found"));
    }
    let overflow = || ExpandError::Failed(format!("absolute value of integer \"{t}\" is too large (overflow)"));
    let negative = b[0] == b'-';
    let mut value: i64 = 0;
    for &c in &b[digits_start..end] {
        let d = i64::from(c - b'0');
        value = value.checked_mul(10).and_then(|v| if negative { v.checked_sub(d) } else { v.checked_add(d) }).ok_or_else(overflow)?;
    }
    if value < 0 && isplus {
        return failed(format!("integer \"{t}\" is negative"));
    }
    let mult = match b.get(end).map(u8::to_ascii_lowercase) {
        Some(b'k') => 1024,
        Some(b'm') => 1024 * 1024,
        Some(b'g') => 1024 * 1024 * 1024,
        _ => 1,
    };
    if mult != 1 {
        value = value.checked_mul(mult).ok_or_else(overflow)?;
        end += 1;
    }
    if !t[end..].trim_start().is_empty() {
        return failed(format!("invalid integer \"{t}\""));
    }
    Ok(value)
}

fn compare(id: CondId, a: &str, b: &str) -> Result<bool> {
    use std::cmp::Ordering::*;
    let numeric = matches!(id, CondId::NumLt | CondId::NumLe | CondId::NumEq | CondId::NumGt | CondId::NumGe);
    let ord = if numeric {
        expanded_string_integer(a, false)?.cmp(&expanded_string_integer(b, false)?)
    } else if matches!(id, CondId::Eqi | CondId::Lti | CondId::Lei | CondId::Gti | CondId::Gei) {
        // strcmpic(): ASCII letters only, bytes compared unsigned.
        let (a, b) = (to_bytes(a), to_bytes(b));
        a.iter().map(u8::to_ascii_lowercase).cmp(b.iter().map(u8::to_ascii_lowercase))
    } else {
        to_bytes(a).cmp(&to_bytes(b))
    };
    Ok(match id {
        CondId::Eq | CondId::Eqi | CondId::NumEq => ord == Equal,
        CondId::Lt | CondId::Lti | CondId::NumLt => ord == Less,
        CondId::Le | CondId::Lei | CondId::NumLe => ord != Greater,
        CondId::Gt | CondId::Gti | CondId::NumGt => ord == Greater,
        _ => ord != Less,
    })
}

/// `${tr}` maps bytes, as Exim does (each byte of a multibyte character).
fn tr(subject: &str, from: &str, to: &str) -> String {
    let (from, to) = (to_bytes(from), to_bytes(to));
    let mapped = to_bytes(subject)
        .iter()
        .map(|&c| match from.iter().rposition(|&f| f == c) {
            Some(i) if !to.is_empty() => to[i.min(to.len() - 1)],
            _ => c,
        })
        .collect();
    from_vec(mapped)
}

/// `${extract{key}{a=1 b=2}}`: key=value pairs, values optionally quoted.
fn extract_named(key: &str, subject: &str) -> Option<String> {
    let b = subject.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        let name = &subject[start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        // The "=" is optional: without it the next word is the value.
        if i < b.len() && b[i] == b'=' {
            i += 1;
        }
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() {
            if i < b.len() && b[i] == b'"' {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                        let ch = subject[i..].chars().next().expect("char");
                        value.push_str(&super::escape::interpret_escape(&ch.to_string()));
                        i += ch.len_utf8() - 1;
                    } else {
                        let ch = subject[i..].chars().next().expect("char");
                        value.push(ch);
                        i += ch.len_utf8() - 1;
                    }
                    i += 1;
                }
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value.push_str(&subject[vs..i]);
            }
        }
        if name.eq_ignore_ascii_case(key) {
            bytes::cut_at_nul(&mut value);
            return Some(value);
        }
    }
}

/// `${extract{N}{seps}{string}}`: field N (negative from the end); 0 is
/// the whole string.
fn extract_numbered(n: i64, seps: &str, subject: &str) -> Option<String> {
    if n == 0 {
        return Some(subject.to_string());
    }
    // The separators are bytes.
    let (subject, seps) = (to_bytes(subject), to_bytes(seps));
    let fields: Vec<&[u8]> = subject.split(|c| seps.contains(c)).collect();
    let idx = if n > 0 { n as usize - 1 } else { fields.len().checked_sub((-n) as usize)? };
    fields.get(idx).map(|s| from_bytes(s).into_owned())
}

fn prvs_day(offset_days: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    format!("{:03}", (now / 86400 + offset_days).rem_euclid(1000))
}

fn prvs(address: &str, secret: &str, keynum: Option<&str>) -> Result<String> {
    // Omitted means key 0; given but empty is not a digit.
    let keynum = keynum.unwrap_or("0");
    if keynum.len() != 1 || !keynum.as_bytes()[0].is_ascii_digit() {
        return failed("prvs third argument must be a single digit");
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return failed("prvs first argument must be a qualified email address");
    };
    let day = prvs_day(7);
    let hash = prvs_hash(address, secret, keynum, &day)?;
    Ok(format!("prvs={keynum}{day}{hash}={local}@{domain}"))
}

fn prvs_hash(address: &str, secret: &str, keynum: &str, day: &str) -> Result<String> {
    let msg = format!("{keynum}{day}{address}");
    let full = encode::hmac_hex("sha1", secret.as_bytes(), msg.as_bytes())?;
    Ok(full[..6].to_string())
}

/// A BATV "prvs=KDDDHHHHHH=address" return path, taken apart.
struct PrvsTag {
    keynum: String,
    day: String,
    hash: String,
    address: String,
}

impl PrvsTag {
    fn parse(s: &str) -> Option<PrvsTag> {
        let rest = s.get(..5).filter(|p| p.eq_ignore_ascii_case("prvs=")).map(|_| &s[5..])?;
        let (tag, address) = rest.split_once('=')?;
        let b = tag.as_bytes();
        if b.len() != 10 || !b[..4].iter().all(u8::is_ascii_digit) || !b[4..].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        Some(PrvsTag {
            keynum: tag[..1].into(),
            day: tag[1..4].into(),
            hash: tag[4..].to_ascii_lowercase(),
            address: address.into(),
        })
    }

    /// The signature matches and the day stamp has not passed.
    fn is_valid(&self, secret: &str) -> bool {
        let signed = prvs_hash(&self.address, secret, &self.keynum, &self.day).ok().as_deref() == Some(&self.hash);
        let today = (chrono::Utc::now().timestamp() / 86400).rem_euclid(1000);
        let mut expire: i64 = self.day.parse().unwrap_or(0);
        if expire < today && today - expire > 900 {
            expire += 1000;
        }
        signed && expire >= today
    }
}

impl OpEnv for Evaluator<'_> {
    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)> {
        self.ctx.named_list(kind, name)
    }

    fn expand(&mut self, s: &str) -> Result<String> {
        let compiled = super::compile(s).map_err(|e| super::error_as_exim_meets_it(s, e, &mut *self.ctx))?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return failed("expansion nested too deeply");
        }
        let r = self.seq(&compiled.nodes);
        self.depth -= 1;
        r
    }

    fn print_topbitchars(&self) -> bool {
        self.ctx.config_option("print_topbitchars").as_deref() == Some("true")
    }

    fn headers_charset(&self) -> String {
        self.ctx.config_option("headers_charset").unwrap_or_else(|| crate::texts::HEADERS_CHARSET.to_string())
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// Integers in conditions read as the standard library reads the
        /// digits (with Exim's K/M/G, its errors and its overflow text).
        #[test]
        fn integers_read_as_parse(text in "[ ]{0,2}[+-]?[0-9]{0,22}[kKmMgGx]?[ ]{0,2}", isplus: bool) {
            let got = super::expanded_string_integer(&text, isplus).map_err(|e| e.message().to_string());
            let t = text.trim_start();
            let end = t.bytes().position(|b| !b.is_ascii_digit() && b != b'+' && b != b'-').unwrap_or(t.len());
            let want = if t.is_empty() {
                Ok(0)
            } else if end == 0 || !t.as_bytes()[end - 1].is_ascii_digit() {
                Err(format!("integer expected but \"{t}\" found"))
            } else {
                let overflow = format!("absolute value of integer \"{t}\" is too large (overflow)");
                match t[..end].parse::<i64>() {
                    Err(_) => Err(overflow),
                    Ok(v) if v < 0 && isplus => Err(format!("integer \"{t}\" is negative")),
                    Ok(v) => {
                        let mult: i64 = match t.as_bytes().get(end).map(u8::to_ascii_lowercase) {
                            Some(b'k') => 1024,
                            Some(b'm') => 1 << 20,
                            Some(b'g') => 1 << 30,
                            _ => 1,
                        };
                        let rest = &t[end + usize::from(mult != 1)..];
                        match v.checked_mul(mult) {
                            None => Err(overflow),
                            Some(_) if !rest.trim_start().is_empty() => Err(format!("invalid integer \"{t}\"")),
                            Some(v) => Ok(v),
                        }
                    }
                }
            };
            proptest::prop_assert_eq!(got, want);
        }
    }
}
