//! [`petrel_net`] on unix: a host tap interface, named by the boot argument
//! `--interface=NAME` (default `tap0`), opened through `/dev/net/tun` without packet
//! information, so that each read and write is one Ethernet frame. `--interface=@FD` takes
//! an inherited `AF_UNIX` frame socket instead: the end of a user-mode network that
//! `petrel run` starts when no tap is named.
//!
//! The interface must exist already and be usable by the unikernel's user (`ip tuntap add
//! tap0 mode tap user $USER`); attaching to it needs no privilege then. (Run as root, a
//! missing interface is created instead, and disappears when the unikernel exits.) The unikernel's MAC
//! address is random and locally administered (the tap's own address is the host's side);
//! the MTU is the interface's.
//!
//! Reads and writes are non-blocking; when they would block, the file descriptor is
//! registered with [`petrel_platform_unix::register_fd`] so that the executor's `poll(2)`
//! wakes the task.

use petrel_net::{Net, NetError, NetInfo};
use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::task::Poll;

/// The boot argument naming the tap interface.
const ARG: &str = "interface";

/// The MTU when the interface's cannot be read.
const DEFAULT_MTU: u16 = 1500;

/// The device constructor the generated crate calls for each `type = "net"` instance:
/// attaches to the tap interface `--interface`, or prints why it cannot and exits 255.
pub async fn connect(
    name: &'static str,
    params: &[(&str, &str)],
    args: &'static petrel_bootvar::Values,
) -> Net {
    let prefix = petrel_bootvar::instance_prefix(params);
    let interface: String = args.get(ARG);
    match open(&interface) {
        Ok(file) => TAPS.with(|t| {
            t.borrow_mut().push(Tap {
                name,
                file,
                info: NetInfo {
                    mac: random_mac(),
                    mtu: mtu(&interface).unwrap_or(DEFAULT_MTU),
                },
                acquired: false,
            })
        }),
        Err(e) => {
            eprintln!(
                "network device `{name}`: cannot attach to tap interface --{prefix}{ARG}={interface}: {e}"
            );
            std::process::exit(255)
        }
    }
    Net::acquire_or_exit(name)
}

/// An attached tap interface.
struct Tap {
    /// The instance it was attached for.
    name: &'static str,
    file: File,
    info: NetInfo,
    acquired: bool,
}

thread_local! {
    /// Every attached tap; a backend handle is an index. The executor is single-threaded.
    static TAPS: RefCell<Vec<Tap>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on tap `handle`.
fn with_tap<T>(handle: u64, f: impl FnOnce(&mut Tap) -> T) -> Result<T, NetError> {
    TAPS.with(|t| {
        let mut taps = t.borrow_mut();
        let tap = usize::try_from(handle)
            .ok()
            .and_then(|i| taps.get_mut(i))
            .ok_or(NetError::NotFound)?;
        Ok(f(tap))
    })
}

/// `name` as a C interface name in an `ifreq`, or `InvalidInput` if it does not fit.
fn ifreq(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!(
                "`{name}` is not an interface name (1 to {} bytes)",
                libc::IFNAMSIZ - 1
            ),
        ));
    }
    // SAFETY: ifreq is plain data (a name and a union of integers, addresses and a pointer),
    // for which all zeroes is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, &src) in ifr.ifr_name.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    Ok(ifr)
}

/// Opens `/dev/net/tun` (non-blocking) and attaches it to tap interface `name`, or, for
/// `@FD`, takes the inherited frame socket FD (see [`inherited`]).
fn open(name: &str) -> io::Result<File> {
    if let Some(fd) = name.strip_prefix('@') {
        return inherited(fd);
    }
    let mut ifr = ifreq(name)?;
    ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open("/dev/net/tun")?;
    // SAFETY: TUNSETIFF reads and writes one `ifreq`, which `ifr` is; the descriptor is open.
    if unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &raw mut ifr) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

