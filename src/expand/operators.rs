//! Expansion operators: `${name:string}` and `${name_N_M:string}`
//! (spec section "Expansion operators").

use super::error::ExpandError;
use super::{address, arith, encode, ipaddr, lists, punycode, strings};
use crate::bytes::to_bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Address,
    Addresses,
    Base32,
    Base32d,
    Base62,
    Base62d,
    Base64,
    Base64d,
    Domain,
    Escape,
    Escape8bit,
    Eval,
    Eval10,
    Expand,
    FromUtf8,
    Hash,
    Hex2b64,
    Hexquote,
    Ipv6denorm,
    Ipv6norm,
    Lc,
    Length,
    Listcount,
    Listnamed,
    LocalPart,
    Mask,
    MaskNormalised,
    Md5,
    Nhash,
    Quote,
    QuoteLocalPart,
    QuoteLookup,
    Randint,
    ReverseIp,
    Rfc2047,
    Rfc2047d,
    Rxquote,
    Sha1,
    Sha2,
    Sha3,
    Stat,
    Str2b64,
    Strlen,
    Substr,
    TimeEval,
    TimeInterval,
    Uc,
    Utf8clean,
    Utf8DomainFromAlabel,
    Utf8DomainToAlabel,
    Utf8LocalpartFromAlabel,
    Utf8LocalpartToAlabel,
}

/// Operators whose names contain an underscore but take no parameter.
static OPS_UNDERSCORE: &[(&str, OpKind)] = &[
    ("from_utf8", OpKind::FromUtf8),
    ("local_part", OpKind::LocalPart),
    ("mask_n", OpKind::MaskNormalised),
    ("quote_local_part", OpKind::QuoteLocalPart),
    ("reverse_ip", OpKind::ReverseIp),
    ("time_eval", OpKind::TimeEval),
    ("time_interval", OpKind::TimeInterval),
    ("utf8_domain_from_alabel", OpKind::Utf8DomainFromAlabel),
    ("utf8_domain_to_alabel", OpKind::Utf8DomainToAlabel),
    ("utf8_localpart_from_alabel", OpKind::Utf8LocalpartFromAlabel),
    ("utf8_localpart_to_alabel", OpKind::Utf8LocalpartToAlabel),
];

/// The main table; names here may carry `_N[_M]` parameters.
static OPS_MAIN: &[(&str, OpKind)] = &[
    ("address", OpKind::Address),
    ("addresses", OpKind::Addresses),
    ("base32", OpKind::Base32),
    ("base32d", OpKind::Base32d),
    ("base62", OpKind::Base62),
    ("base62d", OpKind::Base62d),
    ("base64", OpKind::Base64),
    ("base64d", OpKind::Base64d),
    ("domain", OpKind::Domain),
    ("escape", OpKind::Escape),
    ("escape8bit", OpKind::Escape8bit),
    ("eval", OpKind::Eval),
    ("eval10", OpKind::Eval10),
    ("expand", OpKind::Expand),
    ("h", OpKind::Hash),
    ("hash", OpKind::Hash),
    ("hex2b64", OpKind::Hex2b64),
    ("hexquote", OpKind::Hexquote),
    ("ipv6denorm", OpKind::Ipv6denorm),
    ("ipv6norm", OpKind::Ipv6norm),
    ("l", OpKind::Length),
    ("lc", OpKind::Lc),
    ("length", OpKind::Length),
    ("listcount", OpKind::Listcount),
    ("listnamed", OpKind::Listnamed),
    ("mask", OpKind::Mask),
    ("md5", OpKind::Md5),
    ("nh", OpKind::Nhash),
    ("nhash", OpKind::Nhash),
    ("quote", OpKind::Quote),
    ("randint", OpKind::Randint),
    ("rfc2047", OpKind::Rfc2047),
    ("rfc2047d", OpKind::Rfc2047d),
    ("rxquote", OpKind::Rxquote),
    ("s", OpKind::Substr),
    ("sha1", OpKind::Sha1),
    ("sha2", OpKind::Sha2),
    ("sha256", OpKind::Sha2),
    ("sha3", OpKind::Sha3),
    ("stat", OpKind::Stat),
    ("str2b64", OpKind::Str2b64),
    ("strlen", OpKind::Strlen),
    ("substr", OpKind::Substr),
    ("uc", OpKind::Uc),
    ("utf8clean", OpKind::Utf8clean),
];

