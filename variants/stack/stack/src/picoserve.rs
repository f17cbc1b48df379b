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

use crate::io::TcpReader;
use crate::{StackError, TcpStream, tcp_poll_write};
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Context, Poll, Waker, ready};
use picoserve::io::{BaseWrite, ErrorType, Read, ReadExt, Socket};
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

/// The size of a connection's transmit buffer: a response head and a small body fit.
const TX: usize = 2048;

/// A connection's transmit buffer, shared by picoserve's two halves of the connection and by
/// the executor's before-idle hook.
///
/// picoserve flushes after every response head and again after the body; sending on each
/// flush made every answer two writes (two system calls and two segments on the socket
/// stack). So a flush only marks the bytes as due, and they go out, together with whatever
/// was written after them, at the first of: the connection's next read (a request/response
/// exchange, or pipelined answers: one write), a full buffer, [`Socket::shutdown`], or the
/// executor running out of ready tasks ([`send_due`]), so that a streamed answer that flushes
/// and then waits for an event is not delayed either. A write marks its bytes due as well:
/// picoserve's server-sent events (`write_event`) and chunks (`write_chunk`) are written
/// without a flush, and on tokio or embassy-net written bytes go out without one.
struct Tx {
    sock: u64,
    buf: Box<[u8]>,
    len: usize,
    /// Written or flushed bytes are waiting: the buffer is in [`DUE`].
    due: bool,
    /// The connection task's waker from its last flush: woken when the stack can take more
    /// bytes after the hook found its send buffer full.
    waker: Option<Waker>,
}

impl Tx {
    /// Sends the buffer's bytes; pending while the stack's send buffer is full.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StackError>> {
        while self.len > 0 {
            let n = ready!(tcp_poll_write(self.sock, cx, &self.buf[..self.len]))?;
            if n == 0 {
                return Poll::Ready(Err(StackError::Io));
            }
            self.buf.copy_within(n..self.len, 0);
            self.len -= n;
        }
        Poll::Ready(Ok(()))
    }
}

/// A shared transmit buffer. One task only: the executor is single-threaded, and no borrow is
/// held across an `.await`.
type SharedTx = Rc<RefCell<Tx>>;

/// The buffers with flushed bytes not sent yet.
struct Due(RefCell<Vec<SharedTx>>);
// SAFETY: every target runs the executor and all tasks on one thread (see petrel-time's queue).
unsafe impl Sync for Due {}
static DUE: Due = Due(RefCell::new(Vec::new()));

/// Whether [`send_due`] is registered with the executor.
struct Hooked(Cell<bool>);
// SAFETY: as for `Due`.
unsafe impl Sync for Hooked {}
static HOOKED: Hooked = Hooked(Cell::new(false));

/// Marks `tx`'s bytes as due: they go out before the executor idles at the latest.
fn mark_due(tx: &SharedTx, waker: Option<&Waker>) {
    let mut t = tx.borrow_mut();
    if let Some(w) = waker.filter(|w| !t.waker.as_ref().is_some_and(|old| old.will_wake(w))) {
        t.waker = Some(w.clone());
    }
    if t.len == 0 || t.due {
        return;
    }
    t.due = true;
    drop(t);
    DUE.0.borrow_mut().push(tx.clone());
    if !HOOKED.0.replace(true) {
        petrel_executor::before_idle(send_due);
    }
}

/// Takes `sock`'s buffer out of [`DUE`] (its bytes are sent or dropped by the caller).
fn take_due(sock: u64) -> Option<SharedTx> {
    let mut due = DUE.0.borrow_mut();
    let at = due.iter().position(|t| t.borrow().sock == sock)?;
    let tx = due.swap_remove(at);
    tx.borrow_mut().due = false;
    Some(tx)
}

/// The executor's before-idle hook: sends every due buffer it can without waiting. Whether
/// it sent anything.
fn send_due() -> bool {
    let mut sent = false;
    let mut i = 0;
    loop {
        // By index, with no borrow of DUE held while the stack runs.
        let next = DUE.0.borrow().get(i).cloned();
        let Some(tx) = next else {
            return sent;
        };
        let mut t = tx.borrow_mut();
        let before = t.len;
        let waker = t.waker.clone().unwrap_or_else(|| Waker::noop().clone());
        let done = t.poll_send(&mut Context::from_waker(&waker));
        sent |= t.len < before;
        if done.is_ready() {
            // Sent, or the connection failed: its next write or read reports that.
            t.due = false;
            drop(t);
            DUE.0.borrow_mut().swap_remove(i);
        } else {
            i += 1;
        }
    }
}

/// picoserve's write half: fills the shared buffer; large writes go straight to the stack.
pub struct TxBuffer {
    tx: SharedTx,
}

impl TxBuffer {
    /// Sends what is buffered, waiting for room in the stack's send buffer.
    async fn send(&mut self) -> Result<(), StackError> {
        poll_fn(|cx| self.tx.borrow_mut().poll_send(cx)).await
    }
}

impl Drop for TxBuffer {
    fn drop(&mut self) {
        // Bytes written but never flushed still go out (before the executor idles).
        mark_due(&self.tx, None);
    }
}

impl ErrorType for TxBuffer {
    type Error = StackError;
}

