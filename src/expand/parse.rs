//! From the pest parse tree to the AST, with Exim's error texts.
//!
//! The grammar accepts every string; what Exim rejects while reading is
//! rejected here, where the tables know the names and argument counts.

use pest::iterators::Pair;
use pest::Parser;

use super::ast::*;
use super::conditions;
use super::error::ExpandError;
use super::escape::interpret_escape;
use super::items::{self, ItemId};
use super::operators::Op;
use super::variables;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/expand.pest"]
struct ExpandParser;

type Result<T> = std::result::Result<T, ExpandError>;

fn failed<T>(msg: impl Into<String>) -> Result<T> {
    Err(ExpandError::Failed(msg.into()))
}

/// Exim reads names into a 256-byte buffer: longer ones are cut short.
fn truncated(name: &str) -> &str {
    let mut end = name.len().min(255);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// The parser recurses once per nested brace; beyond this depth a string
/// is refused rather than risk the stack.
const MAX_NESTING: usize = 1000;

/// The deepest nesting of braces inside `${...}`, counted cheaply.
fn nesting_depth(source: &str) -> usize {
    let b = source.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'{' if depth > 0 => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            _ => {}
        }
        max = max.max(depth);
        i += 1;
    }
    max
}

thread_local! {
    /// Set while `parse_to_error` reads a string again.
    static TO_ERROR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The string being read has a header name without its colon.
    static MALFORMED_HEADER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// How many list-item bodies the part being read is in: Exim reads
    /// those once skipping before the first list item.
    static SKIP_READ: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Build the AST of a part that Exim reads skipping first.
fn skip_reading<T>(f: impl FnOnce() -> T) -> T {
    SKIP_READ.with(|d| d.set(d.get() + 1));
    let r = f();
    SKIP_READ.with(|d| d.set(d.get() - 1));
    r
}

/// Read a string that failed to compile again, turning each item whose
/// yes/no strings are malformed into `Item::Broken`: Exim evaluates such an
/// item's condition or lookup (and everything before it) before it reads
/// that far, so an error there comes first. `None` when the failure is of
/// another kind.
pub fn parse_to_error(source: &str) -> Option<Seq> {
    TO_ERROR.with(|t| t.set(true));
    let r = parse(source);
    TO_ERROR.with(|t| t.set(false));
    r.ok()
}

/// A yes/no syntax error found after `first` was read: an error, or in
/// `parse_to_error` a `Broken` item.
fn broken(first: Item, error: ExpandError) -> Result<Node> {
    if TO_ERROR.with(|t| t.get()) {
        let error = if MALFORMED_HEADER.with(|m| m.get()) { header_hint(error) } else { error };
        Ok(Node::Item(Box::new(Item::Broken { first: Box::new(first), error })))
    } else {
        Err(error)
    }
}

/// Parse a whole expansion string.
pub fn parse(source: &str) -> Result<Seq> {
    // Most option values have nothing to interpret: the grammar would make
    // them one literal, at the price of a full parse.
    if memchr::memchr2(b'$', b'\\', source.as_bytes()).is_none() {
        return Ok(if source.is_empty() { Vec::new() } else { vec![Node::Lit(source.to_string())] });
    }
    // Each level of nesting takes a "{": a string that has no more than
    // the limit in all needs no count.
    if source.len() <= MAX_NESTING || nesting_depth(source) <= MAX_NESTING {
        if let Some(seq) = super::quickparse::parse(source) {
            return Ok(seq);
        }
    }
    parse_tree(source)
}

/// Parse with the grammar.
pub(super) fn parse_tree(source: &str) -> Result<Seq> {
    if source.len() > MAX_NESTING && nesting_depth(source) > MAX_NESTING {
        return failed("expansion nested too deeply");
    }
    let mut pairs = ExpandParser::parse(Rule::expansion, source)
        .map_err(|e| ExpandError::Failed(format!("internal expansion grammar error: {e}")))?;
    let expansion = pairs.next().expect("expansion rule");
    let malformed_header = expansion
        .clone()
        .into_inner()
        .flatten()
        .any(|p| p.as_rule() == Rule::header_ref && !p.as_str().ends_with(':'));
    MALFORMED_HEADER.with(|m| m.set(malformed_header));
    let text = expansion.into_inner().next().expect("top_text");
    text_seq(text).map_err(|e| if malformed_header { header_hint(e) } else { e })
}

/// After a header name that did not end with a colon (it ran on into what
/// followed), Exim's brace errors suggest that as the cause.
fn header_hint(e: ExpandError) -> ExpandError {
    const HINT: &str = "could be header name not terminated by colon";
    match e {
        ExpandError::Failed(m) if m == "missing } at end of string" => ExpandError::Failed(format!("{m} - {HINT}")),
        ExpandError::Failed(m)
            if ["curly-bracket problem", "missing or misplaced", "missing '{'", "missing '}'"]
                .iter()
                .any(|p| m.starts_with(p)) =>
        {
            ExpandError::Failed(format!("missing or misplaced {{ or }} - {HINT}"))
        }
        other => other,
    }
}

fn text_seq(pair: Pair<Rule>) -> Result<Seq> {
    let mut seq: Seq = Vec::new();
    for piece in pair.into_inner() {
        let node = match piece.as_rule() {
            Rule::top_lit | Rule::inner_lit => Node::Lit(piece.as_str().to_string()),
            Rule::protected => {
                let body = piece.into_inner().next().map(|p| p.as_str()).unwrap_or("");
                Node::Lit(body.to_string())
            }
            Rule::escape => Node::Lit(interpret_escape(&piece.as_str()[1..])),
            Rule::bare_dollar => return failed("$ not followed by letter, digit, or {"),
            Rule::simple_var => simple_var(piece)?,
            Rule::braced => braced(piece)?,
            r => unreachable!("text piece {r:?}"),
        };
        // Adjacent literals are merged so evaluation copies less.
        match (seq.last_mut(), node) {
            (Some(Node::Lit(prev)), Node::Lit(s)) => crate::bytes::push_str(prev, &s),
            (_, node) => seq.push(node),
        }
    }
    Ok(seq)
}

fn header_ref(pair: Pair<Rule>) -> HeaderRef {
    let mut inner = pair.into_inner();
    let prefix = inner.next().expect("header prefix").as_str();
    let name = inner.next().map(|p| p.as_str()).unwrap_or("");
    let kind = match prefix {
        "rh_" | "rheader_" => HeaderKind::Raw,
        "bh_" | "bheader_" => HeaderKind::Basic,
        "lh_" | "lheader_" => HeaderKind::List,
        _ => HeaderKind::Decoded,
    };
    HeaderRef { kind, name: name.to_string() }
}

fn simple_var(pair: Pair<Rule>) -> Result<Node> {
    let inner = pair.into_inner().next().expect("variable name");
    match inner.as_rule() {
        Rule::header_ref => Ok(Node::Header(header_ref(inner))),
        _ => {
            let name = inner.as_str();
            match variables::resolve(name) {
                Some(v) => Ok(Node::Var(v)),
                None => failed(format!("unknown variable name \"{}\"", truncated(name))),
            }
        }
    }
}

fn braced(pair: Pair<Rule>) -> Result<Node> {
    let body = pair.into_inner().next().expect("braced body");
    match body.as_rule() {
        Rule::braced_var => {
            let name = body.into_inner().next().expect("name").as_str();
            braced_var(name)
        }
        Rule::braced_bad => {
            let name = body.as_str();
            if name.is_empty() {
                failed("letter or digit expected after ${")
            } else {
                failed(format!(
                    "\"${{{name}\" is not a known operator (or a }} is missing in a variable reference)"
                ))
            }
        }
        Rule::operator => operator(body),
        Rule::if_item => if_item(body),
        Rule::lookup_item => lookup_item(body),
        Rule::extract_item => extract_item(body),
        Rule::filter_item => filter_item(body),
        Rule::run_item => run_item(body),
        Rule::generic_item => generic_item(body),
        r => unreachable!("braced body {r:?}"),
    }
}

fn braced_var(name: &str) -> Result<Node> {
    // In braces a header name is not recognized: ${h_x} is a variable name.
    match variables::resolve(name) {
        Some(v) => Ok(Node::Var(v)),
        None => failed(format!("unknown variable in \"${{{}}}\"", truncated(name))),
    }
}

fn operator(pair: Pair<Rule>) -> Result<Node> {
    let mut inner = pair.into_inner();
    let name = inner.next().expect("operator name").as_str();
    let op = Op::parse(name)?;
    let arg = text_seq(inner.next().expect("operator text"))?;
    match inner.next().map(|p| p.as_rule()) {
        Some(Rule::close) => Ok(Node::Op { op, arg }),
        _ => failed("missing } at end of string"),
    }
}

/// The braced arguments of an item, in order, and how the item ended.
struct Args {
    args: Vec<Seq>,
    /// Where each argument's "{" is, and where the tail begins, as
    /// offsets into the whole input (for "remaining string is" texts).
    starts: Vec<usize>,
    tail_pos: usize,
    /// An argument was still open at the end of the string.
    unclosed_arg: bool,
    fail: bool,
    end: TailEnd,
}

#[derive(PartialEq, Eq)]
enum TailEnd {
    Closed,
    EndOfString,
    Junk,
}

fn collect_args<'a>(pairs: impl Iterator<Item = Pair<'a, Rule>>) -> Result<Args> {
    collect_args_skipping(pairs, usize::MAX, None)
}

