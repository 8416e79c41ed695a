//! The real resolver: the C library's res_query(), like Exim.

use super::message::parse_answers;
use super::{DnsResult, DnsType, Resolver};
use std::ffi::CString;

// glibc 2.34 and later have res_query() in libc itself; libresolv's
// __res_query is only a compatibility symbol that cannot be linked to.
extern "C" {
    fn res_query(dname: *const libc::c_char, class: libc::c_int, rtype: libc::c_int, answer: *mut u8, anslen: libc::c_int) -> libc::c_int;
    fn __h_errno_location() -> *mut libc::c_int;
}

// netdb.h h_errno values.
const HOST_NOT_FOUND: libc::c_int = 1;
const TRY_AGAIN: libc::c_int = 2;
const NO_DATA: libc::c_int = 4;

/// Resolver using the system's configuration (/etc/resolv.conf).
#[derive(Default)]
pub struct SystemResolver;

impl SystemResolver {
    pub fn new() -> Self {
        SystemResolver
    }
}

impl Resolver for SystemResolver {
    fn lookup(&self, name: &str, rtype: DnsType) -> DnsResult {
        let Ok(cname) = CString::new(name) else { return DnsResult::NoMatch };
        let mut buf = vec![0u8; 65535];
        // SAFETY: buf is writable for its full length; cname is NUL-terminated.
        let n = unsafe { res_query(cname.as_ptr(), 1, rtype.code() as libc::c_int, buf.as_mut_ptr(), buf.len() as libc::c_int) };
        if n < 0 {
            // SAFETY: __h_errno_location returns this thread's h_errno.
            return match unsafe { *__h_errno_location() } {
                HOST_NOT_FOUND => DnsResult::NoMatch,
                NO_DATA => DnsResult::NoData,
                TRY_AGAIN => DnsResult::Again,
                _ => DnsResult::Fail,
            };
        }
        buf.truncate(n as usize);
        match parse_answers(&buf) {
            Ok((all, authenticated)) => {
                let records: Vec<_> = all.into_iter().filter(|r| r.data_type() == rtype).collect();
                if records.is_empty() {
                    DnsResult::NoData
                } else {
                    DnsResult::Found { records, authenticated }
                }
            }
            Err(_) => DnsResult::Fail,
        }
    }
}
