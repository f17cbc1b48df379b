//! The timer queue: futures register a deadline and a waker; the executor fires them.
//!
//! Most timers never fire: a server arms a read timeout for every request and drops it as
//! soon as the request arrives. So cancelling is O(1) (the waker leaves its slot; the heap
//! entry goes stale and is skipped when it reaches the top, or swept out when stale entries
//! outnumber live ones), arming is a heap push, and polling an armed timer again from the
//! same task touches neither the heap nor the clock.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::cmp::Reverse;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

/// An armed timer's place in the queue: its slot and the registration's unique sequence
/// number (a slot is reused; the sequence number tells the registrations apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Handle {
    slot: usize,
    seq: u64,
}

/// A heap entry, earliest deadline on top; equal deadlines fire in registration order.
type Entry = Reverse<(u64, u64, usize)>;

/// The waker of one armed timer, or `None` once fired or cancelled.
struct Slot {
    seq: u64,
    waker: Option<Waker>,
}

struct Queue {
    next_seq: u64,
    /// Deadlines in order, with stale entries (cancelled or fired timers) among them.
    heap: BinaryHeap<Entry>,
    slots: Vec<Slot>,
    /// Slots without a waker, for the next registrations.
    free: Vec<usize>,
    /// Embassy registrations that may still be armed: `wake_at` looks here for duplicates.
    embassy: Vec<(u64, Handle)>,
}

/// Stale heap entries tolerated beyond the live ones before a sweep.
const SLACK: usize = 64;

impl Queue {
    const fn new() -> Self {
        Queue {
            next_seq: 0,
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            embassy: Vec::new(),
        }
    }

    /// The waker of `handle`'s timer, if it is still armed.
    fn armed(&self, handle: Handle) -> Option<&Waker> {
        let slot = self
            .slots
            .get(handle.slot)
            .filter(|s| s.seq == handle.seq)?;
        slot.waker.as_ref()
    }

    fn is_live(&self, handle: Handle) -> bool {
        self.armed(handle).is_some()
    }

    fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    fn register(&mut self, deadline: u64, waker: &Waker) -> Handle {
        let seq = self.next_seq;
        self.next_seq += 1;
        let armed = Slot {
            seq,
            waker: Some(waker.clone()),
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = armed;
                slot
            }
            None => {
                self.slots.push(armed);
                self.slots.len() - 1
            }
        };
        self.heap.push(Reverse((deadline, seq, slot)));
        if self.heap.len() > 2 * self.live() + SLACK {
            self.sweep();
        }
        Handle { slot, seq }
    }

    /// Disarms `handle` if it is still armed; its waker is returned to be dropped by the
    /// caller outside the queue's borrow.
    fn cancel(&mut self, handle: Handle) -> Option<Waker> {
        if !self.is_live(handle) {
            return None;
        }
        self.free.push(handle.slot);
        self.slots[handle.slot].waker.take()
    }

    /// Drops the stale entries on top of the heap: its top is then live (or it is empty).
    fn skip_stale(&mut self) {
        while let Some(&Reverse((_, seq, slot))) = self.heap.peek() {
            if self.is_live(Handle { slot, seq }) {
                return;
            }
            self.heap.pop();
        }
    }

    /// Removes every stale entry: after it, the heap holds live timers only.
    fn sweep(&mut self) {
        let slots = &self.slots;
        self.heap.retain(|&Reverse((_, seq, slot))| {
            slots[slot].seq == seq && slots[slot].waker.is_some()
        });
    }

    /// Takes the waker of the earliest timer due at `now`, if any.
    fn pop_due(&mut self, now: u64) -> Option<Waker> {
        self.skip_stale();
        let &Reverse((deadline, seq, slot)) = self.heap.peek()?;
        if deadline > now {
            return None;
        }
        self.heap.pop();
        self.cancel(Handle { slot, seq })
    }
}

/// Petrel runs one thread per unikernel, so the queue needs no lock: this wrapper only states
/// that to the compiler. On unix the executor runs on the main thread alone.
struct SingleThreaded(RefCell<Queue>);
// SAFETY: every target runs the executor on one thread and never touches the queue from an
// interrupt handler, so there is no concurrent access.
unsafe impl Sync for SingleThreaded {}

static QUEUE: SingleThreaded = SingleThreaded(RefCell::new(Queue::new()));

fn register(deadline: u64, waker: &Waker) -> Handle {
    QUEUE.0.borrow_mut().register(deadline, waker)
}

fn cancel(handle: Handle) {
    let waker = QUEUE.0.borrow_mut().cancel(handle);
    drop(waker);
}

