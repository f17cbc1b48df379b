//! Host side of the devices: block files and tap interfaces, attached to manifest entries
//! and patched into the guest's copy of the manifest (`solo5-abi.md` §1.8, §4.1).

use std::ffi::{CString, OsStr};
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::cli::{NetSource, Options};
use crate::{Error, lossy};
use petrel_solo5_abi::elf::{
    DeviceType, MFT_ENTRY_ATTACHED, MFT_ENTRY_B, MFT_ENTRY_SIZE, MFT_ENTRY_U, MFT_HEADER_SIZE,
    Manifest,
};

/// Default block size (`--block-sector-size` not given).
pub const DEFAULT_BLOCK_SIZE: u64 = 512;

/// What a device is attached to.
#[derive(Debug)]
pub enum Backend {
    /// A block device backed by a file (or host block device).
    Block {
        /// The open file.
        fd: OwnedFd,
        /// Size in bytes: a non-zero multiple of `block_size`.
        capacity: u64,
        /// Bytes per block: a power of two, 512 to 32768.
        block_size: u64,
    },
    /// A network device backed by a tap interface or a frame socket.
    Net {
        /// The tap file descriptor (non-blocking, no packet information header), or the
        /// socket (non-blocking, one frame per record).
        fd: OwnedFd,
        /// The guest's MAC address.
        mac: [u8; 6],
        /// The interface MTU.
        mtu: u16,
    },
}

/// A device attached to a manifest entry.
#[derive(Debug)]
pub struct Attached {
    /// The manifest index (the guest's handle).
    pub index: usize,
    /// What it is attached to.
    pub backend: Backend,
}

impl Attached {
    /// The host file descriptor the guest uses.
    pub fn fd(&self) -> i32 {
        match &self.backend {
            Backend::Block { fd, .. } | Backend::Net { fd, .. } => fd.as_raw_fd(),
        }
    }
}

/// The index of the manifest entry `name` of type `ty`, or the tender's error.
fn lookup(manifest: &Manifest, name: &[u8], ty: DeviceType) -> Result<usize, Error> {
    manifest
        .entries
        .iter()
        .position(|e| e.device_type == ty && e.name == name)
        .ok_or_else(|| {
            Error::new(format!(
                "Resource not declared in manifest: '{}'",
                lossy(name)
            ))
        })
}

/// Checks that every option names a declared device of the right type, once.
/// This comes before anything is opened, as in the tender.
pub fn check_names(manifest: &Manifest, o: &Options) -> Result<(), Error> {
    let mut seen = Vec::new();
    for (name, _) in &o.blocks {
        let i = lookup(manifest, name, DeviceType::Block)?;
        if seen.contains(&i) {
            return Err(Error::new(format!(
                "Device '{}' attached twice",
                lossy(name)
            )));
        }
        seen.push(i);
    }
    for (name, _) in &o.nets {
        let i = lookup(manifest, name, DeviceType::Net)?;
        if seen.contains(&i) {
            return Err(Error::new(format!(
                "Device '{}' attached twice",
                lossy(name)
            )));
        }
        seen.push(i);
    }
    for (name, _) in &o.block_sizes {
        lookup(manifest, name, DeviceType::Block)?;
    }
    for (name, _) in &o.macs {
        lookup(manifest, name, DeviceType::Net)?;
    }
    Ok(())
}

/// Parses and checks a `--block-sector-size` value.
pub fn parse_block_size(v: &OsStr) -> Result<u64, Error> {
    v.to_str()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|n| n.is_power_of_two() && (512..=32768).contains(n))
        .ok_or_else(|| {
            Error::new(format!(
                "--block-sector-size={}: Block size must be a multiple of 2 greater than or equal 512 (and at most 32768)",
                v.to_string_lossy()
            ))
        })
}

/// Opens a block backing file and checks its size against the block size.
pub fn open_block(path: &Path, block_size: u64) -> Result<Backend, Error> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::new(format!("{}: Could not open: {e}", path.display())))?;
    let fd = OwnedFd::from(file);
    // SAFETY: lseek on a descriptor we own; it only moves the file offset.
    let end = unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_END) };
    if end < 0 {
        return Err(Error::new(format!(
            "{}: Could not determine capacity: {}",
            path.display(),
            io::Error::last_os_error()
        )));
    }
    let capacity = end as u64;
    if !capacity.is_multiple_of(block_size) {
        return Err(Error::new(format!(
            "{}: Backing storage size must be block aligned ({capacity} bytes, block size {block_size})",
            path.display()
        )));
    }
    if capacity < block_size {
        return Err(Error::new(format!(
            "{}: Backing storage must be at least 1 block ({block_size} bytes) in size",
            path.display()
        )));
    }
    Ok(Backend::Block {
        fd,
        capacity,
        block_size,
    })
}

/// An `ifreq` with `name` copied in (at most IFNAMSIZ-1 bytes).
fn ifreq(name: &[u8]) -> Option<libc::ifreq> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains(&0) {
        return None;
    }
    // SAFETY: ifreq is plain old data (a name array and a union of integers): all zeros is
    // a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(name) {
        *d = *s as libc::c_char;
    }
    Some(ifr)
}

