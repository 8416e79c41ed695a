//! The `ratelimit` ACL condition (spec "Rate limiting incoming messages")
//! and the `seen` condition, over the hints database.
//!
//! The rate is Exim's exponentially weighted moving average with the
//! smoothing period p: after an interval i, with a = exp(-i/p),
//! rate = (1 - a) * count / (i/p) + a * previous rate, and a rate below
//! the count is raised to the count (an isolated event counts as one per
//! period). The first time a key is seen its rate is the count. The
//! condition is true when rate >= limit.

mod options;
mod record;
#[cfg(test)]
mod shared_tests;

pub use options::{Mode, Options, Per};
pub use record::Record;

use crate::acl::{Rc, Where};
use crate::acl::eval::{trace, Interp};
use crate::hintsdb::HintsError;

/// The database name in spool/db.
pub const DB_NAME: &str = "ratelimit";

/// Apply one event to a record (or create it): Exim's update rule.
pub fn smooth(prev: Option<&Record>, now: f64, period: f64, count: f64) -> Record {
    match prev {
        None => Record { time: now, rate: count, unique: Vec::new(), unique_epoch: now },
        Some(p) => {
            let interval = if now - p.time <= 0.0 { 1e-9 } else { now - p.time };
            let i_over_p = interval / period;
            let a = (-i_over_p).exp();
            let mut rate = (1.0 - a) * count / i_over_p + a * p.rate;
            if rate < count {
                rate = count;
            }
            Record { time: now, rate, unique: p.unique.clone(), unique_epoch: p.unique_epoch }
        }
    }
}

pub(crate) fn acl_condition(it: &mut Interp, arg: &str, log: &mut Option<String>) -> Rc {
    let (per_addr, per_byte, per_rcpt) = (arg.contains("per_addr"), arg.contains("per_byte"), arg.contains("per_rcpt"));
    // Options depend on the text and the ACL (and, for per_addr,
    // per_byte and per_rcpt outside RCPT, on the message).
    let cacheable = !(per_addr || per_byte || (per_rcpt && it.place != Where::Rcpt));
    let cached = if cacheable { it.state.rate_options.get(arg).filter(|o| o.place == it.place).cloned() } else { None };
    let o = match cached {
        Some(o) => o,
        None => {
            let defaults = Defaults {
                place: it.place,
                host: it.env.variable("sender_host_address").unwrap_or_default(),
                size: if per_byte { it.env.variable("message_size").and_then(|s| s.parse().ok()).unwrap_or(0.0) } else { 0.0 },
                rcpt_count: if it.place != Where::Rcpt && per_rcpt { it.env.variable("recipients_count").and_then(|s| s.parse().ok()).unwrap_or(0.0) } else { 0.0 },
                rcpt: if per_addr { format!("{}@{}", it.recipient_part(true), it.recipient_part(false)) } else { String::new() },
            };
            match options::parse(arg, &defaults) {
                Ok(o) => {
                    let o = std::sync::Arc::new(o);
                    if it.state.rate_options.len() > 1000 {
                        it.state.rate_options.clear();
                    }
                    it.state.rate_options.insert(arg.to_string(), o.clone());
                    o
                }
                Err(m) => {
                    *log = Some(format!("error in arguments to \"ratelimit\" condition: {m}"));
                    return Rc::Error;
                }
            }
        }
    };
    it.state.sender_rate_limit = Some(o.limit_text.clone());
    it.state.sender_rate_period = Some(o.period_text.clone());
    trace!(it, "ratelimit condition count={} {:.1}/{}", fmt_g(o.count), o.limit, o.db_key);

    // Rates already computed for this connection, message or command.
    let cache = match o.per {
        Per::Conn => Some(&mut it.state.rate_conn),
        Per::Mail | Per::Byte => Some(&mut it.state.rate_mail),
        Per::Cmd => None,
        Per::Rcpt | Per::Addr => if it.place == Where::Rcpt { Some(&mut it.state.rate_cmd) } else { Some(&mut it.state.rate_mail) },
    };
    if o.unique.is_none() {
        if let Some(rate) = cache.and_then(|c| c.get(&o.db_key).copied()) {
            trace!(it, "ratelimit found pre-computed rate {rate:.1}");
            it.state.sender_rate = Some(rate);
            return if rate < o.limit { Rc::Fail } else { Rc::Ok };
        }
    }

    let now = it.env.now();
    // The trace's lines, made only when it is on.
    let mut trace = it.tracing.then(Vec::new);
    let mut rate = 0.0;
    let result = match it.env.hints() {
        None => Err(HintsError("failed to open ratelimit database".into())),
        Some(db) => db.update(DB_NAME, &o.db_key, &mut |old| {
            let prev = old.and_then(Record::decode);
            let (rec, update) = decide(prev.as_ref(), now, &o, trace.as_mut());
            rate = rec.rate;
            if update {
                Some(rec.encode())
            } else {
                None
            }
        }),
    };
    for t in trace.unwrap_or_default() {
        it.debug(&t);
    }
    if let Err(e) = result {
        *log = Some(e.0);
        return Rc::Defer;
    }
    let cache = match o.per {
        Per::Conn => Some(&mut it.state.rate_conn),
        Per::Mail | Per::Byte => Some(&mut it.state.rate_mail),
        Per::Cmd => None,
        Per::Rcpt | Per::Addr => if it.place == Where::Rcpt { Some(&mut it.state.rate_cmd) } else { Some(&mut it.state.rate_mail) },
    };
    if let Some(c) = cache {
        c.insert(o.db_key.clone(), rate);
    }
    trace!(it, "ratelimit computed rate {rate:.1}");
    it.state.sender_rate = Some(rate);
    if rate < o.limit {
        Rc::Fail
    } else {
        Rc::Ok
    }
}