/// A resolved operator with the parameters its name carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    /// The text after the first underscore (`3_4` in `hash_3_4`,
    /// `lsearch` in `quote_lsearch`), if any.
    pub param: Option<Box<str>>,
    pub name: Box<str>,
    /// The numeric parameters (`_N_M`), read once here rather than at
    /// every evaluation.
    numbers: (Option<i64>, Option<i64>),
}

/// Operators whose result is computed rather than copied from their
/// argument give untainted results.
pub fn keeps_taint(kind: OpKind) -> bool {
    !matches!(
        kind,
        OpKind::Md5
            | OpKind::Sha1
            | OpKind::Sha2
            | OpKind::Sha3
            | OpKind::Strlen
            | OpKind::Listcount
            | OpKind::Eval
            | OpKind::Eval10
            | OpKind::TimeEval
            | OpKind::TimeInterval
            | OpKind::Randint
            | OpKind::Nhash
    )
}

fn find(table: &[(&str, OpKind)], name: &str) -> Option<OpKind> {
    table.binary_search_by(|(n, _)| n.cmp(&name)).ok().map(|i| table[i].1)
}

impl Op {
    pub fn parse(name: &str) -> Result<Op, ExpandError> {
        let shown = &name[..name.len().min(255)];
        let unknown = || ExpandError::Failed(format!("unknown expansion operator \"{shown}\""));
        if let Some(kind) = find(OPS_UNDERSCORE, name).or_else(|| find(OPS_MAIN, name)) {
            return Ok(Op { kind, param: None, name: name.into(), numbers: (None, None) });
        }
        let (base, param) = name.split_once('_').ok_or_else(unknown)?;
        let kind = match base {
            "quote" => OpKind::QuoteLookup,
            _ => find(OPS_MAIN, base).ok_or_else(unknown)?,
        };
        let numeric = matches!(
            kind,
            OpKind::Hash | OpKind::Length | OpKind::Nhash | OpKind::Substr
        );
        if numeric {
            // Exim allows a sign on each number: substr_-3_2.
            // Only substr takes signed offsets (substr_-3_2).
            let signed = kind == OpKind::Substr;
            let ok = param.split('_').all(|n| {
                let n = if signed { n.strip_prefix('-').unwrap_or(n) } else { n };
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
            });
            if !ok {
                return Err(ExpandError::Failed(format!("non-digit after underscore in \"{name}\"")));
            }
        } else if !matches!(kind, OpKind::Sha1 | OpKind::Sha2 | OpKind::Sha3 | OpKind::QuoteLookup | OpKind::Listnamed) {
            return Err(unknown());
        }
        Ok(Op { kind, param: Some(param.into()), name: name.into(), numbers: numbers(param) })
    }
}

/// The numeric parameters (`_N_M`), `None` where absent.
fn numbers(param: &str) -> (Option<i64>, Option<i64>) {
    let mut it = param.split('_').filter(|s| !s.is_empty()).map(|s| s.parse::<i64>().unwrap_or(i64::MAX));
    (it.next(), it.next())
}

/// What an operator needs from its surroundings.
pub trait OpEnv {
    /// A named list's kind letter and its text, if it exists.
    fn named_list(&self, kind: Option<char>, name: &str) -> Option<(char, String)>;
    fn expand(&mut self, s: &str) -> Result<String, ExpandError>;
    fn headers_charset(&self) -> String;
    /// The print_topbitchars option: bytes above 0x7f count as printing.
    fn print_topbitchars(&self) -> bool;
}

fn fail<T>(msg: impl Into<String>) -> Result<T, ExpandError> {
    Err(ExpandError::Failed(msg.into()))
}

