//! Sender Rewriting Scheme as Exim 4.96's native SRS: `${srs_encode}` and
//! the `inbound_srs` condition. The hash is the first four hex digits of
//! HMAC-MD5 over the lower-cased return path; the timestamp is the day
//! number modulo 1024 in two base-32 digits.

use super::encode::hmac_hex;
use super::error::ExpandError;

const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// How many days an SRS address stays valid.
const MAX_AGE_DAYS: i64 = 31;

fn today() -> i64 {
    chrono::Utc::now().timestamp() / 86400
}

fn timestamp(day: i64) -> String {
    let d = day.rem_euclid(1024) as usize;
    [BASE32[d >> 5] as char, BASE32[d & 31] as char].iter().collect()
}

fn hash(secret: &str, return_path: &str) -> String {
    let full = hmac_hex("md5", secret.as_bytes(), return_path.to_ascii_lowercase().as_bytes())
        .expect("md5 is a known hmac");
    full[..4].to_string()
}

/// `${srs_encode{secret}{return path}{original domain}}`.
pub fn encode(secret: &str, return_path: &str, domain: &str) -> Result<String, ExpandError> {
    if return_path.is_empty() {
        return Ok(String::new());
    }
    let (local, rp_domain) = match return_path.rsplit_once('@') {
        Some((l, d)) if l.contains('@') => {
            return Err(ExpandError::Failed(format!("malformed address: @{d} may not follow {l}")));
        }
        Some((l, d)) => (l, d),
        None => (return_path, ""),
    };
    Ok(format!(
        "SRS0={}={}={}={}@{}",
        hash(secret, return_path),
        timestamp(today()),
        rp_domain,
        local,
        domain
    ))
}

/// `inbound_srs{local part}{secret}`: the original address if the local
/// part is a valid SRS0 address (an empty secret skips the hash check).
pub fn decode(local_part: &str, secret: &str) -> Option<String> {
    let rest = local_part.strip_prefix("SRS0=")?;
    let mut fields = rest.splitn(4, '=');
    let (h, tt, domain, local) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    let original = format!("{local}@{domain}");
    if !secret.is_empty() && h != hash(secret, &original) {
        return None;
    }
    let b = tt.as_bytes();
    let digit = |c: u8| BASE32.iter().position(|&d| d == c.to_ascii_lowercase()).map(|p| p as i64);
    if b.len() != 2 {
        return None;
    }
    let day = digit(b[0])? * 32 + digit(b[1])?;
    let age = (today().rem_euclid(1024) - day).rem_euclid(1024);
    (age <= MAX_AGE_DAYS).then_some(original)
}