impl BaseWrite for TxBuffer {
    async fn write(&mut self, bytes: &[u8]) -> Result<usize, StackError> {
        let (sock, buffered) = {
            let t = self.tx.borrow();
            (t.sock, t.len)
        };
        if buffered == 0 && bytes.len() >= TX {
            // Large writes (a file's chunks) go straight to the stack.
            return poll_fn(|cx| tcp_poll_write(sock, cx, bytes)).await;
        }
        if buffered == TX {
            self.send().await?;
        }
        let mut t = self.tx.borrow_mut();
        let at = t.len;
        let n = bytes.len().min(TX - at);
        t.buf[at..at + n].copy_from_slice(&bytes[..n]);
        t.len += n;
        drop(t);
        mark_due(&self.tx, None);
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), StackError> {
        // The task's waker by reference: the before-idle hook wakes it when the stack's
        // send buffer frees up.
        poll_fn(|cx| {
            mark_due(&self.tx, Some(cx.waker()));
            Poll::Ready(())
        })
        .await;
        Ok(())
    }
}

/// The part of a formatted string that fits in a transmit buffer: the first `skip` bytes
/// (already sent) are passed over, then bytes are copied until the buffer is full.
struct Formatted<'a> {
    buf: &'a mut [u8],
    len: usize,
    skip: usize,
    /// The buffer filled up before the string ended.
    full: bool,
}

impl core::fmt::Write for Formatted<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let skipped = s.len().min(self.skip);
        self.skip -= skipped;
        let rest = &s.as_bytes()[skipped..];
        let n = rest.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&rest[..n]);
        self.len += n;
        if n < rest.len() {
            self.full = true;
            return Err(core::fmt::Error);
        }
        Ok(())
    }
}

impl picoserve::io::Write for TxBuffer {
    /// Formats straight into the transmit buffer (picoserve writes every response head line
    /// with `write!`); a string that does not fit is sent in parts, formatted again for each.
    async fn write_fmt(&mut self, args: core::fmt::Arguments<'_>) -> Result<(), StackError> {
        let mut skip = 0;
        loop {
            let (done, full, filled) = {
                let mut t = self.tx.borrow_mut();
                let at = t.len;
                let mut out = Formatted {
                    buf: &mut t.buf[at..],
                    len: 0,
                    skip,
                    full: false,
                };
                let done = core::fmt::write(&mut out, args).is_ok();
                let (full, filled) = (out.full, out.len);
                t.len += filled;
                (done, full, filled)
            };
            // A `Display` that failed on its own is skipped, as picoserve's own `write_fmt` does.
            if done || !full {
                mark_due(&self.tx, None);
                return Ok(());
            }
            skip += filled;
            self.send().await?;
        }
    }

    async fn write_with<F: FnOnce(BorrowedCursor<'_>) -> R, R>(
        &mut self,
        f: F,
    ) -> Result<R, StackError> {
        if self.tx.borrow().len == TX {
            self.send().await?;
        }
        let mut t = self.tx.borrow_mut();
        let at = t.len;
        let mut buffer = BorrowedBuffer::new(&mut t.buf[at..]);
        let output = f(buffer.unfilled());
        let filled = buffer.filled().len();
        t.len += filled;
        drop(t);
        mark_due(&self.tx, None);
        Ok(output)
    }
}

/// picoserve's read half: sends the connection's buffered answer before it waits for more.
pub struct RxHalf<'a> {
    rx: TcpReader<'a>,
    tx: SharedTx,
}

impl ErrorType for RxHalf<'_> {
    type Error = StackError;
}

impl Read for RxHalf<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, StackError> {
        if self.tx.borrow().len > 0 {
            poll_fn(|cx| self.tx.borrow_mut().poll_send(cx)).await?;
            let sock = self.tx.borrow().sock;
            drop(take_due(sock));
        }
        self.rx.read(buf).await
    }
}

/// Sends connection `sock`'s flushed bytes not sent yet, within the write timeout.
async fn send_flushed<T: picoserve::time::Timer<PetrelRuntime>>(
    sock: u64,
    timeouts: &Timeouts,
    timer: &T,
) -> Result<(), Error<StackError>> {
    let Some(tx) = take_due(sock) else {
        return Ok(());
    };
    let send = poll_fn(|cx| tx.borrow_mut().poll_send(cx));
    let sent = timer.run_with_timeout(timeouts.write, send).await;
    sent.map_err(Error::WriteTimeout)?.map_err(Error::Write)
}

impl Socket<PetrelRuntime> for TcpStream {
    type Error = StackError;
    type ReadHalf<'a> = RxHalf<'a>;
    type WriteHalf<'a> = TxBuffer;

    fn split(&mut self) -> (RxHalf<'_>, TxBuffer) {
        let tx = Rc::new(RefCell::new(Tx {
            sock: self.sock,
            buf: vec![0; TX].into_boxed_slice(),
            len: 0,
            due: false,
            waker: None,
        }));
        let (rx, _) = TcpStream::split(self);
        (RxHalf { rx, tx: tx.clone() }, TxBuffer { tx })
    }

    async fn abort<T: picoserve::time::Timer<PetrelRuntime>>(
        self,
        timeouts: &Timeouts,
        timer: &T,
    ) -> Result<(), Error<StackError>> {
        // A flushed answer (a 400 before the reset) is still sent first, as if flushed at once.
        send_flushed(self.sock, timeouts, timer).await?;
        TcpStream::abort(&self).map_err(Error::Write)
    }

    async fn shutdown<T: picoserve::time::Timer<PetrelRuntime>>(
        self,
        timeouts: &Timeouts,
        timer: &T,
    ) -> Result<(), Error<StackError>> {
        // What is buffered, then our FIN, then the peer's, within the timeouts.
        send_flushed(self.sock, timeouts, timer).await?;
        TcpStream::shutdown(&self).await.map_err(Error::Write)?;
        let (mut rx, _) = self.split();
        timer
            .run_with_timeout(timeouts.read_request, rx.discard_all_data())
            .await
            .map_err(Error::ReadTimeout)?
            .map_err(Error::Read)
    }
}
