//! The real resolver: the C library's res_query(), like Exim.

use super::message::parse_answers;
use super::{DnsResult, DnsType, Resolver};
use std::ffi::CString;

// glibc 2.34 and later have res_query() in libc itself; libresolv's
// __res_query is only a compatibility symbol that cannot be linked to.
extern "C" {
    fn res_query(dname: *const libc::c_char, class: libc::c_int, rtype: libc::c_int, answer: *mut u8, anslen: libc::c_int) -> libc::c_int;
    fn __h_errno_location() -> *mut libc::c_int;
    fn gethostbyaddr_r(
        addr: *const libc::c_void,
        len: libc::socklen_t,
        family: libc::c_int,
        ret: *mut libc::hostent,
        buf: *mut libc::c_char,
        buflen: libc::size_t,
        result: *mut *mut libc::hostent,
        h_errnop: *mut libc::c_int,
    ) -> libc::c_int;
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
    /// gethostbyaddr(), as Exim's host_name_lookup_byaddr() calls it: the
    /// name and its aliases (/etc/hosts, then what nsswitch.conf says).
    fn names_by_address(&self, ip: std::net::IpAddr) -> Option<Result<Vec<String>, i32>> {
        let (bytes, family): (Vec<u8>, libc::c_int) = match ip {
            std::net::IpAddr::V4(a) => (a.octets().to_vec(), libc::AF_INET),
            std::net::IpAddr::V6(a) => (a.octets().to_vec(), libc::AF_INET6),
        };
        let mut buf = vec![0 as libc::c_char; 8192];
        // SAFETY: an all-zero hostent is a valid value to be overwritten.
        let mut host: libc::hostent = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::hostent = std::ptr::null_mut();
        let mut herr: libc::c_int = 0;
        // SAFETY: every pointer is valid for the lengths given; the result
        // points into `host` and `buf`, read before they go.
        unsafe {
            gethostbyaddr_r(bytes.as_ptr().cast(), bytes.len() as libc::socklen_t, family, &mut host, buf.as_mut_ptr(), buf.len(), &mut result, &mut herr);
        }
        if result.is_null() {
            return Some(Err(herr));
        }
        let text = |p: *const libc::c_char| {
            // SAFETY: hostent strings are NUL-terminated, inside `buf`.
            unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
        };
        let mut names = Vec::new();
        if !host.h_name.is_null() {
            names.push(text(host.h_name));
        }
        let mut alias = host.h_aliases;
        // SAFETY: h_aliases is a NULL-terminated array inside `buf`.
        while !alias.is_null() && unsafe { !(*alias).is_null() } {
            names.push(text(unsafe { *alias }));
            alias = unsafe { alias.add(1) };
        }
        Some(Ok(names))
    }

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
