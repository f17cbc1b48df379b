//! [`petrel_time::Time`] on Solo5: hvt reads the TSC and scales it by the tender's
//! `cpu_cycle_freq` (no exit); spt reads the host's `CLOCK_MONOTONIC`.
#![no_std]
#![warn(missing_docs)]

/// The Solo5 monotonic clock.
pub struct Solo5Time;

#[petrel_macros::implements]
impl petrel_time::Time for Solo5Time {
    fn now_ns() -> u64 {
        petrel_platform_solo5::monotonic_ns()
    }
}
