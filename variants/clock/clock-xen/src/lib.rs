//! [`petrel_clock::Clock`] on Xen: the wall clock Xen keeps in `shared_info`, advanced by
//! the pvclock (`petrel_platform_xen::clock`).
#![no_std]
#![warn(missing_docs)]

/// The Xen wall clock.
pub struct XenClock;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_clock::Clock for XenClock {
    fn wall_ns() -> u64 {
        petrel_platform_xen::clock::wall_ns()
    }
}
