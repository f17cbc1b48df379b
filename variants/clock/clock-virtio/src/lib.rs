//! [`petrel_clock::Clock`] on virtio: the CMOS RTC read at boot (taken as UTC), advanced by
//! the monotonic clock (`petrel_platform_virtio::clock`).
#![no_std]
#![warn(missing_docs)]

/// The virtio wall clock.
pub struct VirtioClock;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_clock::Clock for VirtioClock {
    fn wall_ns() -> u64 {
        petrel_platform_virtio::clock::wall_ns()
    }
}
