//! Isolation: the runner moves itself into a private network namespace
//! whose only interface is loopback, before it starts anything. The binary
//! under test (real Exim resolves test domains with the system's resolver
//! and may try to deliver to what they resolve to) then cannot send a
//! packet to any address but 127.0.0.0/8, and DNS fails at once.

use std::io;

/// Enter a new network namespace and bring its loopback interface up,
/// with `host_ipv4` (HOSTIPV4, a 127/8 address) as an interface address
/// of its own: as on Exim's test machines, the host's address is one of
/// its interfaces (`@[]`, MX records pointing to the local host).
pub fn isolate(host_ipv4: Option<std::net::Ipv4Addr>) -> io::Result<()> {
    // SAFETY: unshare(2) affects only this process (and its future
    // children); it is called before any thread is started.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    loopback_up()?;
    match host_ipv4 {
        Some(a) if a.is_loopback() && a != std::net::Ipv4Addr::LOCALHOST => loopback_alias(a),
        _ => Ok(()),
    }
}

/// Add `addr` to loopback as the alias `lo:1`.
fn loopback_alias(addr: std::net::Ipv4Addr) -> io::Result<()> {
    // SAFETY: as in loopback_up: a datagram socket for one ioctl with a
    // zeroed ifreq holding the name and an AF_INET address.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo:1\0".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let sin = &mut *(&mut req.ifr_ifru.ifru_addr as *mut libc::sockaddr as *mut libc::sockaddr_in);
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from(addr).to_be();
        let result = if libc::ioctl(fd, libc::SIOCSIFADDR, &req) != 0 { Err(io::Error::last_os_error()) } else { Ok(()) };
        libc::close(fd);
        result
    }
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