/// The inherited descriptor `fd` (decimal), which must be an `AF_UNIX` socket keeping record
/// boundaries (`SOCK_SEQPACKET` or `SOCK_DGRAM`): a user-mode network's end, as `petrel run`
/// passes it. Like a tap, it carries one Ethernet frame per read or write.
fn inherited(fd: &str) -> io::Result<File> {
    let fd: i32 = fd.parse().ok().filter(|&n| n > 2).ok_or_else(|| {
        io::Error::new(
            ErrorKind::InvalidInput,
            "@FD needs a descriptor number above 2",
        )
    })?;
    let get = |opt: libc::c_int| {
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `v`; both live for the call.
        let rc =
            unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&raw mut v).cast(), &mut len) };
        if rc == 0 {
            Ok(v)
        } else {
            Err(io::Error::last_os_error())
        }
    };
    if get(libc::SO_DOMAIN)? != libc::AF_UNIX
        || !matches!(get(libc::SO_TYPE)?, libc::SOCK_SEQPACKET | libc::SOCK_DGRAM)
    {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            "not an AF_UNIX SOCK_SEQPACKET or SOCK_DGRAM socket",
        ));
    }
    // SAFETY: fcntl only changes the descriptor's flags (non-blocking, close-on-exec).
    let ok = unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        fl >= 0
            && libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) >= 0
            && libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) >= 0
    };
    if !ok {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor was inherited for this device alone (checked to be a socket
    // above); from here the device owns it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// The MTU of interface `name`, if the host tells it.
fn mtu(name: &str) -> Option<u16> {
    let mut ifr = ifreq(name).ok()?;
    // SAFETY: socket(2) takes no pointers; its result is checked before use.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just created and nothing else owns it (closed when dropped).
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: SIOCGIFMTU reads and writes one `ifreq`, which `ifr` is; `sock` is open.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU, &raw mut ifr) } < 0 {
        return None;
    }
    // SAFETY: SIOCGIFMTU succeeded, so the kernel stored the MTU in this union member.
    let mtu = unsafe { ifr.ifr_ifru.ifru_mtu };
    u16::try_from(mtu).ok().filter(|&m| m >= 68)
}

/// A random, locally administered, unicast MAC address.
fn random_mac() -> [u8; 6] {
    let mut mac = [0u8; 6];
    // SAFETY: getrandom writes at most `mac.len()` bytes into `mac`.
    let n = unsafe { libc::getrandom(mac.as_mut_ptr().cast(), mac.len(), 0) };
    if n != mac.len() as isize {
        // No entropy source: a fixed address, still locally administered.
        mac = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
    }
    mac[0] = (mac[0] & 0xfe) | 0x02;
    mac
}

/// Runs `op` on tap `handle`: its result, or pending with the task registered for `events`.
fn poll_io<T>(
    handle: u64,
    cx: &mut core::task::Context<'_>,
    events: i16,
    mut op: impl FnMut(&mut File) -> io::Result<T>,
) -> Poll<Result<T, NetError>> {
    let result = with_tap(handle, |tap| {
        loop {
            match op(&mut tap.file) {
                Ok(v) => return Poll::Ready(Ok(v)),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    petrel_platform_unix::register_fd(tap.file.as_raw_fd(), events, cx.waker());
                    return Poll::Pending;
                }
                Err(e) => return Poll::Ready(Err(error(&e))),
            }
        }
    });
    result.unwrap_or_else(|e| Poll::Ready(Err(e)))
}

/// The interface's name for a host error.
fn error(e: &io::Error) -> NetError {
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::EMSGSIZE) => NetError::Invalid,
        _ => NetError::Io,
    }
}

/// The tap backend.
pub struct UnixNet;

#[petrel_macros::implements]
impl petrel_net::NetBackend for UnixNet {
    fn acquire(name: &str) -> Result<u64, NetError> {
        TAPS.with(|t| {
            let mut taps = t.borrow_mut();
            let (i, tap) = taps
                .iter_mut()
                .enumerate()
                .find(|(_, tap)| tap.name == name)
                .ok_or(NetError::NotFound)?;
            if tap.acquired {
                return Err(NetError::Busy);
            }
            tap.acquired = true;
            Ok(i as u64)
        })
    }

    fn info(handle: u64) -> Result<NetInfo, NetError> {
        with_tap(handle, |tap| tap.info)
    }

    fn poll_read(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<usize, NetError>> {
        poll_io(handle, cx, libc::POLLIN, |f| f.read(buf))
    }

    fn poll_write(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        frame: &[u8],
    ) -> core::task::Poll<Result<(), NetError>> {
        // A tap takes each write whole, as one frame.
        poll_io(handle, cx, libc::POLLOUT, |f| f.write(frame).map(|_| ()))
    }
}

#[cfg(test)]
mod tests;
