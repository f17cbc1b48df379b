//! The `embassy-time-driver` 0.2 of every Petrel unikernel, on Petrel's timer queue.
//!
//! With it, `embassy-time`'s `Timer`, `Ticker`, `with_timeout` and every crate built on them
//! run unchanged on any target: `now` reads [`crate::now_ns`] and `schedule_wake` puts the
//! waker in the same queue as [`crate::sleep`], which the executor fires. `embassy-time-driver`
//! has `links = "embassy-time"`: one driver per binary, so a unikernel must not also turn on
//! another driver (such as `embassy-time`'s `std` feature). The tick rate is whatever
//! `embassy-time`'s `tick-hz-*` feature says (1 MHz by default); ticks are converted here.

use embassy_time_driver::{Driver, TICK_HZ};

/// Petrel's driver: no state beyond the timer queue.
struct PetrelDriver;

const NS_PER_SECOND: u128 = 1_000_000_000;

/// Nanoseconds to ticks, rounding down (a tick is not over until it is complete).
fn ticks(ns: u64) -> u64 {
    u64::try_from(u128::from(ns) * u128::from(TICK_HZ) / NS_PER_SECOND).unwrap_or(u64::MAX)
}

/// Ticks to nanoseconds, rounding up so that a wake-up is never early.
fn nanos(ticks: u64) -> u64 {
    let ns = (u128::from(ticks) * NS_PER_SECOND).div_ceil(u128::from(TICK_HZ));
    u64::try_from(ns).unwrap_or(u64::MAX)
}

impl Driver for PetrelDriver {
    fn now(&self) -> u64 {
        ticks(crate::now_ns())
    }

    fn schedule_wake(&self, at: u64, waker: &core::task::Waker) {
        crate::timers::wake_at(nanos(at), waker);
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: PetrelDriver = PetrelDriver);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_towards_never_early() {
        let tick_ns = 1_000_000_000 / TICK_HZ;
        assert_eq!(ticks(0), 0);
        assert_eq!(ticks(tick_ns - 1), 0);
        assert_eq!(ticks(tick_ns), 1);
        assert_eq!(nanos(1), tick_ns);
        assert_eq!(ticks(nanos(12345)), 12345);
        // Far deadlines (embassy's `Instant::MAX`) saturate instead of wrapping.
        assert_eq!(nanos(u64::MAX), u64::MAX);
    }
}
