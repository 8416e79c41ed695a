//! The `crypteq` condition: `{md5}`, `{sha1}`, `{crypt}` and friends.

use base64::Engine as _;
use md5::Digest as _;

use super::error::ExpandError;

pub fn crypteq(plain: &str, hashed: &str) -> Result<bool, ExpandError> {
    let lower = hashed.to_ascii_lowercase();
    if lower.starts_with("{md5}") {
        return Ok(digest_matches(&md5::Md5::digest(plain.as_bytes()), &hashed[5..]));
    }
    if lower.starts_with("{sha1}") {
        return Ok(digest_matches(&sha1::Sha1::digest(plain.as_bytes()), &hashed[6..]));
    }
    let stored = if lower.starts_with("{crypt}") {
        &hashed[7..]
    } else if lower.starts_with("{crypt16}") {
        &hashed[9..]
    } else if hashed.starts_with('{') {
        return Err(ExpandError::Failed(format!("unknown encryption mechanism in \"{hashed}\"")));
    } else {
        hashed
    };
    Ok(system_crypt(plain, stored).is_some_and(|c| c == stored))
}

/// Hex (case-insensitive) or base64 forms of a digest, as Exim accepts.
fn digest_matches(digest: &[u8], given: &str) -> bool {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if given.len() == hex.len() {
        return given.eq_ignore_ascii_case(&hex);
    }
    base64::engine::general_purpose::STANDARD.encode(digest) == given
}

#[link(name = "crypt")]
extern "C" {
    fn crypt(key: *const libc::c_char, salt: *const libc::c_char) -> *mut libc::c_char;
}

fn system_crypt(plain: &str, salt: &str) -> Option<String> {
    let key = std::ffi::CString::new(plain).ok()?;
    let salt = std::ffi::CString::new(salt).ok()?;
    // SAFETY: crypt() returns a pointer to a static buffer or NULL; we copy
    // it at once. rexim calls it from one thread at a time per process.
    unsafe {
        let r = crypt(key.as_ptr(), salt.as_ptr());
        if r.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr(r).to_string_lossy().into_owned())
    }
}
