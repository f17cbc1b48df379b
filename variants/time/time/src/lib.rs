//! Petrel interface: monotonic time, timers and [`sleep`].
//!
//! A target implements [`Time::now_ns`]; everything else here (the timer queue, [`sleep`],
//! [`Timer`]) is target-independent and runs on top of it. The executor asks
//! [`next_deadline`] how long it may idle and calls [`fire_expired`] when it wakes up.
//!
//! [`timeout`] bounds any future. The same queue is the `embassy-time-driver` of every
//! unikernel, so `embassy_time::{Timer, Ticker, with_timeout}` work unchanged (see the
//! `embassy` module).
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

mod embassy;
mod timers;

pub use timers::{Elapsed, Timer, fire_expired, next_deadline, sleep, sleep_until, timeout};

/// Monotonic time.
#[petrel_macros::interface]
pub trait Time {
    /// Nanoseconds since an arbitrary origin fixed at boot. Never goes backwards.
    fn now_ns() -> u64;
}
