//! `embedded-io-async` 0.7 on TCP connections: the byte-stream traits nearly every no_std
//! async protocol crate takes (HTTP servers and clients, TLS, MQTT...).
//!
//! [`TcpStream`] and its halves implement `Read`, `Write`, `ReadReady` and `WriteReady`, with
//! [`StackError`] as the error, whose `kind()` says what happened (`ConnectionReset`,
//! `TimedOut`, `BrokenPipe`...). `flush` returns once the bytes are in the stack's send
//! buffer, which sends them on its own: there is no buffer of Petrel's in between.

use crate::{StackError, TcpStream, UdpSocket, poll_readable, readiness};
use alloc::rc::Rc;
use core::future::poll_fn;
use embedded_io_async::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};

impl embedded_io_async::Error for StackError {
    fn kind(&self) -> ErrorKind {
        match self {
            StackError::NotFound => ErrorKind::NotFound,
            StackError::AddrInUse => ErrorKind::AddrInUse,
            StackError::AddrNotAvailable => ErrorKind::AddrNotAvailable,
            StackError::Refused => ErrorKind::ConnectionRefused,
            StackError::Reset => ErrorKind::ConnectionReset,
            StackError::Aborted => ErrorKind::ConnectionAborted,
            StackError::NotConnected | StackError::BadHandle => ErrorKind::NotConnected,
            StackError::TimedOut => ErrorKind::TimedOut,
            StackError::Closed => ErrorKind::BrokenPipe,
            StackError::InvalidInput | StackError::WrongKind | StackError::MessageTooLong => {
                ErrorKind::InvalidInput
            }
            StackError::PermissionDenied => ErrorKind::PermissionDenied,
            StackError::Unsupported => ErrorKind::Unsupported,
            StackError::NoResources => ErrorKind::OutOfMemory,
            StackError::Unreachable | StackError::Io => ErrorKind::Other,
        }
    }
}

/// The reading half of a TCP connection, from [`TcpStream::split`]: reads while the
/// writing half writes, in another future of the same task.
#[derive(Debug, Clone, Copy)]
pub struct TcpReader<'a>(&'a TcpStream);

/// The writing half of a TCP connection, from [`TcpStream::split`].
#[derive(Debug, Clone, Copy)]
pub struct TcpWriter<'a>(&'a TcpStream);

/// The reading half of a TCP connection, from [`TcpStream::into_split`]: `'static`, so it can
/// move into a task of its own (`petrel::spawn`) while another task writes.
#[derive(Debug)]
pub struct OwnedTcpReader(Rc<TcpStream>);

/// The writing half of a TCP connection, from [`TcpStream::into_split`]. The connection
/// closes when both halves are dropped.
#[derive(Debug)]
pub struct OwnedTcpWriter(Rc<TcpStream>);

impl TcpStream {
    /// Splits the connection into a reading and a writing half that borrow it.
    pub fn split(&self) -> (TcpReader<'_>, TcpWriter<'_>) {
        (TcpReader(self), TcpWriter(self))
    }

    /// Splits the connection into owned halves, for two tasks.
    pub fn into_split(self) -> (OwnedTcpReader, OwnedTcpWriter) {
        let shared = Rc::new(self);
        (OwnedTcpReader(shared.clone()), OwnedTcpWriter(shared))
    }

    /// Waits until a read would not wait: bytes are there, the peer closed its side, or the
    /// connection failed.
    pub async fn readable(&self) -> Result<(), StackError> {
        poll_fn(|cx| poll_readable(self.sock, cx)).await
    }

    /// Whether a read would not wait now.
    pub fn read_ready(&self) -> Result<bool, StackError> {
        readiness(self.sock).map(|r| r.readable)
    }

    /// Whether a write would not wait now.
    pub fn write_ready(&self) -> Result<bool, StackError> {
        readiness(self.sock).map(|r| r.writable)
    }

    /// Resets the connection: the peer sees a reset, and bytes not yet sent are dropped.
    pub fn abort(&self) -> Result<(), StackError> {
        crate::tcp_abort(self.sock)
    }
}

impl TcpWriter<'_> {
    /// Closes the sending side (see [`TcpStream::shutdown`]).
    pub async fn shutdown(&self) -> Result<(), StackError> {
        self.0.shutdown().await
    }
}

impl OwnedTcpWriter {
    /// Closes the sending side (see [`TcpStream::shutdown`]); the reading half goes on.
    pub async fn shutdown(&self) -> Result<(), StackError> {
        self.0.shutdown().await
    }
}

impl UdpSocket {
    /// Waits until a datagram is there to receive (or the socket failed).
    pub async fn readable(&self) -> Result<(), StackError> {
        poll_fn(|cx| poll_readable(self.sock, cx)).await
    }
}

/// Implements the reading traits for a type whose `.stream()` is the connection.
macro_rules! reading {
    ($($t:ty),*) => {$(
        impl ErrorType for $t {
            type Error = StackError;
        }

        impl Read for $t {
            async fn read(&mut self, buf: &mut [u8]) -> Result<usize, StackError> {
                self.stream().read(buf).await
            }
        }

        impl ReadReady for $t {
            fn read_ready(&mut self) -> Result<bool, StackError> {
                self.stream().read_ready()
            }
        }

        impl edge_nal::Readable for $t {
            async fn readable(&mut self) -> Result<(), StackError> {
                self.stream().readable().await
            }
        }
    )*};
}

/// Implements the writing traits for a type whose `.stream()` is the connection.
macro_rules! writing {
    ($($t:ty),*) => {$(
        impl Write for $t {
            async fn write(&mut self, buf: &[u8]) -> Result<usize, StackError> {
                self.stream().write(buf).await
            }

            async fn flush(&mut self) -> Result<(), StackError> {
                // Written bytes are already in the stack's send buffer.
                Ok(())
            }
        }

        impl WriteReady for $t {
            fn write_ready(&mut self) -> Result<bool, StackError> {
                self.stream().write_ready()
            }
        }
    )*};
}

/// The ErrorType of the writing halves (the reading macro gives the others theirs).
macro_rules! error_type {
    ($($t:ty),*) => {$(
        impl ErrorType for $t {
            type Error = StackError;
        }
    )*};
}

reading!(TcpStream, TcpReader<'_>, OwnedTcpReader);
writing!(TcpStream, TcpWriter<'_>, OwnedTcpWriter);
error_type!(TcpWriter<'_>, OwnedTcpWriter);

/// The connection behind each handle and half.
trait Connection {
    fn stream(&self) -> &TcpStream;
}

impl Connection for TcpStream {
    fn stream(&self) -> &TcpStream {
        self
    }
}

impl Connection for TcpReader<'_> {
    fn stream(&self) -> &TcpStream {
        self.0
    }
}

impl Connection for TcpWriter<'_> {
    fn stream(&self) -> &TcpStream {
        self.0
    }
}

impl Connection for OwnedTcpReader {
    fn stream(&self) -> &TcpStream {
        &self.0
    }
}

impl Connection for OwnedTcpWriter {
    fn stream(&self) -> &TcpStream {
        &self.0
    }
}
