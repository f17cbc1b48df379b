//! [`petrel_time::Time`] on virtio: the TSC, calibrated against the PIT at boot
//! (`petrel_platform_virtio::clock`).
#![no_std]
#![warn(missing_docs)]

/// The virtio monotonic clock.
pub struct VirtioTime;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_time::Time for VirtioTime {
    fn now_ns() -> u64 {
        petrel_platform_virtio::clock::monotonic_ns()
    }
}