/// The new record and whether to store it (leaky: only under the limit;
/// strict: always; readonly: never).
fn decide(prev: Option<&Record>, now: f64, o: &Options, mut trace: Option<&mut Vec<String>>) -> (Record, bool) {
    let mut note = |line: &dyn Fn() -> String| {
        if let Some(t) = trace.as_mut() {
            t.push(line());
        }
    };
    let mut count = o.count;
    let mut prev = prev.cloned();
    if prev.is_none() {
        note(&|| if o.unique.is_some() { "ratelimit creating new Bloom filter".into() } else { "ratelimit creating new rate data block".into() });
    } else {
        note(&|| "ratelimit found key in database".into());
    }
    if let Some(u) = &o.unique {
        // The set of unique values is thrown away once older than the
        // period, so each event counts once per period.
        if let Some(p) = prev.as_mut() {
            if now - p.unique_epoch > o.period {
                p.unique.clear();
                p.unique_epoch = now;
            }
        }
        if o.mode != Mode::Readonly {
            note(&|| format!("ratelimit checking uniqueness of {u}"));
            let seen = prev.as_ref().is_some_and(|p| p.unique.iter().any(|x| x == u));
            note(&|| if seen { "ratelimit event found in Bloom filter".into() } else { "ratelimit event added to Bloom filter".into() });
            if seen {
                count = 0.0;
            }
        } else {
            count = 0.0;
        }
    }
    if prev.is_none() {
        note(&|| "ratelimit initializing new key's rate data".into());
    }
    let mut rec = if o.mode == Mode::Readonly {
        match &prev {
            Some(p) => p.clone(),
            None => smooth(None, now, o.period, count),
        }
    } else {
        smooth(prev.as_ref(), now, o.period, count)
    };
    let over = rec.rate >= o.limit;
    let update = match o.mode {
        Mode::Readonly => {
            note(&|| "ratelimit db not updated: readonly mode".into());
            false
        }
        Mode::Strict => true,
        Mode::Leaky if over => {
            note(&|| "ratelimit db not updated: over the limit, but leaky".into());
            false
        }
        Mode::Leaky => true,
    };
    if update {
        if let Some(u) = &o.unique {
            if count > 0.0 {
                rec.unique.push(u.clone());
            }
        }
        note(&|| "ratelimit db updated".into());
    }
    (rec, update)
}