pub fn apply(op: &Op, mut sub: String, env: &mut dyn OpEnv) -> Result<String, ExpandError> {
    let (n, m) = op.numbers;
    Ok(match op.kind {
        OpKind::Lc => {
            sub.make_ascii_lowercase();
            sub
        }
        OpKind::Uc => {
            sub.make_ascii_uppercase();
            sub
        }
        OpKind::Length => match n {
            Some(n) if n >= 0 => strings::extract_substr(&sub, 0, n),
            _ => return fail(format!("missing values after {}", op.name)),
        },
        OpKind::Substr => match n {
            Some(start) => strings::extract_substr(&sub, start, m.unwrap_or(-1)),
            None => return fail(format!("missing values after {}", op.name)),
        },
        OpKind::Hash => match n {
            Some(n) => strings::compute_hash(&sub, n, m.unwrap_or(-1))?,
            None => return fail(format!("missing values after {}", op.name)),
        },
        OpKind::Nhash => match n {
            Some(n) => strings::compute_nhash(&sub, n, m.unwrap_or(-1))?,
            None => return fail(format!("missing values after {}", op.name)),
        },
        OpKind::Strlen => to_bytes(&sub).len().to_string(),
        OpKind::Listcount => crate::lists::list_count(&sub, crate::lists::ListSep::Changeable(b':')).to_string(),
        OpKind::Listnamed => listnamed(op.param.as_deref(), &sub, env)?,
        OpKind::Md5 => encode::md5_hex(&to_bytes(&sub)),
        OpKind::Sha1 => encode::sha1_hex(&to_bytes(&sub)),
        OpKind::Sha2 => encode::sha2_hex(op.param.as_deref(), &to_bytes(&sub))?,
        OpKind::Sha3 => encode::sha3_hex(op.param.as_deref(), &to_bytes(&sub))?,
        OpKind::Base64 | OpKind::Str2b64 => encode::base64(&to_bytes(&sub)),
        OpKind::Base64d => encode::base64d(&sub)?,
        OpKind::Hex2b64 => encode::hex2b64(&sub)?,
        OpKind::Base32 => encode::base32(&sub)?,
        OpKind::Base32d => encode::base32d(&sub)?,
        OpKind::Base62 => encode::base62(&sub)?,
        OpKind::Base62d => encode::base62d(&sub)?,
        OpKind::Escape => strings::string_printing(&sub, true, env.print_topbitchars()),
        OpKind::Escape8bit => strings::escape8bit(&sub),
        OpKind::Hexquote => strings::hexquote(&sub),
        OpKind::Quote => strings::quote(&sub),
        OpKind::QuoteLocalPart => address::quote_local_part(&sub),
        OpKind::QuoteLookup => quote_lookup(op.param.as_deref().unwrap_or(""), &sub)?,
        OpKind::Rxquote => strings::rxquote(&sub),
        OpKind::FromUtf8 => strings::from_utf8(&sub),
        OpKind::Utf8clean => strings::utf8clean(&sub),
        OpKind::Expand => env.expand(&sub).map_err(|e| match e {
            ExpandError::Failed(m) => ExpandError::Failed(format!("internal expansion of \"{sub}\" failed: {m}")),
            forced => forced,
        })?,
        OpKind::Eval => arith::eval_expr(&sub, false)?,
        OpKind::Eval10 => arith::eval_expr(&sub, true)?,
        OpKind::TimeEval => match arith::readconf_readtime(&sub) {
            Some(t) => t.to_string(),
            None => return fail(format!("string \"{sub}\" is not an Exim time interval in \"time_eval\" operator")),
        },
        OpKind::TimeInterval => match strings::parse_decimal(&sub) {
            // Exim keeps the number in a C int.
            Some(t) => arith::readconf_printtime(i64::from(t as i32)),
            None => return fail(format!("string \"{sub}\" is not a positive number in \"time_interval\" operator")),
        },
        OpKind::Address => address::extract(&sub).map(|a| a.address).unwrap_or_default(),
        OpKind::Domain => address::extract(&sub).map(|a| a.domain().to_string()).unwrap_or_default(),
        OpKind::LocalPart => address::extract(&sub).map(|a| a.local_part().to_string()).unwrap_or_default(),
        OpKind::Addresses => address::addresses(&sub)?,
        OpKind::Mask => ipaddr::mask(&sub, false)?,
        OpKind::MaskNormalised => ipaddr::mask(&sub, true)?,
        OpKind::Ipv6norm => ipaddr::ipv6norm(&sub)?,
        OpKind::Ipv6denorm => ipaddr::ipv6denorm(&sub)?,
        OpKind::ReverseIp => ipaddr::reverse_ip(&sub)?,
        OpKind::Randint => strings::randint(&sub)?,
        OpKind::Rfc2047 => encode::rfc2047(&sub, &env.headers_charset()),
        OpKind::Rfc2047d => encode::rfc2047d(&sub, &env.headers_charset())?,
        OpKind::Stat => strings::stat(&sub)?,
        OpKind::Utf8DomainToAlabel => idna_labels(&sub, punycode::to_alabel)?,
        OpKind::Utf8DomainFromAlabel => idna_labels(&sub, punycode::from_alabel)?,
        OpKind::Utf8LocalpartToAlabel => idna_one(&sub, punycode::to_alabel)?,
        OpKind::Utf8LocalpartFromAlabel => idna_one(&sub, punycode::from_alabel)?,
    })
}

