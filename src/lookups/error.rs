//! The lookup layer's error type. Texts are Exim's.

use std::fmt;

/// Errors that stop a lookup before it runs. A failed lookup is not an
/// error (LookupOutcome::NotFound / Defer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// A bad type specification (search_findtype_partial()).
    Syntax(String),
    /// The file could not be opened (search_open()).
    Open(String),
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::Syntax(m) | LookupError::Open(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LookupError {}

/// The C library's text for an I/O error, as Exim's strerror() gives it.
pub fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        // SAFETY: strerror returns a pointer to a NUL-terminated string that
        // stays valid until the next call in this thread; we copy it at once.
        Some(code) => unsafe { std::ffi::CStr::from_ptr(libc::strerror(code)) }.to_string_lossy().into_owned(),
        None => e.to_string(),
    }
}