/// The count as Exim's trace prints it: rounded to an integer, halves
/// to even (2.5 gives "2", as recorded).
fn fmt_g(x: f64) -> String {
    format!("{}", x.round_ties_even() as i64)
}

pub(crate) struct Defaults {
    pub place: Where,
    pub host: String,
    pub size: f64,
    pub rcpt_count: f64,
    /// `$local_part@$domain`, the unique value of `per_addr`.
    pub rcpt: String,
}

/// `seen = [-]time / options / key`: true when the key was seen within
/// the time (or, with a leading `-`, not within it). Options: `before=`
/// is the default, `readonly`, `write`, `refresh=`. The default key is
/// the client's IP address.
pub(crate) fn seen_condition(it: &mut Interp, arg: &str, log: &mut Option<String>) -> Rc {
    let mut parts = arg.split('/').map(str::trim);
    let interval_text = parts.next().unwrap_or("");
    let (before, t) = match interval_text.strip_prefix('-') {
        Some(r) => (false, r),
        None => (true, interval_text),
    };
    let Some(interval) = crate::expand::readconf_readtime(t) else {
        *log = Some(format!("failed to parse interval \"{interval_text}\" in \"seen\" condition"));
        return Rc::Error;
    };
    let mut key = it.env.variable("sender_host_address").unwrap_or_default();
    let mut update = true;
    let mut refresh: Option<i64> = None;
    for p in parts {
        match p {
            "readonly" => update = false,
            "write" => update = true,
            _ if p.starts_with("refresh=") => refresh = crate::expand::readconf_readtime(&p[8..]),
            _ if p.starts_with("key=") => key = p[4..].to_string(),
            _ => key = p.to_string(),
        }
    }
    let now = it.env.now();
    let mut last: Option<f64> = None;
    let mut existed = false;
    let mut written = false;
    let result = match it.env.hints() {
        None => Err(HintsError("failed to open seen database".into())),
        Some(db) => db.update("seen", &key, &mut |old| {
            existed = old.is_some();
            last = old.and_then(|b| std::str::from_utf8(b).ok()?.trim().parse::<f64>().ok());
            let stale = refresh.is_none_or(|r| last.is_none_or(|l| now - l >= r as f64));
            written = update && stale;
            written.then(|| format!("{now}").into_bytes())
        }),
    };
    if let Err(e) = result {
        *log = Some(e.0);
        return Rc::Defer;
    }
    if !update {
        it.debug("seen db not written (readonly)");
    } else if written {
        it.debug(if existed { "seen db written (update)" } else { "seen db written (create)" });
    }
    let within = last.is_some_and(|l| now - l < interval as f64);
    if within == before {
        Rc::Ok
    } else {
        Rc::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_event_is_the_count_and_bursts_add_up() {
        let r = smooth(None, 100.0, 3600.0, 1.0);
        assert_eq!(r.rate, 1.0);
        let r2 = smooth(Some(&r), 100.001, 3600.0, 1.0);
        assert!((r2.rate - 2.0).abs() < 0.01, "{}", r2.rate);
        // After many periods the rate decays to the count floor.
        let r3 = smooth(Some(&r2), 100.0 + 36000.0, 3600.0, 1.0);
        assert_eq!(r3.rate, 1.0);
        // Half a period later: a = e^-0.5.
        let r4 = smooth(Some(&r2), 100.001 + 1800.0, 3600.0, 1.0);
        let a = (-0.5f64).exp();
        assert!((r4.rate - ((1.0 - a) * 1.0 / 0.5 + a * r2.rate)).abs() < 1e-9);
    }
}
