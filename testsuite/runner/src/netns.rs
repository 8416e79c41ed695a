//! Isolation: the runner moves itself into a private network namespace
//! whose only interface is loopback, before it starts anything. The binary
//! under test (real Exim resolves test domains with the system's resolver
//! and may try to deliver to what they resolve to) then cannot send a
//! packet to any address but 127.0.0.0/8, and DNS fails at once.

use std::io;

/// Enter a new network namespace and bring its loopback interface up.
pub fn isolate() -> io::Result<()> {
    // SAFETY: unshare(2) affects only this process (and its future
    // children); it is called before any thread is started.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    loopback_up()
}

fn loopback_up() -> io::Result<()> {
    // SAFETY: a datagram socket used only for the interface ioctls below,
    // with a zeroed ifreq naming "lo"; the descriptor is closed on all paths.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo\0".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let result = if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) != 0 {
            Err(io::Error::last_os_error())
        } else {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) != 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        };
        libc::close(fd);
        result
    }
}