/// `collect_args`, with the arguments from `skip_from` on read as Exim
/// reads a list item's body.
fn collect_args_skipping<'a>(
    pairs: impl Iterator<Item = Pair<'a, Rule>>,
    skip_from: usize,
    inside: Option<&str>,
) -> Result<Args> {
    let mut out = Args {
        args: Vec::new(),
        starts: Vec::new(),
        tail_pos: 0,
        unclosed_arg: false,
        fail: false,
        end: TailEnd::Closed,
    };
    for p in pairs {
        match p.as_rule() {
            Rule::args => {
                for a in p.into_inner() {
                    out.starts.push(a.as_span().start());
                    let arg = if out.args.len() >= skip_from {
                        skip_reading(|| arg_seq(a, &mut out.unclosed_arg))
                            .map_err(|e| inside.map_or(e.clone(), |item| e.inside(item)))?
                    } else {
                        arg_seq(a, &mut out.unclosed_arg)?
                    };
                    out.args.push(arg);
                }
            }
            Rule::arg => {
                out.starts.push(p.as_span().start());
                let a = arg_seq(p, &mut out.unclosed_arg)?;
                out.args.push(a);
            }
            Rule::junk => out.end = TailEnd::Junk,
            Rule::cond_arg => {
                let a = p.into_inner().next().expect("arg");
                let a = arg_seq(a, &mut out.unclosed_arg)?;
                out.args.push(a);
            }
            Rule::tail => {
                out.tail_pos = p.as_span().start();
                for t in p.into_inner() {
                    match t.as_rule() {
                        Rule::fail_kw => out.fail = true,
                        Rule::close => out.end = TailEnd::Closed,
                        Rule::unclosed => out.end = TailEnd::EndOfString,
                        Rule::junk => {
                            out.end = TailEnd::Junk;
                            out.tail_pos = t.as_span().start();
                        }
                        r => unreachable!("tail {r:?}"),
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn arg_seq(pair: Pair<Rule>, unclosed: &mut bool) -> Result<Seq> {
    let mut inner = pair.into_inner();
    let text = text_seq(inner.next().expect("arg text"))?;
    if inner.next().map(|p| p.as_rule()) == Some(Rule::unclosed) {
        *unclosed = true;
    }
    Ok(text)
}

fn check_end(item: &str, args: &Args) -> Result<()> {
    if args.unclosed_arg {
        return failed(format!("missing '}}' after '{item}'"));
    }
    match args.end {
        TailEnd::Closed => Ok(()),
        _ => failed(format!("missing '}}' after '{item}'")),
    }
}

/// map, reduce and sort have their own texts for a missing or extra
/// argument.
fn check_list_item_args(item: &str, args: &Args) -> Result<()> {
    let want = if item == "map" { 2 } else { 3 };
    let n = args.args.len();
    // The string ended inside the last argument read: the body's error
    // is inside the item (not for sort, which names no item).
    if args.unclosed_arg {
        let e = ExpandError::Failed("missing } at end of string".into());
        return Err(if n == want && item != "sort" { e.inside(item) } else { e });
    }
    if n < want {
        return match (item, n) {
            ("sort", 2) => failed("missing '{' for extractor arg of sort"),
            ("sort", 1) => failed("missing '{' for comparator arg of sort"),
            (_, 0) => failed(format!("missing '{{' for first arg of {item}")),
            ("reduce", 1) => failed("missing '{' for second arg of reduce"),
            _ => failed(format!("missing '{{' for last arg of {item}")),
        };
    }
    if n > want || args.end != TailEnd::Closed || args.unclosed_arg {
        return failed(format!("missing }} at end of \"{item}\""));
    }
    Ok(())
}

fn check_count(item: &str, n: usize, min: usize, max: usize) -> Result<()> {
    if n < min {
        return failed(format!("Not enough arguments for '{item}' (min is {min})"));
    }
    if n > max {
        return failed(format!("Too many arguments for '{item}' (max is {max})"));
    }
    Ok(())
}

/// Exim's process_yesno rules for the strings after an item's `fixed`
/// arguments: `{yes}`, `{yes}{no}` or `{yes}fail`, then "}".
fn check_yes_no(item: &str, input: &str, args: &Args, fixed: usize) -> Result<()> {
    let extra = args.args.len().saturating_sub(fixed);
    let curly = |what: &str, pos: usize| {
        failed(format!(
            "curly-bracket problem in conditional yes/no parsing: {what}\n remaining string is '{}'",
            &input[pos.min(input.len())..]
        ))
    };
    if extra > 2 {
        return curly("did not close with '}'", args.starts[fixed + 2]);
    }
    match args.end {
        TailEnd::Closed if !args.unclosed_arg => Ok(()),
        _ if args.unclosed_arg => failed("missing } at end of string"),
        _ if extra == 0 && !args.fail => curly("'yes' part did not start with '{'", args.tail_pos),
        _ if extra == 1 && !args.fail => failed(format!("syntax error in \"{item}\" item - \"fail\" expected")),
        _ => curly("did not close with '}'", args.tail_pos),
    }
}

/// The yes/no strings Exim reads (and evaluates or skips) before it finds
/// that they are malformed; a `fail` is acted on only after that check.
fn read_before_error(mut rest: Vec<Seq>) -> Branches {
    rest.truncate(2);
    branches(rest, false)
}

fn branches(mut rest: Vec<Seq>, fail: bool) -> Branches {
    let mut it = rest.drain(..);
    let yes = it.next();
    let no = it.next();
    Branches { yes, no, fail }
}

fn if_item(pair: Pair<Rule>) -> Result<Node> {
    let input = pair.get_input();
    let mut inner = pair.into_inner();
    let cond = condition(inner.next().expect("condition"))?;
    let args = collect_args(inner)?;
    if let Err(e) = check_yes_no("if", input, &args, 0) {
        return broken(Item::If { cond, branches: read_before_error(args.args) }, e);
    }
    let fail = args.fail;
    Ok(Node::Item(Box::new(Item::If { cond, branches: branches(args.args, fail) })))
}

fn lookup_item(pair: Pair<Rule>) -> Result<Node> {
    let input = pair.get_input();
    let mut key = None;
    let mut search_type = String::new();
    let mut rest = Vec::new();
    let mut unclosed = false;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::arg if search_type.is_empty() => key = Some(arg_seq(p, &mut unclosed)?),
            Rule::lookup_type => search_type = p.as_str().to_string(),
            _ => rest.push(p),
        }
    }
    // Exim checks the lookup type while reading, even in a branch that is
    // not taken.
    crate::lookups::LookupSpec::parse(&search_type).map_err(|e| ExpandError::Failed(e.to_string()))?;
    let mut args = collect_args(rest.into_iter())?;
    args.unclosed_arg |= unclosed;
    if args.args.is_empty() {
        return failed("missing or misplaced { or }");
    }
    if let Err(e) = check_yes_no("lookup", input, &args, 1) {
        let query = args.args.remove(0);
        return broken(Item::Lookup { key, search_type, query, branches: read_before_error(args.args) }, e);
    }
    let query = args.args.remove(0);
    let fail = args.fail;
    Ok(Node::Item(Box::new(Item::Lookup { key, search_type, query, branches: branches(args.args, fail) })))
}

fn extract_item(pair: Pair<Rule>) -> Result<Node> {
    let input = pair.get_input();
    let mut json = None;
    let mut rest = Vec::new();
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::extract_json => {
                json = Some(if p.as_str() == "jsons" { JsonMode::Jsons } else { JsonMode::Json })
            }
            _ => rest.push(p),
        }
    }
    let args = collect_args(rest.into_iter())?;
    match check_extract(input, &args, json.is_some()) {
        Ok(()) => Ok(Node::Item(Box::new(Item::Extract { json, args: args.args, fail: args.fail }))),
        Err(e) if SKIP_READ.with(|d| d.get()) == 0 => Err(e),
        // Skipping, Exim cannot tell the numbered form from the named one
        // (the first string is not evaluated): it reads up to five
        // strings, an optional "fail" and the "}".
        Err(e) => {
            if args.unclosed_arg {
                failed("missing } at end of string")
            } else if args.args.len() > 5 || args.end != TailEnd::Closed {
                failed("missing '}' closing extract")
            } else {
                Ok(Node::Item(Box::new(Item::Invalid(e))))
            }
        }
    }
}

/// What Exim checks when it reads an extract item to evaluate it.
fn check_extract(input: &str, args: &Args, json: bool) -> Result<()> {
    if args.args.len() < 2 {
        return failed(format!("missing '{{' for arg {} of extract", args.args.len() + 1));
    }
    // Exim decides between the numbered and the named form by whether the
    // first argument is a number; a literal one is known now.
    let numbered = match args.args[0].as_slice() {
        [Node::Lit(s)] => !json && s.trim().parse::<i64>().is_ok(),
        [] => return failed("first argument of \"extract\" must not be empty"),
        _ => !json && args.args.len() >= 3 && args.args.len() != 4,
    };
    check_yes_no("extract", input, args, if numbered { 3 } else { 2 })
}

fn filter_item(pair: Pair<Rule>) -> Result<Node> {
    let mut inner = pair.into_inner().peekable();
    let mut unclosed = false;
    let list = arg_seq(inner.next().expect("list"), &mut unclosed).map_err(|e| e.inside("filter"))?;
    let cond = skip_reading(|| condition(inner.next().expect("condition"))).map_err(|e| e.inside("filter"))?;
    if inner.peek().map(|p| p.as_rule()) == Some(Rule::junk) {
        return failed("missing } at end of condition inside \"filter\" item");
    }
    let args = collect_args(inner)?;
    check_end("filter", &args)?;
    Ok(Node::Item(Box::new(Item::Filter { list, cond })))
}

fn run_item(pair: Pair<Rule>) -> Result<Node> {
    let input = pair.get_input();
    let mut options = String::new();
    let mut rest = Vec::new();
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::item_options => options = p.as_str()[1..].to_string(),
            _ => rest.push(p),
        }
    }
    let mut args = collect_args(rest.into_iter())?;
    if args.args.is_empty() {
        return failed("missing or misplaced { or }");
    }
    check_yes_no("run", input, &args, 1)?;
    let command = args.args.remove(0);
    let fail = args.fail;
    Ok(Node::Item(Box::new(Item::Run { options, command, branches: branches(args.args, fail) })))
}

