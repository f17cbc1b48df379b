//! Petrel's single-threaded async executor, the same on every target.
//!
//! [`block_on`] runs the unikernel's main future and every task it [`spawn`]s. When nothing is
//! ready it fires due timers and otherwise idles through the target's own wait primitive
//! ([`petrel_platform::idle`]: `poll(2)` on unix, the POLL hypercall on hvt, `hlt` on virtio),
//! so an idle unikernel uses no CPU.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::pin::{Pin, pin};
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Busy rounds after which [`block_on`] collects device readiness without sleeping, so that
/// tasks waiting for a device are not starved by tasks that keep waking each other.
const BUSY_ROUNDS: u32 = 64;

/// Set by a waker; polled tasks clear their own flag before polling.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

struct Spawned {
    task: Task,
    woken: Arc<Flag>,
    /// `woken` as a waker, made once: making one per poll cost an atomic increment and
    /// decrement each time.
    waker: Waker,
}

/// Tasks spawned but not yet picked up by the run loop.
struct Incoming(RefCell<VecDeque<Task>>);
// SAFETY: the executor and every task run on one thread; see petrel-time's queue.
unsafe impl Sync for Incoming {}
static INCOMING: Incoming = Incoming(RefCell::new(VecDeque::new()));

/// Runs `future` in the background. The task runs until it completes; [`block_on`] returns as
/// soon as its own future completes, whatever spawned tasks are still running.
pub fn spawn(future: impl Future<Output = ()> + 'static) {
    INCOMING.0.borrow_mut().push_back(Box::pin(future));
}

/// Work that waits for the executor to run out of ready tasks (see [`before_idle`]).
struct IdleHooks(RefCell<Vec<fn() -> bool>>);
// SAFETY: the executor and every task run on one thread; see petrel-time's queue.
unsafe impl Sync for IdleHooks {}
static IDLE_HOOKS: IdleHooks = IdleHooks(RefCell::new(Vec::new()));

/// Calls `hook` each time the executor is about to idle (no task ready, no timer due), for
/// work worth batching until then: a network adapter that combines small writes sends them
/// there, so nothing waits longer than the tasks already ready. `hook` returns whether it
/// made progress (woke a task, sent bytes); if any did, the executor runs another round
/// instead of idling. Register a hook once: each registration is called.
pub fn before_idle(hook: fn() -> bool) {
    IDLE_HOOKS.0.borrow_mut().push(hook);
}

/// Runs every [`before_idle`] hook: whether any made progress.
fn run_idle_hooks() -> bool {
    let mut progressed = false;
    // By index, with no borrow held while a hook runs: a hook may register another.
    let mut i = 0;
    loop {
        let hook = IDLE_HOOKS.0.borrow().get(i).copied();
        let Some(hook) = hook else {
            return progressed;
        };
        progressed |= hook();
        i += 1;
    }
}

fn take_incoming() -> Option<Task> {
    INCOMING.0.borrow_mut().pop_front()
}

/// Runs `future` to completion on the current thread, with every spawned task beside it.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut main = pin!(future);
    let main_flag = Arc::new(Flag(AtomicBool::new(true)));
    let main_waker = Waker::from(main_flag.clone());
    let mut tasks: Vec<Spawned> = Vec::new();
    // Rounds in a row that made progress: device readiness is only collected when the
    // executor idles, so a busy unikernel checks it every BUSY_ROUNDS rounds anyway.
    let mut busy_rounds = 0u32;
    loop {
        let mut progressed = false;
        if main_flag.0.swap(false, Ordering::Acquire) {
            progressed = true;
            if let Poll::Ready(out) = main.as_mut().poll(&mut Context::from_waker(&main_waker)) {
                return out;
            }
        }
        while let Some(task) = take_incoming() {
            let woken = Arc::new(Flag(AtomicBool::new(true)));
            let waker = Waker::from(woken.clone());
            tasks.push(Spawned { task, woken, waker });
        }
        tasks.retain_mut(|t| {
            if !t.woken.0.swap(false, Ordering::Acquire) {
                return true;
            }
            progressed = true;
            t.task
                .as_mut()
                .poll(&mut Context::from_waker(&t.waker))
                .is_pending()
        });
        if petrel_time::fire_expired(petrel_time::now_ns()) > 0 {
            progressed = true;
        }
        if !progressed && !has_incoming() && !run_idle_hooks() {
            // Nothing ready: sleep until the next timer or device input.
            busy_rounds = 0;
            petrel_platform::idle(petrel_time::next_deadline().unwrap_or(u64::MAX));
            petrel_time::fire_expired(petrel_time::now_ns());
        } else {
            busy_rounds += 1;
            if busy_rounds >= BUSY_ROUNDS {
                // A deadline already past: collect ready devices without sleeping.
                busy_rounds = 0;
                petrel_platform::idle(petrel_time::now_ns());
            }
        }
    }
}

fn has_incoming() -> bool {
    !INCOMING.0.borrow().is_empty()
}
