//! Petrel interface: TCP and UDP over IPv4 and IPv6.
//!
//! A unikernel declares a stack in `unikernel.toml` (`[devices.stack] type = "stack"`) and
//! receives its handle, a [`Stack`], in its main function:
//!
//! ```text
//! #[petrel::main]
//! pub async fn start(stack: petrel::stack::Stack) -> Result<(), StackError> {
//!     let any = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 8080);
//!     let listener = stack.listen(any).await?;
//!     loop {
//!         let (conn, peer) = listener.accept().await?;
//!         petrel::spawn(async move { /* conn.read(..).await, conn.write_all(..).await */ });
//!     }
//! }
//! ```
//!
//! Every call that may wait is `async`; every failure is a [`StackError`] value, never a
//! panic. Writes apply back-pressure: [`TcpStream::write`] returns how many bytes the stack
//! accepted and waits while its send buffer is full ([`TcpStream::write_all`] loops).
//!
//! As with block devices (`petrel-block`), user code does not call the backend: each
//! implementation (`petrel-stack-socket` on unix: the host's sockets; `petrel-stack-direct`:
//! Petrel's own stack on a network device) implements [`StackBackend`], free poll-style
//! functions keyed by handle numbers, and [`Stack`], [`TcpListener`], [`TcpStream`] and [`UdpSocket`] wrap
//! those numbers. A socket's handle is closed when its wrapper is dropped.
//!
//! Addresses are per family: a socket bound to an IPv6 address (including `[::]`) carries IPv6
//! only, so a server that wants both families listens on `0.0.0.0` and on `[::]`.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod dns;
mod io;
mod nal;
#[cfg(feature = "picoserve")]
pub mod picoserve;

pub use dns::DnsError;
pub use io::{OwnedTcpReader, OwnedTcpWriter, TcpReader, TcpWriter};
pub use nal::UdpHalf;

use core::fmt;
use core::future::poll_fn;
use core::net::SocketAddr;

/// Why a network operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackError {
    /// The stack device is not available (the target has no such network).
    NotFound,
    /// The socket handle is not open (closed already, or never opened).
    BadHandle,
    /// The handle is a socket of another kind (a UDP socket given to a TCP call...).
    WrongKind,
    /// The local address and port are already in use.
    AddrInUse,
    /// The local address is not one of this unikernel's addresses.
    AddrNotAvailable,
    /// The peer refused the connection (nothing listens on that port).
    Refused,
    /// The peer reset the connection.
    Reset,
    /// The connection was aborted locally.
    Aborted,
    /// The socket is not connected.
    NotConnected,
    /// The connection attempt or the connection timed out.
    TimedOut,
    /// No route to the host or its network.
    Unreachable,
    /// Writing after [`TcpStream::shutdown`], or to a connection the peer closed.
    Closed,
    /// An argument is invalid (a port 0 destination, mixed address families...).
    InvalidInput,
    /// The host forbids the operation (a port below 1024 without the privilege...).
    PermissionDenied,
    /// A datagram is larger than the stack can send.
    MessageTooLong,
    /// The address family is not supported (IPv6 on a host without it...).
    Unsupported,
    /// The stack is out of sockets or buffers.
    NoResources,
    /// Any other failure of the stack or of the host.
    Io,
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StackError::NotFound => "the network stack is not available",
            StackError::BadHandle => "the socket is not open",
            StackError::WrongKind => "the socket is of another kind",
            StackError::AddrInUse => "the address is already in use",
            StackError::AddrNotAvailable => "the address is not available",
            StackError::Refused => "connection refused",
            StackError::Reset => "connection reset by peer",
            StackError::Aborted => "connection aborted",
            StackError::NotConnected => "the socket is not connected",
            StackError::TimedOut => "timed out",
            StackError::Unreachable => "the host or network is unreachable",
            StackError::Closed => "the connection is closed for writing",
            StackError::InvalidInput => "invalid argument",
            StackError::PermissionDenied => "permission denied",
            StackError::MessageTooLong => "the datagram is too long",
            StackError::Unsupported => "the address family is not supported",
            StackError::NoResources => "out of sockets or buffers",
            StackError::Io => "the network stack failed",
        })
    }
}

impl core::error::Error for StackError {}

/// Whether a socket can be read or written without waiting: [`StackBackend::readiness`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    /// A read would not wait (bytes or a datagram, end of stream, or an error are there).
    pub readable: bool,
    /// A write would not wait (there is room in the send buffer, or an error is there).
    pub writable: bool,
}