fn generic_item(pair: Pair<Rule>) -> Result<Node> {
    let input = pair.get_input();
    let mut inner = pair.into_inner().peekable();
    let name = inner.next().expect("item name").as_str();
    let def = items::find(name).expect("grammar names only known items");
    let mut options = String::new();
    if let Some(p) = inner.peek() {
        if p.as_rule() == Rule::item_options {
            options = p.as_str()[1..].to_string();
            inner.next();
        }
    }
    // Exim reads the bodies of the list-processing items once skipping,
    // and reports errors from them as being inside the item (sort does
    // not).
    let list_item = matches!(def.id, ItemId::Map | ItemId::Reduce | ItemId::Sort);
    let body = match def.id {
        ItemId::Map => 1,
        ItemId::Reduce | ItemId::Sort => 2,
        _ => usize::MAX,
    };
    let inside = matches!(def.id, ItemId::Map | ItemId::Reduce).then_some(def.name);
    let args = collect_args_skipping(inner, body, inside)?;
    if list_item {
        check_list_item_args(def.name, &args)?;
    }
    if def.id == ItemId::Prvscheck {
        // Exim reads the address first, then the other one or two.
        check_count(def.name, args.args.len().saturating_sub(1), 1, 2)?;
    }
    check_count(def.name, args.args.len(), def.min_args, usize::MAX)?;
    match def.id {
        ItemId::Env => check_yes_no(def.name, input, &args, 1)?,
        ItemId::Listextract => check_yes_no(def.name, input, &args, 2)?,
        ItemId::Certextract => check_yes_no(def.name, input, &args, 2)?,
        _ => {
            check_count(def.name, args.args.len(), def.min_args, def.max_args)?;
            check_end(def.name, &args)?;
            if args.fail {
                return failed(format!("missing '}}' after '{}'", def.name));
            }
        }
    }
    Ok(Node::Item(Box::new(Item::Generic { id: def.id, options, args: args.args, fail: args.fail })))
}

