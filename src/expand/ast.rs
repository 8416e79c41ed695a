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
