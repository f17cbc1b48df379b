//! [`petrel_clock::Clock`] on Solo5: hvt asks the tender (WALLTIME hypercall, the host's
//! `CLOCK_REALTIME`); spt reads `CLOCK_REALTIME` itself.
#![no_std]
#![warn(missing_docs)]

/// The host's wall clock.
pub struct Solo5Clock;

#[petrel_macros::implements]
impl petrel_clock::Clock for Solo5Clock {
    fn wall_ns() -> u64 {
        petrel_platform_solo5::wall_ns()
    }
}
