//! `before_idle` hooks run when no task is ready, before the executor sleeps: work a hook
//! finishes there (here: waking the only task) is done without waiting for a timer or input.

use petrel_platform_unix as _;
use petrel_time_unix as _;
use std::cell::RefCell;
use std::future::poll_fn;
use std::task::{Poll, Waker};
use std::time::Duration;

thread_local! {
    /// The waker of the task waiting for the hook, and how often the hook woke it.
    static WAITING: RefCell<(Option<Waker>, u32)> = const { RefCell::new((None, 0)) };
}

/// The hook: wakes the waiting task, if any; whether it did.
fn wake_waiting() -> bool {
    WAITING.with_borrow_mut(|(waker, woken)| match waker.take() {
        Some(w) => {
            w.wake();
            *woken += 1;
            true
        }
        None => false,
    })
}

#[test]
fn hooks_run_before_the_executor_idles() {
    petrel_executor::before_idle(wake_waiting);
    let woken = petrel_executor::block_on(async {
        // Pending once with nothing else to run: only the hook can wake it (the timeout is
        // the failure, 5 s).
        let mut first = true;
        let wait = poll_fn(|cx| {
            if std::mem::take(&mut first) {
                WAITING.with_borrow_mut(|w| w.0 = Some(cx.waker().clone()));
                return Poll::Pending;
            }
            Poll::Ready(())
        });
        petrel_time::timeout(Duration::from_secs(5), wait).await
    });
    assert_eq!(woken, Ok(()), "the hook did not run before idling");
    assert_eq!(WAITING.with_borrow(|w| w.1), 1);
}