fn if_mtu(ifr: &libc::ifreq) -> io::Result<u16> {
    // SAFETY: plain socket(2) call; the result is checked and owned right away.
    let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if s < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `s` is a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(s) };
    let mut req = *ifr;
    // SAFETY: SIOCGIFMTU reads the name and writes ifr_mtu inside `req`, which lives for
    // the call.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU, &mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFMTU succeeded, so the union holds ifru_mtu.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    u16::try_from(mtu).map_err(|_| io::Error::other(format!("MTU {mtu} out of range")))
}

fn set_nonblocking(fd: i32) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns; F_GETFL/F_SETFL only change flags.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if fl < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The MTU of a network device backed by a socket (a user-mode network's socketpair).
pub const SOCKET_MTU: u16 = 1500;

/// Whether `fd` is an `AF_UNIX` socket that keeps record boundaries (`SOCK_SEQPACKET` or
/// `SOCK_DGRAM`): one read or write is one Ethernet frame, as on a tap.
fn is_frame_socket(fd: i32) -> bool {
    let get = |opt: libc::c_int| {
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `v`; both live for the call.
        let rc =
            unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&raw mut v).cast(), &mut len) };
        (rc == 0).then_some(v)
    };
    get(libc::SO_DOMAIN) == Some(libc::AF_UNIX)
        && matches!(
            get(libc::SO_TYPE),
            Some(libc::SOCK_SEQPACKET | libc::SOCK_DGRAM)
        )
}

/// Opens an existing tap interface, or takes an open tap descriptor (and reads the MTU), or
/// an open frame socket (a user-mode network's end, MTU [`SOCKET_MTU`]).
pub fn open_net(source: &NetSource, mac: [u8; 6]) -> Result<Backend, Error> {
    let what = match source {
        NetSource::Tap(n) => n.to_string_lossy().into_owned(),
        NetSource::Fd(fd) => format!("@{fd}"),
    };
    let fail = |why: String| Error::new(format!("Could not attach interface: {what}: {why}"));
    let (fd, ifr) = match source {
        NetSource::Tap(name) => {
            let name = name.as_bytes();
            let mut ifr = ifreq(name).ok_or_else(|| fail("invalid interface name".to_string()))?;
            let cname = CString::new(name).map_err(|_| fail("invalid name".to_string()))?;
            // SAFETY: `cname` is a valid NUL-terminated string for the call.
            if unsafe { libc::if_nametoindex(cname.as_ptr()) } == 0 {
                // Refuse to let TUNSETIFF create a new, unconfigured interface.
                return Err(fail("no such interface".to_string()));
            }
            let tun = OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open("/dev/net/tun")
                .map_err(|e| fail(format!("/dev/net/tun: {e}")))?;
            let fd = OwnedFd::from(tun);
            ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
            // SAFETY: TUNSETIFF reads (and may update) `ifr`, which lives for the call.
            let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut ifr) };
            if rc < 0 {
                return Err(fail(format!(
                    "not a tap interface or no permission: {}",
                    io::Error::last_os_error()
                )));
            }
            (fd, ifr)
        }
        NetSource::Fd(raw) => {
            // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor; an invalid `raw` gives
            // EBADF. We own the duplicate; the caller keeps the original.
            let dup = unsafe { libc::fcntl(*raw, libc::F_DUPFD_CLOEXEC, 3) };
            if dup < 0 {
                return Err(fail(io::Error::last_os_error().to_string()));
            }
            // SAFETY: `dup` is a fresh descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(dup) };
            if is_frame_socket(fd.as_raw_fd()) {
                // A user-mode network's socketpair end: frames, one per record, no MTU to
                // ask an interface for.
                set_nonblocking(fd.as_raw_fd()).map_err(|e| fail(e.to_string()))?;
                return Ok(Backend::Net {
                    fd,
                    mac,
                    mtu: SOCKET_MTU,
                });
            }
            // SAFETY: all-zero ifreq is valid (see `ifreq`).
            let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
            // SAFETY: TUNGETIFF writes the name and flags into `ifr`, alive for the call.
            let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNGETIFF, &mut ifr) };
            // SAFETY: after a successful TUNGETIFF the union holds ifru_flags.
            let flags = i32::from(unsafe { ifr.ifr_ifru.ifru_flags });
            if rc < 0 || flags & libc::IFF_TAP == 0 || flags & libc::IFF_NO_PI == 0 {
                return Err(fail(
                    "neither a tap descriptor opened with IFF_TAP|IFF_NO_PI nor an AF_UNIX SOCK_SEQPACKET or SOCK_DGRAM socket".into(),
                ));
            }
            set_nonblocking(fd.as_raw_fd()).map_err(|e| fail(e.to_string()))?;
            (fd, ifr)
        }
    };
    let mtu = if_mtu(&ifr).map_err(|e| fail(format!("could not get the MTU: {e}")))?;
    Ok(Backend::Net { fd, mac, mtu })
}