/// The per-target stack backend: one implementation per build, keyed by handle numbers.
///
/// User code does not call it: it receives a [`Stack`]. Implementation crates implement it
/// with `#[petrel_macros::implements]`. Socket handles are unique among the stacks of one
/// unikernel and never reused. The `poll` functions follow [`core::future::Future::poll`]:
/// `Pending` means the backend arranged for `cx`'s waker to be woken when the call may make
/// progress.
#[petrel_macros::interface]
pub trait StackBackend {
    /// Acquires the stack `name` (the instance name) and returns its handle.
    fn acquire(name: &str) -> Result<u64, StackError>;
    /// Opens a TCP socket of stack `stack` listening on `addr` (port 0: any free port) and
    /// returns its handle.
    fn tcp_listen(stack: u64, addr: SocketAddr) -> Result<u64, StackError>;
    /// Accepts the next connection on listener `sock`: the new connection's handle and the
    /// peer's address.
    fn tcp_poll_accept(
        sock: u64,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(u64, SocketAddr), StackError>>;
    /// Starts connecting a new TCP socket of stack `stack` to `addr` and returns its handle;
    /// [`tcp_poll_connect`] completes the connection.
    fn tcp_connect(stack: u64, addr: SocketAddr) -> Result<u64, StackError>;
    /// Ready once connection `sock` (from [`tcp_connect`]) is established or has failed.
    fn tcp_poll_connect(
        sock: u64,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(), StackError>>;
    /// Reads received bytes of connection `sock` into `buf`: how many (`0` once the peer
    /// closed its side, or if `buf` is empty).
    fn tcp_poll_read(
        sock: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<usize, StackError>>;
    /// Queues bytes of `buf` for sending on connection `sock`: how many were accepted (at
    /// least one if `buf` is not empty); pending while the send buffer is full.
    fn tcp_poll_write(
        sock: u64,
        cx: &mut core::task::Context<'_>,
        buf: &[u8],
    ) -> core::task::Poll<Result<usize, StackError>>;
    /// Closes the sending side of connection `sock` (the peer reads end of stream) once the
    /// bytes already queued are sent; receiving goes on.
    fn tcp_poll_shutdown(
        sock: u64,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(), StackError>>;
    /// The remote address of connection `sock`.
    fn tcp_peer_addr(sock: u64) -> Result<SocketAddr, StackError>;
    /// Opens a UDP socket of stack `stack` bound to `addr` (port 0: any free port) and
    /// returns its handle.
    fn udp_bind(stack: u64, addr: SocketAddr) -> Result<u64, StackError>;
    /// Sends `buf` as one datagram from UDP socket `sock` to `addr`: its length.
    fn udp_poll_send_to(
        sock: u64,
        cx: &mut core::task::Context<'_>,
        buf: &[u8],
        addr: SocketAddr,
    ) -> core::task::Poll<Result<usize, StackError>>;
    /// Receives one datagram on UDP socket `sock` into `buf` (the rest of a longer datagram
    /// is discarded): its length and sender.
    fn udp_poll_recv_from(
        sock: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<(usize, SocketAddr), StackError>>;
    /// The local address of socket `sock` (of any kind).
    fn local_addr(sock: u64) -> Result<SocketAddr, StackError>;
    /// Ready once reading socket `sock` (a TCP connection or a UDP socket) would not wait:
    /// bytes or a datagram are there, the peer closed its side, or the socket failed (the read
    /// then says how).
    fn poll_readable(
        sock: u64,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(), StackError>>;
    /// Whether reading and writing socket `sock` would not wait now. Arranges no wake-up.
    fn readiness(sock: u64) -> Result<Readiness, StackError>;
    /// Resets connection `sock`: the peer sees a reset and queued bytes are dropped. Later
    /// calls on the handle fail; [`close`] still frees it.
    fn tcp_abort(sock: u64) -> Result<(), StackError>;
    /// The DNS servers stack `stack` knows of by itself (the DHCP lease's, or the host's),
    /// written into `out`: how many (at most `out.len()`).
    fn dns_servers(stack: u64, out: &mut [core::net::IpAddr]) -> usize;
    /// Closes socket `sock` (of any kind) and frees its handle; an unknown handle is ignored.
    /// A connection is closed in both directions; bytes still queued are sent if possible.
    fn close(sock: u64);
}

/// A TCP/IP stack: the handle the main function receives for a `type = "stack"` device.
#[derive(Debug)]
pub struct Stack {
    name: &'static str,
    handle: u64,
}

impl Stack {
    /// Acquires the stack `name` through the target's backend.
    pub fn acquire(name: &'static str) -> Result<Stack, StackError> {
        let handle = acquire(name)?;
        Ok(Stack { name, handle })
    }

    /// Acquires the stack `name`, or prints why it cannot on the console and exits 255: what
    /// the implementations' device constructors do, since a unikernel cannot start without
    /// its declared devices.
    pub fn acquire_or_exit(name: &'static str) -> Stack {
        match Stack::acquire(name) {
            Ok(stack) => stack,
            Err(e) => {
                // The console cannot fail; there is nothing else to report to.
                let _ = fmt::write(
                    &mut petrel_console::Writer,
                    format_args!("stack `{name}`: {e}\n"),
                );
                petrel_platform::exit(255)
            }
        }
    }

    /// The instance name (`stack`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Listens for TCP connections on `addr` (`0.0.0.0:80`, `[::]:80`; port 0 picks a free
    /// port: see [`TcpListener::local_addr`]).
    pub async fn listen(&self, addr: SocketAddr) -> Result<TcpListener, StackError> {
        tcp_listen(self.handle, addr).map(|sock| TcpListener { sock })
    }

    /// Opens a TCP connection to `addr`.
    pub async fn connect(&self, addr: SocketAddr) -> Result<TcpStream, StackError> {
        let stream = TcpStream {
            sock: tcp_connect(self.handle, addr)?,
        };
        // On failure `stream` is dropped, which closes the handle.
        poll_fn(|cx| tcp_poll_connect(stream.sock, cx)).await?;
        Ok(stream)
    }

    /// Opens a UDP socket bound to `addr` (port 0 picks a free port).
    pub async fn bind_udp(&self, addr: SocketAddr) -> Result<UdpSocket, StackError> {
        udp_bind(self.handle, addr).map(|sock| UdpSocket { sock })
    }
}

/// A TCP socket listening for connections. Closed when dropped.
#[derive(Debug)]
pub struct TcpListener {
    sock: u64,
}

impl TcpListener {
    /// Waits for the next connection: the connection and the peer's address.
    pub async fn accept(&self) -> Result<(TcpStream, SocketAddr), StackError> {
        let (sock, peer) = poll_fn(|cx| tcp_poll_accept(self.sock, cx)).await?;
        Ok((TcpStream { sock }, peer))
    }

    /// The address it listens on (with the port picked if it asked for port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, StackError> {
        local_addr(self.sock)
    }

    /// Stops listening.
    pub fn close(self) {}
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        close(self.sock);
    }
}

/// A TCP connection. Closed in both directions when dropped.
///
/// The methods take `&self`, so that one task may read while another writes.
#[derive(Debug)]
pub struct TcpStream {
    sock: u64,
}

impl TcpStream {
    /// Waits for received bytes and reads them into `buf`: how many, `0` once the peer has
    /// closed its side (end of stream) or if `buf` is empty.
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize, StackError> {
        poll_fn(|cx| tcp_poll_read(self.sock, cx, buf)).await
    }

    /// Queues bytes of `buf` for sending: how many the stack accepted (at least one unless
    /// `buf` is empty). Waits while the send buffer is full: that is the back-pressure.
    pub async fn write(&self, buf: &[u8]) -> Result<usize, StackError> {
        poll_fn(|cx| tcp_poll_write(self.sock, cx, buf)).await
    }

    /// Queues all of `buf`, waiting for room in the send buffer as often as needed.
    pub async fn write_all(&self, mut buf: &[u8]) -> Result<(), StackError> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            if n == 0 {
                return Err(StackError::Io);
            }
            buf = buf.get(n..).unwrap_or_default();
        }
        Ok(())
    }

    /// Closes the sending side: the peer reads the end of the stream after the bytes already
    /// written. Reading goes on until the peer closes its side.
    pub async fn shutdown(&self) -> Result<(), StackError> {
        poll_fn(|cx| tcp_poll_shutdown(self.sock, cx)).await
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> Result<SocketAddr, StackError> {
        local_addr(self.sock)
    }

    /// The remote address of the connection.
    pub fn peer_addr(&self) -> Result<SocketAddr, StackError> {
        tcp_peer_addr(self.sock)
    }

    /// Closes the connection in both directions (what dropping it does).
    pub fn close(self) {}
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        close(self.sock);
    }
}

/// A UDP socket. Closed when dropped.
#[derive(Debug)]
pub struct UdpSocket {
    sock: u64,
}

impl UdpSocket {
    /// Sends `buf` as one datagram to `addr`: its length. Waits while the send buffer is full.
    pub async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> Result<usize, StackError> {
        poll_fn(|cx| udp_poll_send_to(self.sock, cx, buf, addr)).await
    }

    /// Waits for one datagram and reads it into `buf`: its length (bytes past `buf` are
    /// discarded) and its sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), StackError> {
        poll_fn(|cx| udp_poll_recv_from(self.sock, cx, buf)).await
    }

    /// The address it is bound to (with the port picked if it asked for port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, StackError> {
        local_addr(self.sock)
    }

    /// Closes the socket (what dropping it does).
    pub fn close(self) {}
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        close(self.sock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_display() {
        // Tests run on the host, where `alloc` is there.
        extern crate alloc;
        use alloc::string::ToString;
        assert_eq!(StackError::Refused.to_string(), "connection refused");
    }
}
