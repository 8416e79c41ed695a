//! `ratelimit = m / p / options / key` parsing, with Exim's texts
//! (after "error in arguments to \"ratelimit\" condition: ").

use super::Defaults;
use crate::acl::Where;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Conn,
    Mail,
    Byte,
    Rcpt,
    Addr,
    Cmd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Leaky,
    Strict,
    Readonly,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub limit: f64,
    /// As written: `$sender_rate_limit`.
    pub limit_text: String,
    pub period: f64,
    pub period_text: String,
    pub per: Per,
    pub mode: Mode,
    pub count: f64,
    pub unique: Option<String>,
    /// "period/per_x/[unique/]key", Exim's database key.
    pub db_key: String,
    /// The ACL the options were read for (the mode depends on it).
    pub place: Where,
}

fn per_name(p: Per) -> &'static str {
    match p {
        Per::Conn => "per_conn",
        Per::Mail | Per::Byte => "per_mail",
        Per::Rcpt => "per_rcpt",
        // per_addr is per_rcpt with unique=$local_part@$domain.
        Per::Addr => "per_rcpt",
        Per::Cmd => "per_cmd",
    }
}

/// Where each measure makes sense; elsewhere the mode is readonly and the
/// count zero (spec "Ratelimit update modes").
fn per_allowed(p: Per, place: Where) -> bool {
    use Where::*;
    match p {
        Per::Conn => !matches!(place, NotSmtp | NotSmtpMime | NotSmtpStart),
        Per::Mail | Per::Byte => matches!(place, Mail | Rcpt | Predata | Mime | Data | NotSmtp | Dkim | Prdr | Expansion),
        Per::Rcpt => matches!(place, Rcpt | Predata | Mime | Data | Dkim | Prdr | Expansion),
        Per::Addr => matches!(place, Rcpt | Expansion),
        Per::Cmd => true,
    }
}

fn positive(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1024.0),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 1024.0 * 1024.0),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 1024.0 * 1024.0 * 1024.0),
        _ => (s, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    (v >= 0.0 && v.is_finite()).then_some(v * mult)
}

pub(crate) fn parse(arg: &str, d: &Defaults) -> Result<Options, String> {
    let mut items = arg.split('/').map(str::trim);
    let limit_s = items.next().unwrap_or("");
    let limit = positive(limit_s).ok_or_else(|| format!("\"{limit_s}\" is not a positive number"))?;
    let period_text = items.next().ok_or_else(|| "\"NULL\" is not a time value".to_string())?.to_string();
    let period = crate::expand::readconf_readtime(&period_text).filter(|p| *p > 0).ok_or_else(|| format!("\"{period_text}\" is not a time value"))? as f64;
    let mut per = None;
    let mut mode = None;
    let mut count = None;
    let mut unique = None;
    let mut key: Option<String> = None;
    for it in items {
        let set_per = |per: &mut Option<Per>, p: Per| -> Result<(), String> {
            if per.is_some() {
                return Err("conflicting per_* options".into());
            }
            *per = Some(p);
            Ok(())
        };
        let set_mode = |mode: &mut Option<Mode>, m: Mode| -> Result<(), String> {
            if mode.is_some() {
                return Err("conflicting update modes".into());
            }
            *mode = Some(m);
            Ok(())
        };
        match it {
            "per_conn" => set_per(&mut per, Per::Conn)?,
            "per_mail" => set_per(&mut per, Per::Mail)?,
            "per_byte" => set_per(&mut per, Per::Byte)?,
            "per_rcpt" => set_per(&mut per, Per::Rcpt)?,
            "per_addr" => set_per(&mut per, Per::Addr)?,
            "per_cmd" => set_per(&mut per, Per::Cmd)?,
            "leaky" => set_mode(&mut mode, Mode::Leaky)?,
            "strict" => set_mode(&mut mode, Mode::Strict)?,
            "readonly" | "noupdate" => set_mode(&mut mode, Mode::Readonly)?,
            _ if it.starts_with("count=") => count = Some(positive(&it[6..]).ok_or_else(|| format!("\"{it}\" is not a positive number"))?),
            _ if it.starts_with("unique=") => unique = Some(it[7..].to_string()),
            _ => {
                key = Some(match key {
                    Some(k) => format!("{k}/{it}"),
                    None => it.to_string(),
                })
            }
        }
    }
    let per = per.unwrap_or(Per::Mail);
    if per == Per::Addr && unique.is_none() {
        unique = Some(d.rcpt.clone());
    }
    let allowed = per_allowed(per, d.place);
    if !allowed && matches!(mode, Some(Mode::Leaky | Mode::Strict)) {
        return Err(format!("\"{}\" cannot be used with {} in this ACL", if mode == Some(Mode::Leaky) { "leaky" } else { "strict" }, per_name(per)));
    }
    let mode = if allowed { mode.unwrap_or(Mode::Leaky) } else { Mode::Readonly };
    let default_count = match per {
        Per::Byte => d.size,
        Per::Rcpt if d.place != Where::Rcpt => d.rcpt_count,
        _ => 1.0,
    };
    let count = if mode == Mode::Readonly { 0.0 } else { count.unwrap_or(default_count) };
    let key = key.unwrap_or_else(|| d.host.clone());
    let db_key = format!("{period_text}/{}/{}{key}", per_name(per), if unique.is_some() { "unique/" } else { "" });
    Ok(Options { limit, limit_text: limit_s.to_string(), place: d.place, period, period_text, per, mode, count, unique, db_key })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(place: Where) -> Defaults {
        Defaults { place, host: "10.1.2.3".into(), size: 0.0, rcpt_count: 0.0, rcpt: "a@b".into() }
    }

    #[test]
    fn exims_errors() {
        assert_eq!(parse("x / 1h", &d(Where::Connect)).unwrap_err(), "\"x\" is not a positive number");
        assert_eq!(parse("10 / 1x", &d(Where::Connect)).unwrap_err(), "\"1x\" is not a time value");
        assert_eq!(parse("10", &d(Where::Connect)).unwrap_err(), "\"NULL\" is not a time value");
        assert_eq!(parse("10 / 1h / leaky / strict", &d(Where::Connect)).unwrap_err(), "conflicting update modes");
        assert_eq!(parse("10 / 1h / per_conn / per_mail", &d(Where::Connect)).unwrap_err(), "conflicting per_* options");
        assert_eq!(parse("10 / 1h / count=x", &d(Where::Connect)).unwrap_err(), "\"count=x\" is not a positive number");
    }

    #[test]
    fn keys_and_modes() {
        let o = parse("10 / 1h / foo / bar", &d(Where::Connect)).unwrap();
        assert_eq!(o.db_key, "1h/per_mail/foo/bar");
        let o = parse("10 / 1h / per_rcpt", &d(Where::Connect)).unwrap();
        assert_eq!((o.mode, o.count), (Mode::Readonly, 0.0));
        let o = parse("10k / 1h / per_byte", &d(Where::Connect)).unwrap();
        assert_eq!(o.limit, 10240.0);
        let o = parse("10 / 1h / unique=a / readonly", &d(Where::Connect)).unwrap();
        assert_eq!(o.db_key, "1h/per_mail/unique/10.1.2.3");
        let o = parse("3 / 5s / per_conn / strict", &d(Where::Connect)).unwrap();
        assert_eq!((o.per, o.mode, o.db_key.as_str()), (Per::Conn, Mode::Strict, "5s/per_conn/10.1.2.3"));
    }
}
