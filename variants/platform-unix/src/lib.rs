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
pub fn register_fd(fd: i32, events: i16, waker: &Waker) {
    WAITERS.with(|w| w.borrow_mut().push((fd, events, waker.clone())));
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
        for (pfd, (fd, events, waker)) in fds.iter().zip(waiters) {
            if n > 0 && pfd.revents != 0 {
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
