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
use picoserve::io::{BaseWrite, ReadExt, Socket};
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

/// How many bytes picoserve formats at a time before they go to the stack.
const CHUNK: usize = 1024;

impl picoserve::io::Write for TcpWriter<'_> {
    async fn write_with<F: FnOnce(BorrowedCursor<'_>) -> R, R>(
        &mut self,
        f: F,
    ) -> Result<R, StackError> {
        let mut chunk = [0u8; CHUNK];
        let mut buffer = BorrowedBuffer::new(&mut chunk);
        let output = f(buffer.unfilled());
        self.write_all(buffer.filled()).await?;
        Ok(output)
    }
}

impl Socket<PetrelRuntime> for TcpStream {
    type Error = StackError;
    type ReadHalf<'a> = TcpReader<'a>;
    type WriteHalf<'a> = TcpWriter<'a>;

    fn split(&mut self) -> (TcpReader<'_>, TcpWriter<'_>) {
        TcpStream::split(self)
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