/// `${listnamed:name}`: the list with `+name` references replaced by the
/// lists they name, written with ":" separators.
fn listnamed(suffix: Option<&str>, name: &str, env: &dyn OpEnv) -> Result<String, ExpandError> {
    let kind = match suffix {
        None => None,
        Some(s @ ("d" | "h" | "a" | "l")) => s.chars().next(),
        Some(_) => return fail("bad suffix on \"list\" operator"),
    };
    let name = name.strip_prefix('+').unwrap_or(name);
    let Some((k, text)) = env.named_list(kind, name) else {
        let kind_name = match kind {
            Some('d') => "domain ",
            Some('h') => "host ",
            Some('a') => "address ",
            Some('l') => "local part ",
            _ => "",
        };
        if kind.is_some() && env.named_list(None, name).is_some() {
            return fail(format!("\"{name}\" is not a {kind_name}named list"));
        }
        return fail(format!("\"{name}\" is not a named list"));
    };
    let mut out: Vec<String> = Vec::new();
    for item in lists::list_items(&text) {
        match item.strip_prefix('+') {
            Some(sub) if env.named_list(Some(k), sub).is_some() => {
                out.push(listnamed(Some(&k.to_string()), sub, env)?)
            }
            _ => out.push(item.replace(':', "::")),
        }
    }
    Ok(out.join(" : "))
}

/// Convert each label of a domain.
fn idna_labels(s: &str, f: fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    let labels: Option<Vec<String>> = s.split('.').map(f).collect();
    labels.map(|l| l.join(".")).ok_or_else(|| ExpandError::Failed(format!("error in IDNA conversion of \"{s}\"")))
}

fn idna_one(s: &str, f: fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    f(s).ok_or_else(|| ExpandError::Failed(format!("error in IDNA conversion of \"{s}\"")))
}

fn quote_lookup(lookup: &str, s: &str) -> Result<String, ExpandError> {
    match lookup {
        "lsearch" | "wildlsearch" | "nwildlsearch" | "iplsearch" | "dsearch" | "dnsdb" => Ok(s.to_string()),
        "redis" => Ok(strings::quote_redis(s)),
        _ => fail(format!("unknown lookup type \"{lookup}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(OPS_MAIN.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(OPS_UNDERSCORE.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn names() {
        assert_eq!(Op::parse("length_3").unwrap().kind, OpKind::Length);
        assert_eq!(Op::parse("sha3_512").unwrap().kind, OpKind::Sha3);
        assert_eq!(Op::parse("mask_n").unwrap().kind, OpKind::MaskNormalised);
        assert!(matches!(Op::parse("length_x"), Err(ExpandError::Failed(m)) if m == "non-digit after underscore in \"length_x\""));
        assert!(Op::parse("foo").is_err());
    }
}
