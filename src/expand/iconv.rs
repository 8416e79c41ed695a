//! Character set conversion with the C library's iconv, as Exim does for
//! RFC 2047 encoded words.

use std::ffi::CString;

/// Convert `input` from charset `from` to charset `to`; the error is
/// Exim's text for a conversion that cannot be set up.
pub fn convert(input: &[u8], from: &str, to: &str) -> Result<Vec<u8>, String> {
    let (Ok(cto), Ok(cfrom)) = (CString::new(to), CString::new(from)) else {
        return Err(format!("iconv_open(\"{to}\", \"{from}\") failed"));
    };
    // SAFETY: both names are NUL-terminated; the descriptor is closed below.
    let cd = unsafe { libc::iconv_open(cto.as_ptr(), cfrom.as_ptr()) };
    if cd as isize == -1 {
        let e = std::io::Error::last_os_error();
        return Err(format!(
            "iconv_open(\"{to}\", \"{from}\") failed: {} (maybe unsupported conversion)",
            crate::texts::errno_text(&e)
        ));
    }
    let mut out = Vec::with_capacity(input.len() * 2 + 16);
    let mut inbuf = input.to_vec();
    let mut in_ptr = inbuf.as_mut_ptr() as *mut libc::c_char;
    let mut in_left = inbuf.len();
    let mut chunk = vec![0u8; 4096];
    while in_left > 0 {
        let mut out_ptr = chunk.as_mut_ptr() as *mut libc::c_char;
        let mut out_left = chunk.len();
        // SAFETY: the pointers and lengths describe buffers we own.
        let r = unsafe { libc::iconv(cd, &mut in_ptr, &mut in_left, &mut out_ptr, &mut out_left) };
        out.extend_from_slice(&chunk[..chunk.len() - out_left]);
        if r == usize::MAX {
            let errno = std::io::Error::last_os_error().raw_os_error();
            if errno == Some(libc::E2BIG) {
                continue;
            }
            // An invalid byte: keep it as it is and go on, as Exim does.
            // SAFETY: in_left > 0 here, so in_ptr points into inbuf.
            unsafe {
                out.push(*in_ptr as u8);
                in_ptr = in_ptr.add(1);
            }
            in_left -= 1;
        }
    }
    // SAFETY: cd came from iconv_open.
    unsafe { libc::iconv_close(cd) };
    Ok(out)
}
