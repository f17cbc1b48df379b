//! [`petrel_random::Random`] on Xen.
//!
//! - If CPUID reports RDRAND (leaf 1, ECX bit 30; Xen passes it through to PVH guests when
//!   the CPU has it, as the testbed's `-cpu max` does), every word comes from `rdrand`
//!   (retried up to 10 times, as Intel advises).
//! - Otherwise the words come from the same **non-cryptographic** fallback as on virtio
//!   (`petrel_rt_x86::random`): a SplitMix64 sequence seeded once from the TSC and Xen's
//!   wall clock. Fine for TCP initial sequence numbers and DHCP transaction ids; not for
//!   keys.
#![no_std]
#![warn(missing_docs)]

/// The Xen random source.
pub struct XenRandom;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_random::Random for XenRandom {
    fn fill(buf: &mut [u8]) {
        petrel_rt_x86::random::fill(buf, || {
            petrel_platform_xen::cpu::rdtsc()
                ^ petrel_platform_xen::clock::wall_ns().rotate_left(32)
        })
    }
}
