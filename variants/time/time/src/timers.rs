//! The timer queue: futures register a deadline and a waker; the executor fires them.

use alloc::collections::BTreeMap;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

/// Wakers keyed by (deadline, sequence number): the sequence keeps equal deadlines apart and
/// in registration order.
struct Queue {
    next_seq: u64,
    wakers: BTreeMap<(u64, u64), Waker>,
}

/// Petrel runs one thread per unikernel, so the queue needs no lock: this wrapper only states
/// that to the compiler. On unix the executor runs on the main thread alone.
struct SingleThreaded(RefCell<Queue>);
// SAFETY: every target runs the executor on one thread and never touches the queue from an
// interrupt handler, so there is no concurrent access.
unsafe impl Sync for SingleThreaded {}

static QUEUE: SingleThreaded = SingleThreaded(RefCell::new(Queue {
    next_seq: 0,
    wakers: BTreeMap::new(),
}));

fn register(deadline: u64, waker: &Waker) -> u64 {
    let mut q = QUEUE.0.borrow_mut();
    let seq = q.next_seq;
    q.next_seq += 1;
    q.wakers.insert((deadline, seq), waker.clone());
    seq
}

fn unregister(deadline: u64, seq: u64) {
    QUEUE.0.borrow_mut().wakers.remove(&(deadline, seq));
}

/// Whether the entry `(deadline, seq)` is still queued (not fired) and wakes `waker`.
fn is_registered(deadline: u64, seq: u64, waker: &Waker) -> bool {
    let q = QUEUE.0.borrow();
    q.wakers
        .get(&(deadline, seq))
        .is_some_and(|w| w.will_wake(waker))
}

/// The earliest registered deadline, in monotonic nanoseconds, or `None` if no timer is armed.
#[doc(hidden)]
pub fn next_deadline() -> Option<u64> {
    QUEUE.0.borrow().wakers.keys().next().map(|&(d, _)| d)
}

/// Wakes every timer whose deadline is at or before `now`. Returns how many were woken.
#[doc(hidden)]
pub fn fire_expired(now: u64) -> usize {
    let mut woken = 0;
    loop {
        // Take one waker at a time so that waking never runs with the queue borrowed.
        let waker = {
            let mut q = QUEUE.0.borrow_mut();
            match q.wakers.first_key_value() {
                Some((&(d, _), _)) if d <= now => q.wakers.pop_first().map(|(_, w)| w),
                _ => None,
            }
        };
        match waker {
            Some(w) => {
                w.wake();
                woken += 1;
            }
            None => return woken,
        }
    }
}

/// A future that completes at a monotonic deadline.
#[must_use = "a timer does nothing unless awaited"]
pub struct Timer {
    deadline: u64,
    registered: Option<u64>,
}

impl Timer {
    /// A timer that fires at `deadline_ns` on the [`crate::now_ns`] clock.
    pub fn at(deadline_ns: u64) -> Self {
        Timer {
            deadline: deadline_ns,
            registered: None,
        }
    }

    /// A timer that fires `duration` from now.
    pub fn after(duration: Duration) -> Self {
        Self::at(deadline_after(duration))
    }
}

fn deadline_after(duration: Duration) -> u64 {
    let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    crate::now_ns().saturating_add(ns)
}

impl Future for Timer {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let due = crate::now_ns() >= self.deadline;
        if let Some(seq) = self.registered {
            if !due && is_registered(self.deadline, seq, cx.waker()) {
                // Polled again by the same task (a timeout beside I/O that woke it): the
                // entry stands, so the queue is left alone.
                return Poll::Pending;
            }
            self.registered = None;
            unregister(self.deadline, seq);
        }
        if due {
            return Poll::Ready(());
        }
        let seq = register(self.deadline, cx.waker());
        self.registered = Some(seq);
        Poll::Pending
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(seq) = self.registered.take() {
            unregister(self.deadline, seq);
        }
    }
}

/// Waits for `duration`.
///
/// ```no_run
/// # async fn f() {
/// petrel_time::sleep(core::time::Duration::from_secs(1)).await;
/// # }
/// ```
pub fn sleep(duration: Duration) -> Timer {
    Timer::after(duration)
}

/// Waits until the monotonic clock reaches `deadline_ns`.
pub fn sleep_until(deadline_ns: u64) -> Timer {
    Timer::at(deadline_ns)
}

/// Wakes `waker` at `deadline` (monotonic nanoseconds), once: what `embassy-time-driver`'s
/// `schedule_wake` asks. A waker already waiting for that deadline is not added twice, since
/// embassy's timers ask again each time they are polled.
pub(crate) fn wake_at(deadline: u64, waker: &Waker) {
    let known = QUEUE
        .0
        .borrow()
        .wakers
        .range((deadline, 0)..=(deadline, u64::MAX))
        .any(|(_, w)| w.will_wake(waker));
    if !known {
        register(deadline, waker);
    }
}

/// Why [`timeout`] gave up: the duration passed before the future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl core::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("timed out")
    }
}

impl core::error::Error for Elapsed {}

/// Runs `future` for at most `duration`: its output, or [`Elapsed`] (and `future` is
/// dropped) if the time ran out first.
///
/// ```no_run
/// # async fn f(read: impl core::future::Future<Output = usize>) {
/// use core::time::Duration;
/// match petrel_time::timeout(Duration::from_secs(5), read).await {
///     Ok(n) => { /* read n bytes */ }
///     Err(petrel_time::Elapsed) => { /* the peer was too slow */ }
/// }
/// # }
/// ```
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = core::pin::pin!(future);
    let mut timer = Timer::after(duration);
    core::future::poll_fn(|cx| {
        // The future first: one that is ready at the deadline still counts.
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        Pin::new(&mut timer).poll(cx).map(|()| Err(Elapsed))
    })
    .await
}
