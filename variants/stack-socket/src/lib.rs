//! [`petrel_stack`] on unix: the host's own TCP/IP stack through non-blocking sockets.
//!
//! Selected by `--net=socket` (the default on unix). The host's interfaces, addresses and
//! routes are the stack's configuration, so it declares no boot arguments. A socket that
//! would block registers its file descriptor with [`petrel_platform_unix::register_fd`]; the
//! executor's `poll(2)` then wakes the task when the socket is ready.
//!
//! IPv6 sockets are `IPV6_V6ONLY`, as in Petrel's other stacks: a socket bound to `[::]`
//! carries IPv6 only, and `0.0.0.0` can be bound beside it on the same port.

mod resolv_conf;

use petrel_stack::{Readiness, Stack, StackError};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::task::{Context, Poll};

/// The device constructor the generated crate calls for each `type = "stack"` instance.
pub async fn connect(
    name: &'static str,
    _params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
) -> Stack {
    Stack::acquire_or_exit(name)
}

/// An open socket.
enum Socket {
    Listener(TcpListener),
    /// A connection; `connecting` until its non-blocking `connect(2)` has completed.
    Stream {
        stream: TcpStream,
        connecting: bool,
    },
    Udp(UdpSocket),
}

impl Socket {
    fn fd(&self) -> i32 {
        match self {
            Socket::Listener(l) => l.as_raw_fd(),
            Socket::Stream { stream, .. } => stream.as_raw_fd(),
            Socket::Udp(u) => u.as_raw_fd(),
        }
    }
}

thread_local! {
    /// Every open socket by handle. The executor is single-threaded, and so is this stack.
    static SOCKETS: RefCell<HashMap<u64, Socket>> = RefCell::new(HashMap::new());
    /// The next socket handle (never reused, so a stale handle cannot reach a new socket).
    static NEXT_SOCKET: Cell<u64> = const { Cell::new(1) };
    /// How many stacks were acquired: their handles are `0..STACKS`.
    static STACKS: Cell<u64> = const { Cell::new(0) };
}

/// Stores `socket` under a new handle.
fn insert(socket: Socket) -> u64 {
    let id = NEXT_SOCKET.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    SOCKETS.with(|s| s.borrow_mut().insert(id, socket));
    id
}

/// Runs `f` on socket `sock`.
fn with<T>(
    sock: u64,
    f: impl FnOnce(&mut Socket) -> Result<T, StackError>,
) -> Result<T, StackError> {
    SOCKETS.with(|s| match s.borrow_mut().get_mut(&sock) {
        Some(socket) => f(socket),
        None => Err(StackError::BadHandle),
    })
}

/// [`with`] for poll functions: `f` returns `None` when it would block, and the task is then
/// woken when the socket has any of `events`.
fn poll_with<T>(
    sock: u64,
    cx: &mut Context<'_>,
    events: i16,
    mut f: impl FnMut(&mut Socket) -> Result<Option<T>, StackError>,
) -> Poll<Result<T, StackError>> {
    let result = with(sock, |socket| {
        let out = f(socket)?;
        if out.is_none() {
            petrel_platform_unix::register_fd(socket.fd(), events, cx.waker());
        }
        Ok(out)
    });
    match result {
        Ok(Some(v)) => Poll::Ready(Ok(v)),
        Ok(None) => Poll::Pending,
        Err(e) => Poll::Ready(Err(e)),
    }
}

