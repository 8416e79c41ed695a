//! User-visible texts that are not tied to a single layer's error type.

/// The C library's text for an I/O error, as Exim's strerror() gives it.
pub fn errno_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        // SAFETY: strerror returns a pointer to a static, NUL-terminated string.
        Some(code) => unsafe { std::ffi::CStr::from_ptr(libc::strerror(code)) }
            .to_string_lossy()
            .into_owned(),
        None => e.to_string(),
    }
}

/// The Exim release whose behaviour rexim reproduces.
pub const EXIM_VERSION: &str = "4.96";

pub const COMPILE_DATE: &str = "01-Jan-2026 00:00:00";

pub const NO_MODE: &str = "Exim is a Mail Transfer Agent. It is normally called by Mail User Agents,\n\
not directly from a shell command line. Options and/or arguments control\n\
what it does when called. For a list of options, see the Exim documentation.";

pub const HELP: &str = "\
rexim: an Exim-compatible mail server core (Exim 4.96 behaviour)

usage: rexim [options] [arguments]     (also callable as 'exim')

Testing:
  -be [string...]      expand strings (from arguments, or lines on stdin)
  -bem FILE            expand with the message in FILE loaded
  -bh IP / -bhc IP     fake an SMTP session from IP on stdin, running ACLs
  -bV                  version, build features and configuration check
  -bP [names]          print configuration options
  -bt / -bv ADDR       test / verify addresses
Serving:
  -bd / -bdf           run the SMTP daemon (-bdf: in the foreground)
  -bs                  SMTP on standard input and output
  -oX PORTS            daemon ports; -oP FILE: pid file
Queue:
  -bp                  list the queue; -M... act on messages; -q... run it
Common:
  -C FILE              configuration file; -DNAME=VALUE: define a macro
  -d[+-selectors]      debugging output
  -f ADDR, -t, -i, -odi, -odq   message submission options
";

/// The default of `headers_charset` (a build-time setting in Exim).
pub const HEADERS_CHARSET: &str = "UTF-8";