/// A random unicast, locally administered MAC address.
pub fn random_mac() -> Result<[u8; 6], Error> {
    let mut mac = [0u8; 6];
    // SAFETY: getrandom writes at most `mac.len()` bytes into `mac`.
    let n = unsafe { libc::getrandom(mac.as_mut_ptr().cast(), mac.len(), 0) };
    if n != mac.len() as isize {
        return Err(Error::new(format!(
            "getrandom: {}",
            io::Error::last_os_error()
        )));
    }
    mac[0] = (mac[0] & 0xfe) | 0x02;
    Ok(mac)
}

/// Opens every device the options name. The names were checked by [`check_names`].
pub fn attach(manifest: &Manifest, o: &Options) -> Result<Vec<Attached>, Error> {
    check_names(manifest, o)?;
    let mut out = Vec::new();
    for (name, path) in &o.blocks {
        let index = lookup(manifest, name, DeviceType::Block)?;
        let mut block_size = DEFAULT_BLOCK_SIZE;
        for (n, v) in &o.block_sizes {
            if n == name {
                block_size = parse_block_size(v)?;
            }
        }
        let backend = open_block(path, block_size)?;
        out.push(Attached { index, backend });
    }
    for (name, source) in &o.nets {
        let index = lookup(manifest, name, DeviceType::Net)?;
        let mac = match o.macs.iter().rev().find(|(n, _)| n == name) {
            Some((_, mac)) => *mac,
            None => random_mac()?,
        };
        let backend = open_net(source, mac)?;
        out.push(Attached { index, backend });
    }
    Ok(out)
}

/// Checks that every declared device is attached, with the tender's messages.
pub fn check_all_attached(manifest: &Manifest, attached: &[Attached]) -> Result<(), Error> {
    let mut lines = Vec::new();
    for (i, e) in manifest.entries.iter().enumerate().skip(1) {
        if !attached.iter().any(|a| a.index == i) {
            lines.push(format!(
                "Device '{}' of type {} declared but not attached.",
                e.name_str(),
                e.device_type.name()
            ));
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    lines.push("All declared devices must be attached. See --help for syntax.".to_string());
    Err(Error::new(lines.join("\n")))
}

/// The guest's copy of the manifest: the image's `struct mft` with `attached`, `hostfd`
/// and the device properties filled in.
pub fn patched_manifest(manifest: &Manifest, attached: &[Attached]) -> Vec<u8> {
    let mut raw = manifest.raw.clone();
    for a in attached {
        let base = MFT_HEADER_SIZE + a.index * MFT_ENTRY_SIZE;
        let Some(e) = raw.get_mut(base..base + MFT_ENTRY_SIZE) else {
            continue;
        };
        e[MFT_ENTRY_U..MFT_ENTRY_U + 16].fill(0);
        match &a.backend {
            Backend::Block {
                capacity,
                block_size,
                ..
            } => {
                e[MFT_ENTRY_U..MFT_ENTRY_U + 8].copy_from_slice(&capacity.to_le_bytes());
                // block_size ≤ 32768 (parse_block_size), so it fits the u16 field.
                let bs = u16::try_from(*block_size).unwrap_or(0);
                e[MFT_ENTRY_U + 8..MFT_ENTRY_U + 10].copy_from_slice(&bs.to_le_bytes());
            }
            Backend::Net { mac, mtu, .. } => {
                e[MFT_ENTRY_U..MFT_ENTRY_U + 6].copy_from_slice(mac);
                e[MFT_ENTRY_U + 6..MFT_ENTRY_U + 8].copy_from_slice(&mtu.to_le_bytes());
            }
        }
        e[MFT_ENTRY_B..MFT_ENTRY_B + 8].fill(0);
        e[MFT_ENTRY_B..MFT_ENTRY_B + 4].copy_from_slice(&a.fd().to_le_bytes());
        e[MFT_ENTRY_ATTACHED] = 1;
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socketpair of `kind`; the first end is the guest's.
    fn pair(kind: libc::c_int) -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: socketpair writes two descriptors into `fds`.
        assert_eq!(
            unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) },
            0
        );
        // SAFETY: fresh descriptors, owned here.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    #[test]
    fn a_frame_socket_is_a_network_device() {
        for kind in [libc::SOCK_SEQPACKET, libc::SOCK_DGRAM] {
            let (guest, _host) = pair(kind);
            let mac = [2, 0, 0, 0, 0, 1];
            let b = open_net(&NetSource::Fd(guest.as_raw_fd()), mac).expect("frame socket");
            let Backend::Net { fd, mtu, .. } = b else {
                panic!("{b:?}")
            };
            assert_eq!(mtu, SOCKET_MTU);
            // SAFETY: F_GETFL only reads the flags of our descriptor.
            let fl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
            assert!(fl & libc::O_NONBLOCK != 0, "non-blocking");
        }
    }

    #[test]
    fn a_stream_socket_is_neither_tap_nor_frame_socket() {
        let (stream, _other) = pair(libc::SOCK_STREAM);
        let err = open_net(&NetSource::Fd(stream.as_raw_fd()), [2, 0, 0, 0, 0, 1])
            .expect_err("a stream loses frame boundaries");
        assert!(err.message().contains("neither a tap descriptor"), "{err}");
    }
}