/// Retries `op` on `EINTR`; `Ok(None)` when it would block.
fn nonblocking<T>(mut op: impl FnMut() -> io::Result<T>) -> Result<Option<T>, StackError> {
    loop {
        match op() {
            Ok(v) => return Ok(Some(v)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(error(&e)),
        }
    }
}

/// The stack's name for a host error.
fn error(e: &io::Error) -> StackError {
    match e.raw_os_error() {
        Some(libc::EADDRINUSE) => StackError::AddrInUse,
        Some(libc::EADDRNOTAVAIL) => StackError::AddrNotAvailable,
        Some(libc::ECONNREFUSED) => StackError::Refused,
        Some(libc::ECONNRESET) => StackError::Reset,
        Some(libc::ECONNABORTED) => StackError::Aborted,
        Some(libc::ENOTCONN) => StackError::NotConnected,
        Some(libc::ETIMEDOUT) => StackError::TimedOut,
        Some(libc::EHOSTUNREACH | libc::ENETUNREACH | libc::ENETDOWN | libc::EHOSTDOWN) => {
            StackError::Unreachable
        }
        Some(libc::EPIPE | libc::ESHUTDOWN) => StackError::Closed,
        Some(libc::EINVAL | libc::EDESTADDRREQ) => StackError::InvalidInput,
        Some(libc::EACCES | libc::EPERM) => StackError::PermissionDenied,
        Some(libc::EMSGSIZE) => StackError::MessageTooLong,
        Some(libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT | libc::EOPNOTSUPP) => {
            StackError::Unsupported
        }
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => StackError::NoResources,
        _ if e.kind() == ErrorKind::InvalidInput => StackError::InvalidInput,
        _ => StackError::Io,
    }
}

/// The error of the last failed libc call.
fn last_error() -> StackError {
    error(&io::Error::last_os_error())
}

/// Checks that `stack` is a handle [`StackBackend::acquire`](petrel_stack::StackBackend)
/// returned.
fn check_stack(stack: u64) -> Result<(), StackError> {
    if stack < STACKS.with(Cell::get) {
        Ok(())
    } else {
        Err(StackError::NotFound)
    }
}

/// A new non-blocking, close-on-exec socket of `addr`'s family; IPv6 sockets are IPv6-only.
fn socket(addr: &SocketAddr, ty: libc::c_int) -> Result<OwnedFd, StackError> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket(2) takes no pointers; its result is checked before use.
    let fd = unsafe { libc::socket(family, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(last_error());
    }
    // SAFETY: `fd` was just created and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if addr.is_ipv6() {
        set_option(&fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
    }
    Ok(fd)
}

/// Sets an integer socket option.
fn set_option(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> Result<(), StackError> {
    // SAFETY: `value` is a live c_int and the length given is its size; `fd` is open.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 { Err(last_error()) } else { Ok(()) }
}

/// `addr` as a C socket address and its length.
fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data, for which all zeroes is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large and aligned enough for every socket address.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in>().write(sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in6>().write(sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Binds `fd` to `addr`.
fn bind(fd: &OwnedFd, addr: &SocketAddr) -> Result<(), StackError> {
    let (storage, len) = sockaddr(addr);
    // SAFETY: `storage` holds a socket address of `len` bytes; `fd` is open.
    let r = unsafe { libc::bind(fd.as_raw_fd(), (&raw const storage).cast(), len) };
    if r < 0 { Err(last_error()) } else { Ok(()) }
}

/// A listening TCP socket on `addr`.
fn listen(addr: &SocketAddr) -> Result<TcpListener, StackError> {
    let fd = socket(addr, libc::SOCK_STREAM)?;
    set_option(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    bind(&fd, addr)?;
    // SAFETY: listen(2) takes no pointers; `fd` is open.
    if unsafe { libc::listen(fd.as_raw_fd(), 1024) } < 0 {
        return Err(last_error());
    }
    Ok(TcpListener::from(fd))
}

/// A TCP socket connecting to `addr`: connected, or still connecting (`true`).
fn start_connect(addr: &SocketAddr) -> Result<(TcpStream, bool), StackError> {
    if addr.port() == 0 || addr.ip().is_unspecified() {
        return Err(StackError::InvalidInput);
    }
    let fd = socket(addr, libc::SOCK_STREAM)?;
    let (storage, len) = sockaddr(addr);
    loop {
        // SAFETY: `storage` holds a socket address of `len` bytes; `fd` is open.
        let r = unsafe { libc::connect(fd.as_raw_fd(), (&raw const storage).cast(), len) };
        if r == 0 {
            return Ok((TcpStream::from(fd), false));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINPROGRESS) => return Ok((TcpStream::from(fd), true)),
            Some(libc::EINTR) => continue,
            _ => return Err(error(&e)),
        }
    }
}

/// Whether `fd` has any of `events` now (or an error or hang-up), without waiting.
fn ready_now(fd: i32, events: i16) -> Result<bool, StackError> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd.
    let n = unsafe { libc::poll(&raw mut pfd, 1, 0) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(error(&e));
    }
    Ok(n > 0 && pfd.revents != 0)
}

/// The host's sockets as a [`petrel_stack::StackBackend`].
pub struct SocketStack;

#[petrel_macros::implements]
impl petrel_stack::StackBackend for SocketStack {
    fn acquire(_name: &str) -> Result<u64, StackError> {
        Ok(STACKS.with(|s| {
            let id = s.get();
            s.set(id + 1);
            id
        }))
    }

    fn tcp_listen(stack: u64, addr: SocketAddr) -> Result<u64, StackError> {
        check_stack(stack)?;
        listen(&addr).map(|l| insert(Socket::Listener(l)))
    }

    fn tcp_poll_accept(
        sock: u64,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(u64, SocketAddr), StackError>> {
        let accepted = poll_with(sock, cx, libc::POLLIN, |socket| match socket {
            Socket::Listener(l) => loop {
                match nonblocking(|| l.accept()) {
                    // The peer gave up before we accepted: wait for the next one.
                    Err(StackError::Aborted) => continue,
                    other => break other,
                }
            },
            _ => Err(StackError::WrongKind),
        });
        match accepted {
            Poll::Ready(Ok((stream, peer))) => {
                // Accepted sockets do not inherit O_NONBLOCK on Linux. No Nagle (as nginx and
                // Go): a server that writes a response head and its body apart (picoserve
                // does) would otherwise wait for the client's delayed ACK, 40 ms, each time.
                if let Err(e) = stream
                    .set_nonblocking(true)
                    .and_then(|()| stream.set_nodelay(true))
                {
                    return Poll::Ready(Err(error(&e)));
                }
                let id = insert(Socket::Stream {
                    stream,
                    connecting: false,
                });
                Poll::Ready(Ok((id, peer)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn tcp_connect(stack: u64, addr: SocketAddr) -> Result<u64, StackError> {
        check_stack(stack)?;
        let (stream, connecting) = start_connect(&addr)?;
        Ok(insert(Socket::Stream { stream, connecting }))
    }

    fn tcp_poll_connect(
        sock: u64,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(), StackError>> {
        poll_with(sock, cx, libc::POLLOUT, |socket| match socket {
            Socket::Stream {
                connecting: false, ..
            } => Ok(Some(())),
            Socket::Stream { stream, connecting } => {
                if !ready_now(stream.as_raw_fd(), libc::POLLOUT)? {
                    return Ok(None);
                }
                if let Some(e) = stream.take_error().map_err(|e| error(&e))? {
                    return Err(error(&e));
                }
                // Writable without a pending error: connected (peer_addr fails otherwise).
                stream.peer_addr().map_err(|e| error(&e))?;
                *connecting = false;
                Ok(Some(()))
            }
            _ => Err(StackError::WrongKind),
        })
    }

    fn tcp_poll_read(
        sock: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<usize, StackError>> {
        if buf.is_empty() {
            return with(sock, |_| Ok(0)).into();
        }
        poll_with(sock, cx, libc::POLLIN, |socket| match socket {
            Socket::Stream { stream, .. } => nonblocking(|| (&*stream).read(buf)),
            _ => Err(StackError::WrongKind),
        })
    }

    fn tcp_poll_write(
        sock: u64,
        cx: &mut core::task::Context<'_>,
        buf: &[u8],
    ) -> core::task::Poll<Result<usize, StackError>> {
        if buf.is_empty() {
            return with(sock, |_| Ok(0)).into();
        }
        // std's TcpStream writes with MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE.
        poll_with(sock, cx, libc::POLLOUT, |socket| match socket {
            Socket::Stream { stream, .. } => nonblocking(|| (&*stream).write(buf)),
            _ => Err(StackError::WrongKind),
        })
    }

    fn tcp_poll_shutdown(
        sock: u64,
        _cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(), StackError>> {
        // The host sends what is queued, then the FIN, on its own.
        with(sock, |socket| match socket {
            Socket::Stream { stream, .. } => {
                stream.shutdown(Shutdown::Write).map_err(|e| error(&e))
            }
            _ => Err(StackError::WrongKind),
        })
        .into()
    }

    fn tcp_peer_addr(sock: u64) -> Result<SocketAddr, StackError> {
        with(sock, |socket| match socket {
            Socket::Stream { stream, .. } => stream.peer_addr().map_err(|e| error(&e)),
            _ => Err(StackError::WrongKind),
        })
    }

    fn udp_bind(stack: u64, addr: SocketAddr) -> Result<u64, StackError> {
        check_stack(stack)?;
        let fd = socket(&addr, libc::SOCK_DGRAM)?;
        bind(&fd, &addr)?;
        Ok(insert(Socket::Udp(UdpSocket::from(fd))))
    }

    fn udp_poll_send_to(
        sock: u64,
        cx: &mut core::task::Context<'_>,
        buf: &[u8],
        addr: SocketAddr,
    ) -> core::task::Poll<Result<usize, StackError>> {
        poll_with(sock, cx, libc::POLLOUT, |socket| match socket {
            Socket::Udp(u) => nonblocking(|| u.send_to(buf, addr)),
            _ => Err(StackError::WrongKind),
        })
    }

    fn udp_poll_recv_from(
        sock: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<(usize, SocketAddr), StackError>> {
        poll_with(sock, cx, libc::POLLIN, |socket| match socket {
            Socket::Udp(u) => nonblocking(|| u.recv_from(buf)),
            _ => Err(StackError::WrongKind),
        })
    }

    fn local_addr(sock: u64) -> Result<SocketAddr, StackError> {
        with(sock, |socket| {
            match socket {
                Socket::Listener(l) => l.local_addr(),
                Socket::Stream { stream, .. } => stream.local_addr(),
                Socket::Udp(u) => u.local_addr(),
            }
            .map_err(|e| error(&e))
        })
    }

    fn poll_readable(
        sock: u64,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(), StackError>> {
        poll_with(sock, cx, libc::POLLIN, |socket| match socket {
            Socket::Stream { stream, .. } => {
                Ok(ready_now(stream.as_raw_fd(), libc::POLLIN)?.then_some(()))
            }
            Socket::Udp(u) => Ok(ready_now(u.as_raw_fd(), libc::POLLIN)?.then_some(())),
            Socket::Listener(_) => Err(StackError::WrongKind),
        })
    }

    fn readiness(sock: u64) -> Result<Readiness, StackError> {
        with(sock, |socket| match socket {
            Socket::Listener(_) => Err(StackError::WrongKind),
            // Still connecting: neither (poll(2) would say writable once connected).
            Socket::Stream {
                connecting: true, ..
            } => Ok(Readiness::default()),
            _ => Ok(Readiness {
                readable: ready_now(socket.fd(), libc::POLLIN)?,
                writable: ready_now(socket.fd(), libc::POLLOUT)?,
            }),
        })
    }

    fn tcp_abort(sock: u64) -> Result<(), StackError> {
        with(sock, |socket| match socket {
            Socket::Stream { stream, .. } => {
                let linger = libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                // SAFETY: `linger` is live and the length given is its size; the fd is open.
                let r = unsafe {
                    libc::setsockopt(
                        stream.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        (&raw const linger).cast(),
                        size_of::<libc::linger>() as libc::socklen_t,
                    )
                };
                if r < 0 { Err(last_error()) } else { Ok(()) }
            }
            _ => Err(StackError::WrongKind),
        })?;
        // With a zero linger time, closing the descriptor resets the connection. The handle
        // is then unknown: later calls fail with BadHandle, and close ignores it.
        let socket = SOCKETS.with(|s| s.borrow_mut().remove(&sock));
        drop(socket);
        Ok(())
    }

    fn dns_servers(stack: u64, out: &mut [std::net::IpAddr]) -> usize {
        if check_stack(stack).is_err() {
            return 0;
        }
        let servers = resolv_conf::host_dns_servers();
        let n = servers.len().min(out.len());
        out[..n].copy_from_slice(&servers[..n]);
        n
    }

    fn close(sock: u64) {
        // Dropped outside the borrow; dropping closes the descriptor. A task still waiting on
        // it is woken by poll(2) (POLLNVAL) and then sees BadHandle.
        let socket = SOCKETS.with(|s| s.borrow_mut().remove(&sock));
        drop(socket);
    }
}

#[cfg(test)]
mod tests;