/// Whether `handle` is still armed (not fired) and wakes `waker`.
fn is_armed_for(handle: Handle, waker: &Waker) -> bool {
    QUEUE
        .0
        .borrow()
        .armed(handle)
        .is_some_and(|w| w.will_wake(waker))
}

/// The earliest registered deadline, in monotonic nanoseconds, or `None` if no timer is armed.
#[doc(hidden)]
pub fn next_deadline() -> Option<u64> {
    let mut q = QUEUE.0.borrow_mut();
    q.skip_stale();
    q.heap.peek().map(|&Reverse((deadline, _, _))| deadline)
}

/// Wakes every timer whose deadline is at or before `now`. Returns how many were woken.
#[doc(hidden)]
pub fn fire_expired(now: u64) -> usize {
    let mut woken = 0;
    loop {
        // One waker at a time, so that waking never runs with the queue borrowed.
        let waker = QUEUE.0.borrow_mut().pop_due(now);
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
    armed: Option<Handle>,
}

impl Timer {
    /// A timer that fires at `deadline_ns` on the [`crate::now_ns`] clock.
    pub fn at(deadline_ns: u64) -> Self {
        Timer {
            deadline: deadline_ns,
            armed: None,
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
        if let Some(handle) = self.armed {
            if is_armed_for(handle, cx.waker()) {
                // Polled again by the same task (a timeout beside I/O that woke it): the
                // executor fires the timer once it is due, in the round it becomes due, so
                // neither the queue nor the clock needs asking.
                return Poll::Pending;
            }
            // Fired, or now polled by another task: it is re-armed below if not due.
            self.armed = None;
            cancel(handle);
        }
        if crate::now_ns() >= self.deadline {
            return Poll::Ready(());
        }
        self.armed = Some(register(self.deadline, cx.waker()));
        Poll::Pending
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(handle) = self.armed.take() {
            cancel(handle);
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
    let mut q = QUEUE.0.borrow_mut();
    let mut known = false;
    let mut embassy = core::mem::take(&mut q.embassy);
    // Forget the fired and cancelled ones while looking (as many as embassy timers pending).
    embassy.retain(|&(at, handle)| {
        let Some(armed) = q.armed(handle) else {
            return false;
        };
        known |= at == deadline && armed.will_wake(waker);
        true
    });
    if !known {
        let handle = q.register(deadline, waker);
        embassy.push((deadline, handle));
    }
    q.embassy = embassy;
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }
    /// The clock of these tests, under the interface's symbol: a real one is a target's
    /// crate, which depends on this one.
    #[unsafe(export_name = "__petrel_v1_Time_now_ns")]
    fn test_clock() -> u64 {
        1_000_000
    }

    fn woken(count: &Count) -> usize {
        count.0.load(Ordering::Relaxed)
    }

    /// Fires what is due at `now` in a local queue, returning how many.
    fn fire(q: &mut Queue, now: u64) -> usize {
        let mut n = 0;
        while let Some(w) = q.pop_due(now) {
            w.wake();
            n += 1;
        }
        n
    }

    #[test]
    fn fires_in_deadline_order_and_equal_deadlines_in_registration_order() {
        let mut q = Queue::new();
        let order = Arc::new(core::sync::atomic::AtomicU64::new(0));
        struct Tag(u64, Arc<core::sync::atomic::AtomicU64>);
        impl Wake for Tag {
            fn wake(self: Arc<Self>) {
                // Appends this tag's digit: the fired order reads left to right.
                let seen = self.1.load(Ordering::Relaxed);
                self.1.store(seen * 10 + self.0, Ordering::Relaxed);
            }
        }
        for (tag, deadline) in [(1, 30), (2, 10), (3, 20), (4, 10)] {
            q.register(deadline, &Waker::from(Arc::new(Tag(tag, order.clone()))));
        }
        assert_eq!(fire(&mut q, 9), 0);
        assert_eq!(fire(&mut q, 20), 3);
        assert_eq!(order.load(Ordering::Relaxed), 243);
        assert_eq!(fire(&mut q, u64::MAX), 1);
        assert_eq!(order.load(Ordering::Relaxed), 2431);
    }

    #[test]
    fn a_cancelled_timer_never_fires_and_its_slot_is_reused_safely() {
        let mut q = Queue::new();
        let (a, wa) = counter();
        let (b, wb) = counter();
        let first = q.register(10, &wa);
        assert!(q.cancel(first).is_some());
        assert!(q.cancel(first).is_none(), "cancelled twice");
        // The slot comes back for the next timer; the old handle no longer names it.
        let second = q.register(20, &wb);
        assert_eq!(second.slot, first.slot);
        assert!(q.cancel(first).is_none());
        assert!(q.is_live(second));
        q.skip_stale();
        assert_eq!(
            q.heap.peek().map(|e| e.0.0),
            Some(20),
            "the stale entry is skipped"
        );
        assert_eq!(fire(&mut q, 100), 1);
        assert_eq!((woken(&a), woken(&b)), (0, 1));
    }

    #[test]
    fn cancelled_entries_are_swept_so_the_heap_stays_bounded() {
        let mut q = Queue::new();
        let (_, w) = counter();
        let long = q.register(u64::MAX, &w);
        for i in 0..10_000 {
            let h = q.register(1_000 + i, &w);
            drop(q.cancel(h));
            // Swept when a registration finds more than 2 live + SLACK entries.
            assert!(
                q.heap.len() <= 2 * (q.live() + 1) + SLACK,
                "heap of {}",
                q.heap.len()
            );
        }
        assert!(q.is_live(long));
        assert_eq!(q.live(), 1);
        assert_eq!(fire(&mut q, u64::MAX - 1), 0);
    }

    /// Random registrations, cancels and firings against a plain list: the queue fires
    /// exactly the armed timers that are due, earliest first, and its next deadline is the
    /// earliest armed one.
    #[test]
    fn matches_a_plain_list_under_random_operations() {
        let mut q = Queue::new();
        // The model: (deadline, seq, handle) of every armed timer.
        let mut model: Vec<(u64, u64, Handle)> = Vec::new();
        let (_, w) = counter();
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut now = 0;
        for _ in 0..20_000 {
            match next(10) {
                0..=4 => {
                    let deadline = now + next(1_000);
                    let h = q.register(deadline, &w);
                    model.push((deadline, h.seq, h));
                }
                5..=7 if !model.is_empty() => {
                    let (_, _, h) = model.swap_remove(next(model.len() as u64) as usize);
                    assert!(q.cancel(h).is_some());
                }
                _ => {
                    now += next(300);
                    model.sort_by_key(|e| (e.0, e.1));
                    let due = model.iter().take_while(|e| e.0 <= now).count();
                    let fired: Vec<u64> = (0..due)
                        .map(|_| {
                            q.skip_stale();
                            let top = q.heap.peek().expect("a due timer").0;
                            assert!(q.pop_due(now).is_some());
                            top.1
                        })
                        .collect();
                    let expected: Vec<u64> = model.drain(..due).map(|e| e.1).collect();
                    assert_eq!(fired, expected);
                    assert!(q.pop_due(now).is_none());
                }
            }
            q.skip_stale();
            let earliest = model.iter().map(|e| e.0).min();
            assert_eq!(q.heap.peek().map(|e| e.0.0), earliest);
            assert_eq!(q.live(), model.len());
        }
    }

    /// The global queue, through `Timer` and `wake_at` (one test: the queue is per thread of
    /// execution, and tests run on several threads).
    #[test]
    fn timers_and_embassy_registrations_on_the_global_queue() {
        let (a, wa) = counter();
        let (_, wb) = counter();
        let queued = || {
            let q = QUEUE.0.borrow();
            (q.live(), q.heap.len())
        };
        let far = crate::now_ns() + 3_600_000_000_000;
        let mut timer = Timer::at(far);
        let mut pinned = Pin::new(&mut timer);
        assert!(
            pinned
                .as_mut()
                .poll(&mut Context::from_waker(&wa))
                .is_pending()
        );
        assert!(
            pinned
                .as_mut()
                .poll(&mut Context::from_waker(&wa))
                .is_pending()
        );
        assert_eq!(
            queued(),
            (1, 1),
            "polled again by the same task: armed once"
        );
        assert!(
            pinned
                .as_mut()
                .poll(&mut Context::from_waker(&wb))
                .is_pending()
        );
        assert_eq!(queued().0, 1, "another task's poll moves the timer");
        drop(timer);
        assert_eq!(queued().0, 0, "dropped: disarmed");

        wake_at(far, &wa);
        wake_at(far, &wa);
        assert_eq!(
            queued().0,
            1,
            "embassy asks on every poll: one registration"
        );
        wake_at(far + 1, &wa);
        assert_eq!(queued().0, 2);
        assert_eq!(fire_expired(far + 1), 2);
        assert_eq!(woken(&a), 2);
        assert_eq!(next_deadline(), None);

        let mut due = Timer::at(0);
        assert!(
            Pin::new(&mut due)
                .poll(&mut Context::from_waker(&wa))
                .is_ready()
        );
    }
}