// ---- conditions ----

fn condition(pair: Pair<Rule>) -> Result<Cond> {
    let mut negations = 0;
    let mut body = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::negation => negations += 1,
            _ => body = Some(p),
        }
    }
    let mut cond = cond_body(body.expect("condition body"))?;
    for _ in 0..negations {
        cond = Cond::Not(Box::new(cond));
    }
    Ok(cond)
}

fn cond_body(pair: Pair<Rule>) -> Result<Cond> {
    let input = pair.get_input();
    let end = pair.as_span().end();
    match pair.as_rule() {
        Rule::cond_combine => {
            let mut inner = pair.into_inner();
            let name = inner.next().expect("and/or").as_str();
            let context = format!("{name}{{...}}");
            let mut subs = Vec::new();
            let mut opened = false;
            let mut closed = false;
            let mut after_sub = false;
            for p in inner {
                match p.as_rule() {
                    Rule::open_brace => opened = true,
                    Rule::condition => {
                        subs.push(condition(p).map_err(|e| e.inside_condition(&context))?);
                        after_sub = true;
                        continue;
                    }
                    Rule::close_arg if after_sub => after_sub = false,
                    Rule::close_arg => closed = true,
                    // Something other than "}" right after a subcondition.
                    _ if after_sub => {
                        return failed(format!("missing }} at end of condition inside \"{name}\" group"));
                    }
                    _ => {
                        return failed(format!(
                            "each subcondition inside an \"{context}\" condition must be in its own {{}}"
                        ))
                    }
                }
            }
            if !opened {
                return failed(format!("missing {{ after \"{name}\""));
            }
            if !closed {
                return failed(format!("missing }} at end of condition inside \"{context}\" condition"));
            }
            Ok(if name == "and" { Cond::And(subs) } else { Cond::Or(subs) })
        }
        Rule::cond_loop => {
            let mut inner = pair.into_inner();
            let name = inner.next().expect("loop name").as_str();
            let mut unclosed = false;
            let Some(list) = inner.next() else {
                return failed(format!("missing {{ after \"{name}\""));
            };
            let list = arg_seq(list, &mut unclosed)?;
            let Some(cond) = inner.next() else {
                return failed(format!("missing {{ after \"{name}\""));
            };
            let cond = condition(cond).map_err(|e| e.inside_condition(name))?;
            if inner.next().map(|p| p.as_rule()) != Some(Rule::close_arg) {
                return failed(format!("missing }} at end of condition inside \"{name}\""));
            }
            let kind = if name.starts_with("forall") { LoopKind::All } else { LoopKind::Any };
            let json = if name.ends_with("_jsons") {
                Some(JsonMode::Jsons)
            } else if name.ends_with("_json") {
                Some(JsonMode::Json)
            } else {
                None
            };
            Ok(Cond::Loop { kind, json, list, cond: Box::new(cond) })
        }
        Rule::cond_def => {
            let text = pair.as_str();
            let Some(target) = pair.into_inner().next() else {
                return if text.ends_with(':') {
                    failed("variable name omitted after \"def:\"")
                } else {
                    failed("\":\" expected after \"def\"")
                };
            };
            match target.as_rule() {
                Rule::header_ref => Ok(Cond::Def(DefTarget::Header(header_ref(target)))),
                _ => {
                    let name = target.as_str();
                    match variables::resolve(name) {
                        Some(v) => Ok(Cond::Def(DefTarget::Var(v))),
                        None => failed(format!("unknown variable \"{name}\" after \"def:\"")),
                    }
                }
            }
        }
        Rule::cond_acl => {
            let mut inner = pair.into_inner();
            let name = inner.next().expect("acl name").as_str();
            let args = collect_args(inner)?;
            if name == "saslauthd" {
                return failed("support for saslauthd is not available");
            }
            if args.args.is_empty() || args.end != TailEnd::Closed {
                return failed(format!("too few arguments or bracketing error for {name}"));
            }
            Ok(Cond::Acl(args.args))
        }
        Rule::cond_args => {
            let inner = pair.into_inner().next().expect("condition");
            match inner.as_rule() {
                Rule::cond0 => {
                    let (id, _) = conditions::find(inner.as_str()).expect("known condition");
                    Ok(Cond::Simple { id, args: Vec::new() })
                }
                Rule::cond1 | Rule::cond2 => {
                    let mut parts = inner.into_inner();
                    let name = parts.next().expect("condition name").as_str();
                    let (id, want) = conditions::find(name).expect("known condition");
                    let args = collect_args(parts)?;
                    if args.unclosed_arg {
                        return failed("missing } at end of string");
                    }
                    if args.args.is_empty() {
                        return failed(format!("missing {{ after \"{name}\""));
                    }
                    if args.args.len() < want {
                        return failed(format!("missing 2nd string in {{}} after \"{name}\""));
                    }
                    Ok(Cond::Simple { id, args: args.args })
                }
                Rule::cond_unknown => {
                    let name = inner.as_str();
                    // A name starts with a letter; Exim shows 16 bytes of
                    // what it found instead.
                    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                        let rest = &input[inner.as_span().start().min(end)..];
                        let mut cut = rest.len().min(16);
                        while !rest.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        failed(format!("condition name expected, but found \"{}\"", &rest[..cut]))
                    } else {
                        failed(format!("unknown condition \"{name}\""))
                    }
                }
                r => unreachable!("condition {r:?}"),
            }
        }
        r => unreachable!("condition body {r:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_shortcut_agrees_with_the_grammar() {
        for s in ["", "plain", " a { b } c ", "}}{{", "caf\u{e9} \u{2603}", "fail", "a\nb\tc"] {
            assert_eq!(format!("{:?}", parse(s)), format!("{:?}", parse_tree(s)), "{s:?}");
        }
    }
}
