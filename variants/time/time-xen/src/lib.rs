//! [`petrel_time::Time`] on Xen: the pvclock of `shared_info`
//! (`petrel_platform_xen::clock`).
#![no_std]
#![warn(missing_docs)]

/// The Xen monotonic clock.
pub struct XenTime;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_time::Time for XenTime {
    fn now_ns() -> u64 {
        petrel_platform_xen::clock::monotonic_ns()
    }
}
