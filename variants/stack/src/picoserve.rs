//! picoserve 0.20 on Petrel (feature `picoserve`): its `io::Socket` on [`TcpStream`] and its
//! `time::Timer` on Petrel's timers, for picoserve's `Server::custom`:
//!
//! ```text
//! use petrel::stack::picoserve::{PetrelRuntime, Timer};
//! let (conn, _peer) = listener.accept().await?;
//! picoserve::Server::custom(&app, Timer, &config, &mut buf).serve(conn).await
//! ```
//!
//! picoserve's own `embassy` feature (embassy-net's sockets) stays off: Petrel's stack is
//! not embassy-net.

use crate::io::{TcpReader, TcpWriter};
use crate::{StackError, TcpStream};
use picoserve::io::{BaseWrite, ErrorType, ReadExt, Socket};
use picoserve::mem::{BorrowedBuffer, BorrowedCursor};
use picoserve::time::Duration;
use picoserve::{Error, Timeouts};

/// picoserve's runtime marker for Petrel: the `Runtime` of `Server::custom`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PetrelRuntime;

/// picoserve's timer on Petrel's timer queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timer;

impl picoserve::time::Timer<PetrelRuntime> for Timer {
    async fn delay(&self, duration: Duration) {
        petrel_time::sleep(core::time::Duration::from_millis(duration.as_millis())).await;
    }
}

/// The size of [`TxBuffer`]: a response head and a small body fit.
const TX: usize = 2048;

/// picoserve's write half: a transmit buffer that picoserve fills in pieces (the status
/// line, each header: `write_with`) and that goes to the stack in one write when picoserve
/// flushes (after each head and each body) or when it is full. Without it every piece was a
/// write of its own, and on the socket stack a system call and a segment of its own.
pub struct TxBuffer<'a> {
    tx: TcpWriter<'a>,
    buf: [u8; TX],
    len: usize,
}

impl TxBuffer<'_> {
    /// Sends what is buffered.
    async fn send(&mut self) -> Result<(), StackError> {
        let (buf, len) = (&self.buf, core::mem::take(&mut self.len));
        self.tx.write_all(&buf[..len]).await
    }
}

impl ErrorType for TxBuffer<'_> {
    type Error = StackError;
}

impl BaseWrite for TxBuffer<'_> {
    async fn write(&mut self, bytes: &[u8]) -> Result<usize, StackError> {
        if self.len == 0 && bytes.len() >= TX {
            // Large writes (a file's chunks) go straight to the stack.
            return self.tx.write(bytes).await;
        }
        if self.len == TX {
            self.send().await?;
        }
        let n = bytes.len().min(TX - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), StackError> {
        self.send().await?;
        self.tx.flush().await
    }
}

impl picoserve::io::Write for TxBuffer<'_> {
    async fn write_with<F: FnOnce(BorrowedCursor<'_>) -> R, R>(
        &mut self,
        f: F,
    ) -> Result<R, StackError> {
        if self.len == TX {
            self.send().await?;
        }
        let mut buffer = BorrowedBuffer::new(&mut self.buf[self.len..]);
        let output = f(buffer.unfilled());
        self.len += buffer.filled().len();
        Ok(output)
    }
}

impl Socket<PetrelRuntime> for TcpStream {
    type Error = StackError;
    type ReadHalf<'a> = TcpReader<'a>;
    type WriteHalf<'a> = TxBuffer<'a>;

    fn split(&mut self) -> (TcpReader<'_>, TxBuffer<'_>) {
        let (rx, tx) = TcpStream::split(self);
        (
            rx,
            TxBuffer {
                tx,
                buf: [0; TX],
                len: 0,
            },
        )
    }

    async fn abort<T: picoserve::time::Timer<PetrelRuntime>>(
        self,
        _timeouts: &Timeouts,
        _timer: &T,
    ) -> Result<(), Error<StackError>> {
        TcpStream::abort(&self).map_err(Error::Write)
    }

    async fn shutdown<T: picoserve::time::Timer<PetrelRuntime>>(
        self,
        timeouts: &Timeouts,
        timer: &T,
    ) -> Result<(), Error<StackError>> {
        // Our FIN after what is queued, then the peer's, within the read timeout.
        TcpStream::shutdown(&self).await.map_err(Error::Write)?;
        let (mut rx, _) = self.split();
        timer
            .run_with_timeout(timeouts.read_request, rx.discard_all_data())
            .await
            .map_err(Error::ReadTimeout)?
            .map_err(Error::Read)
    }
}
