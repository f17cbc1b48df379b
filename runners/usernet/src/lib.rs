//! Rootless user-mode networking for a unikernel's network device, as QEMU's `-netdev user`
//! gives a virtio guest: the guest gets one end of an `AF_UNIX` `SOCK_SEQPACKET` socketpair
//! (one Ethernet frame per read or write, like a tap), and a thread of the calling process
//! serves the other end with libslirp.
//!
//! The guest's network is 10.0.2.0/24 (and fec0::/64): DHCP gives it 10.0.2.15, the gateway
//! 10.0.2.2 NATs TCP and UDP through ordinary host sockets (and reaches the host's own
//! loopback), 10.0.2.3 answers DNS with the host's resolver. [`publish::Forward`]s open host
//! ports that lead to the guest. Nothing needs root, a capability or a tap.
//!
//! The network runs in the process that starts the runner, never inside the guest's
//! sandbox: the guest reaches the host only through its end of the socketpair.

pub mod publish;
mod slirp;

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

pub use publish::{Forward, Proto};

/// The guest network, as QEMU's user networking sets it up.
pub const NETWORK: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 0);
/// Its prefix length.
pub const PREFIX_LEN: u8 = 24;
/// The gateway: the host (its loopback included).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// The DNS server the guest is given.
pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
/// The guest's address (the first and only one DHCP hands out; forwards lead there).
pub const GUEST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
/// The MTU of the guest's link.
pub const MTU: u16 = 1500;

/// A running user-mode network: the guest's end of the socketpair. The network serves the
/// other end until the guest's end is closed in every process that holds it.
#[derive(Debug)]
pub struct UserNet {
    /// The guest's end (close-on-exec: give it to a child with [`UserNet::inheritable`]).
    pub guest: OwnedFd,
    /// The libslirp version serving it.
    pub backend: String,
}

impl UserNet {
    /// Starts a network with `forwards` into the guest. Fails (with one line) when libslirp
    /// cannot be loaded or a forward's host port cannot be bound; nothing runs then.
    pub fn start(forwards: &[Forward]) -> Result<UserNet, String> {
        let (guest, host) = socketpair().map_err(|e| format!("socketpair: {e}"))?;
        let backend = slirp::spawn(host, forwards.to_vec())?;
        Ok(UserNet { guest, backend })
    }

    /// Clears close-on-exec on the guest's end, so that a child started afterwards inherits
    /// it, and returns its number (the child's `@FD`).
    pub fn inheritable(&self) -> Result<i32, String> {
        let fd = self.guest.as_raw_fd();
        // SAFETY: F_SETFD on a descriptor we own only changes its flags.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } < 0 {
            return Err(format!("fcntl: {}", io::Error::last_os_error()));
        }
        Ok(fd)
    }

    /// Makes `cmd`'s process end (SIGKILL) when this process does: the network lives here,
    /// so a guest that outlived it would be cut off from the world.
    pub fn end_with_this_process(cmd: &mut Command) {
        // SAFETY: the closure runs between fork and exec and only calls prctl, which is
        // async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    /// What the network is, in one line for `petrel run -v`.
    pub fn describe(&self, forwards: &[Forward]) -> String {
        let mut line = format!(
            "user-mode network ({}): {NETWORK}/{PREFIX_LEN}, guest {GUEST} by DHCP, gateway {GATEWAY} (the host), DNS {DNS}, IPv6 fec0::/64",
            self.backend
        );
        for f in forwards {
            line.push_str(&format!("; {f}"));
        }
        line
    }
}

/// A non-blocking, close-on-exec `SOCK_SEQPACKET` pair: each write is one record (one
/// frame) and the reader sees the end of the stream when the other side is closed.
fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: socketpair writes two descriptors into `fds`, which lives for the call.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
