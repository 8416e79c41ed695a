//! RFC 2822 address extraction for `${address:}`, `${domain:}`,
//! `${local_part:}`, `${addresses:}` and `${quote_local_part:}`.

pub struct Extracted {
    pub address: String,
    at: Option<usize>,
}

impl Extracted {
    pub fn domain(&self) -> &str {
        self.at.map(|i| &self.address[i + 1..]).unwrap_or("")
    }

    pub fn local_part(&self) -> &str {
        self.at.map(|i| &self.address[..i]).unwrap_or(&self.address)
    }
}

fn strip_comments(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut in_quote = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            if depth == 0 {
                out.push(c);
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                in_quote = !in_quote;
                out.push(c);
            }
            '(' if !in_quote => depth += 1,
            ')' if !in_quote && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Extract the address from one RFC 2822 mailbox (`Name <a@b>` or `a@b`).
pub fn extract(s: &str) -> Option<Extracted> {
    // Most addresses have no comment to strip: no copy for them.
    let s: std::borrow::Cow<'_, str> = if s.contains('(') { strip_comments(s).into() } else { s.into() };
    // An `@` outside quotes cannot be part of the phrase before `<`: Exim
    // reads what has one as an address, after which the `<` is an error.
    if let Some(l) = s.find('<') {
        if s[..l].split('"').step_by(2).any(|unquoted| unquoted.contains('@')) {
            return None;
        }
    }
    let inner = match (s.find('<'), s.rfind('>')) {
        (Some(l), Some(r)) if l < r => &s[l + 1..r],
        (None, None) => &s[..],
        _ => return None,
    };
    let inner = inner.trim();
    // A source route (@a,@b:user@dom) is dropped.
    let inner = match inner.starts_with('@') {
        true => inner.split_once(':').map(|(_, a)| a).unwrap_or(inner),
        false => inner,
    };
    if inner.is_empty() {
        return Some(Extracted { address: String::new(), at: None });
    }
    let at = inner.rfind('@');
    let (local, domain) = match at {
        Some(i) => (&inner[..i], Some(&inner[i + 1..])),
        None => (inner, None),
    };
    if local.chars().any(|c| c.is_whitespace()) && !local.contains('"') {
        return None;
    }
    // The local part keeps its quotes, as Exim returns it.
    let local = local.trim();
    if domain.is_some_and(|d| d.trim().is_empty()) || local.is_empty() {
        return None;
    }
    // Built in one allocation of the right size.
    let address = match domain {
        Some(d) => {
            let d = d.trim();
            let mut a = String::with_capacity(local.len() + 1 + d.len());
            a.push_str(local);
            a.push('@');
            a.push_str(d);
            a
        }
        None => local.to_string(),
    };
    let at = domain.map(|_| local.len());
    Some(Extracted { address, at })
}

/// `${addresses:...}`: the addresses of a header-style list, joined by `:`
/// (or by the character after a leading `>`).
pub fn addresses(s: &str) -> Result<String, super::error::ExpandError> {
    if s == ">" {
        return Err(super::error::ExpandError::Failed("output separator missing in expanding ${addresses:>}".into()));
    }
    Ok(addresses_joined(s))
}

fn addresses_joined(s: &str) -> String {
    let (sep, body) = match s.strip_prefix('>') {
        Some(rest) if !rest.is_empty() => (rest.chars().next().unwrap_or(':'), &rest[1..]),
        _ => (':', s),
    };
    let mut out: Vec<String> = Vec::new();
    for part in split_top_level_commas(body) {
        let part = strip_group_syntax(&part);
        if part.trim().is_empty() {
            continue;
        }
        if let Some(a) = extract(&part) {
            if !a.address.is_empty() {
                out.push(a.address);
            }
        }
    }
    super::lists::join_items(&out, sep)
}

/// RFC 2822 groups: "name: a@b, c@d;" lists its members as addresses.
fn strip_group_syntax(part: &str) -> String {
    let mut s = part.trim().to_string();
    let mut in_quote = false;
    let mut angle = 0;
    let mut colon = None;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            '<' if !in_quote => angle += 1,
            '>' if !in_quote && angle > 0 => angle -= 1,
            ':' if !in_quote && angle == 0 => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    if let Some(i) = colon {
        s = s[i + 1..].to_string();
    }
    let trimmed = s.trim_end();
    trimmed.strip_suffix(';').unwrap_or(trimmed).to_string()
}

fn split_top_level_commas(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let (mut in_quote, mut angle, mut paren) = (false, 0, 0);
    for c in s.chars() {
        match c {
            '"' => in_quote = !in_quote,
            '<' if !in_quote => angle += 1,
            '>' if !in_quote && angle > 0 => angle -= 1,
            '(' if !in_quote => paren += 1,
            ')' if !in_quote && paren > 0 => paren -= 1,
            ',' if !in_quote && angle == 0 && paren == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts
}

/// RFC 2822 quoting of a local part when it is not a dot-atom.
pub fn quote_local_part(s: &str) -> String {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    // Exim quotes for characters outside atext and for a dot at either end.
    let dot_atom =
        !s.is_empty() && !s.starts_with('.') && !s.ends_with('.') && s.chars().all(|c| atext(c) || c == '.');
    if dot_atom {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
