//! The spool in Exim 4.96's layout: `input/<id>-H` (envelope and
//! headers), `input/<id>-D` (body), `msglog/<id>`; message ids; the queue
//! listing (`-bp`) and removal (`-Mrm`).

pub mod message_id;
pub mod queue;
pub mod write;
pub mod writer;

pub use message_id::{IdGenerator, MESSAGE_ID_LENGTH};
pub use write::{write_message, SpoolError, SpoolMessage};
pub use writer::SpoolWriter;

/// Free space (in K) and free inodes of the file system holding the
/// spool, as Exim's receive_check_fs() reads them; None if it cannot be
/// examined (the spool directory does not exist yet).
pub fn free_space(spool_directory: &str) -> Option<(u64, u64)> {
    let path = std::ffi::CString::new(spool_directory).ok()?;
    // SAFETY: statvfs is plain data, for which all zero bytes are valid.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: path is NUL-terminated and st is a writable statvfs.
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let space_k = (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) / 1024;
    Some((space_k, st.f_favail as u64))
}
