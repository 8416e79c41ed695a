//! The compiled form of an expansion string.

use super::conditions::CondId;
use super::items::ItemId;
use super::operators::Op;
use super::variables::VarRef;

/// A sequence of pieces whose results are concatenated.
pub type Seq = Vec<Node>;

#[derive(Debug, Clone)]
pub enum Node {
    Lit(String),
    Var(VarRef),
    Header(HeaderRef),
    Op { op: Op, arg: Seq },
    Item(Box<Item>),
}

/// Which form of a message header is wanted (`$h_`, `$rh_`, `$bh_`, `$lh_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    Decoded,
    Raw,
    Basic,
    List,
}

#[derive(Debug, Clone)]
pub struct HeaderRef {
    pub kind: HeaderKind,
    pub name: String,
}

/// The optional yes/no strings of a conditional item, and `fail`.
#[derive(Debug, Clone, Default)]
pub struct Branches {
    pub yes: Option<Seq>,
    pub no: Option<Seq>,
    /// `fail` given in place of the "no" string.
    pub fail: bool,
}

#[derive(Debug, Clone)]
pub enum Item {
    If { cond: Cond, branches: Branches },
    Lookup { key: Option<Seq>, search_type: String, query: Seq, branches: Branches },
    Extract { json: Option<JsonMode>, args: Vec<Seq>, fail: bool },
    Filter { list: Seq, cond: Cond },
    Run { options: String, command: Seq, branches: Branches },
    Generic { id: ItemId, options: String, args: Vec<Seq>, fail: bool },
    /// Only in a string that failed to compile, read again to find what
    /// Exim evaluates before it meets the error (`parse::parse_to_error`):
    /// `first` (an item without its yes/no strings) is evaluated, then
    /// `error` is the result.
    Broken { first: Box<Item>, error: super::error::ExpandError },
    /// An item that Exim accepts when it reads it skipping (the body of a
    /// `${map}`, `${filter}`, `${reduce}` or `${sort}`, read once before
    /// the first list item) but rejects when it evaluates it: the error
    /// comes only if the item is evaluated.
    Invalid(super::error::ExpandError),
}

/// Whether a sequence has a `${run}` anywhere: Exim sets `$runrc` to 0
/// for each one it skips.
pub fn has_run(seq: &Seq) -> bool {
    seq.iter().any(|n| match n {
        Node::Op { arg, .. } => has_run(arg),
        Node::Item(item) => item.has_run(),
        Node::Lit(_) | Node::Var(_) | Node::Header(_) => false,
    })
}

/// The first `Broken` item in a sequence, in the order Exim reads it.
pub fn first_broken(seq: &Seq) -> Option<&super::error::ExpandError> {
    seq.iter().find_map(|n| match n {
        Node::Op { arg, .. } => first_broken(arg),
        Node::Item(item) => item.first_broken(),
        Node::Lit(_) | Node::Var(_) | Node::Header(_) => None,
    })
}

impl Item {
    fn has_run(&self) -> bool {
        let in_branches = |b: &Branches| b.yes.as_ref().is_some_and(has_run) || b.no.as_ref().is_some_and(has_run);
        match self {
            Item::Run { .. } => true,
            Item::Broken { first, .. } => first.has_run(),
            Item::Invalid(_) => false,
            Item::If { cond, branches } => cond.has_run() || in_branches(branches),
            Item::Lookup { key, query, branches, .. } => {
                key.as_ref().is_some_and(has_run) || has_run(query) || in_branches(branches)
            }
            Item::Filter { list, cond } => has_run(list) || cond.has_run(),
            Item::Extract { args, .. } | Item::Generic { args, .. } => args.iter().any(has_run),
        }
    }

    fn first_broken(&self) -> Option<&super::error::ExpandError> {
        fn in_branches(b: &Branches) -> Option<&super::error::ExpandError> {
            b.yes.as_ref().and_then(first_broken).or_else(|| b.no.as_ref().and_then(first_broken))
        }
        match self {
            Item::Broken { error, .. } => Some(error),
            // Read skipping, it is not an error.
            Item::Invalid(_) => None,
            Item::If { cond, branches } => cond.first_broken().or_else(|| in_branches(branches)),
            Item::Lookup { key, query, branches, .. } => {
                key.as_ref().and_then(first_broken).or_else(|| first_broken(query)).or_else(|| in_branches(branches))
            }
            Item::Run { command, branches, .. } => first_broken(command).or_else(|| in_branches(branches)),
            Item::Filter { list, cond } => first_broken(list).or_else(|| cond.first_broken()),
            Item::Extract { args, .. } | Item::Generic { args, .. } => args.iter().find_map(first_broken),
        }
    }
}

impl Cond {
    pub fn has_run(&self) -> bool {
        match self {
            Cond::Not(c) => c.has_run(),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().any(Cond::has_run),
            Cond::Loop { list, cond, .. } => has_run(list) || cond.has_run(),
            Cond::Def(_) => false,
            Cond::Acl(args) | Cond::Simple { args, .. } => args.iter().any(has_run),
        }
    }

    fn first_broken(&self) -> Option<&super::error::ExpandError> {
        match self {
            Cond::Not(c) => c.first_broken(),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().find_map(Cond::first_broken),
            Cond::Loop { list, cond, .. } => first_broken(list).or_else(|| cond.first_broken()),
            Cond::Def(_) => None,
            Cond::Acl(args) | Cond::Simple { args, .. } => args.iter().find_map(first_broken),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonMode {
    /// `json`: values are returned as JSON text.
    Json,
    /// `jsons`: string values have their quotes removed.
    Jsons,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopKind {
    All,
    Any,
}

#[derive(Debug, Clone)]
pub enum Cond {
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Loop { kind: LoopKind, json: Option<JsonMode>, list: Seq, cond: Box<Cond> },
    Def(DefTarget),
    Acl(Vec<Seq>),
    Simple { id: CondId, args: Vec<Seq> },
}

#[derive(Debug, Clone)]
pub enum DefTarget {
    Var(VarRef),
    Header(HeaderRef),
}
