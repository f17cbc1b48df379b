//! [`petrel_platform::Platform`] on unix: a Linux process.
//!
//! Idling sleeps in `poll(2)` until the next timer; devices that own file descriptors register
//! them with [`register_fd`] so that input wakes their task.

use petrel_platform::RawArgs;
use std::cell::RefCell;
use std::task::Waker;

/// The unix runtime.
pub struct UnixPlatform;

thread_local! {
    /// File descriptors some task waits on, with the poll events and the waker to call.
    static WAITERS: RefCell<Vec<(i32, i16, Waker)>> = const { RefCell::new(Vec::new()) };
}

/// Wakes `waker` the next time the executor idles and `fd` has any of `events`
/// (`libc::POLLIN`, `libc::POLLOUT`). One-shot: register again after each wake-up.
///
/// A task that registers the same descriptor and events again before it is woken is kept
/// once: a driver that polls a device on every wake-up would otherwise pile up entries until
/// `poll(2)` refuses the list (EINVAL past `RLIMIT_NOFILE`).
pub fn register_fd(fd: i32, events: i16, waker: &Waker) {
    WAITERS.with(|w| {
        let mut waiters = w.borrow_mut();
        let known = waiters
            .iter()
            .any(|(f, e, known)| *f == fd && *e == events && known.will_wake(waker));
        if !known {
            waiters.push((fd, events, waker.clone()));
        }
    });
}

fn now_ns() -> u64 {
    petrel_time::now_ns()
}

#[petrel_macros::implements]
impl petrel_platform::Platform for UnixPlatform {
    fn raw_args() -> RawArgs {
        RawArgs::Argv(
            std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
        )
    }

    fn idle(deadline_ns: u64) {
        let timeout_ms: i32 = if deadline_ns == u64::MAX {
            -1
        } else {
            // Round up so that we never wake before the deadline and spin.
            let ns = deadline_ns.saturating_sub(now_ns());
            i32::try_from(ns.div_ceil(1_000_000)).unwrap_or(i32::MAX)
        };
        let waiters = WAITERS.with(|w| std::mem::take(&mut *w.borrow_mut()));
        let mut fds: Vec<libc::pollfd> = waiters
            .iter()
            .map(|&(fd, events, _)| libc::pollfd {
                fd,
                events,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        // poll(2) failed (not interrupted): wake every waiter, so that each task tries its
        // operation again and re-registers, rather than losing its wake-up for good.
        let failed =
            n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted;
        for (pfd, (fd, events, waker)) in fds.iter().zip(waiters) {
            if failed || (n > 0 && pfd.revents != 0) {
                waker.wake();
            } else {
                WAITERS.with(|w| w.borrow_mut().push((fd, events, waker)));
            }
        }
    }

    fn exit(code: i32) -> ! {
        std::process::exit(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The clock `idle` reads.
    use petrel_time_unix as _;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn waiters() -> usize {
        WAITERS.with(|w| w.borrow().len())
    }

    #[test]
    fn a_task_registering_again_is_kept_once_and_woken_when_ready() {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) writes two descriptors into `fds`.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let other = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        // A driver that polls its device at every wake-up registers it every time.
        for _ in 0..10_000 {
            register_fd(fds[0], libc::POLLIN, &waker);
        }
        assert_eq!(waiters(), 1);
        // Another task, or other events, are separate entries.
        register_fd(fds[0], libc::POLLIN, &other);
        register_fd(fds[0], libc::POLLOUT, &waker);
        assert_eq!(waiters(), 3);

        // Nothing to read: a deadline already past returns at once and keeps the waiters.
        petrel_platform::idle(now_ns());
        assert_eq!(count.0.load(Ordering::Relaxed), 0);
        assert_eq!(waiters(), 3);

        // SAFETY: writes one byte from a live buffer to the pipe's write end.
        assert_eq!(unsafe { libc::write(fds[1], [1u8].as_ptr().cast(), 1) }, 1);
        petrel_platform::idle(now_ns());
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert_eq!(
            waiters(),
            1,
            "only the POLLOUT waiter of the read end is left"
        );
        // SAFETY: closes the descriptors pipe(2) opened.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        WAITERS.with(|w| w.borrow_mut().clear());
    }
}
