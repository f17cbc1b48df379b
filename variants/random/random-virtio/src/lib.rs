//! [`petrel_random::Random`] on virtio, through the generator it shares with xen
//! (`petrel_rt_x86::random`).
//!
//! - If CPUID reports RDRAND (leaf 1, ECX bit 30), every byte comes from `rdrand` (retried up
//!   to 10 times per word, as Intel advises; a CPU that keeps failing falls back below).
//! - Otherwise (QEMU's default `qemu64` CPU under TCG has no RDRAND) the bytes come from a
//!   **non-cryptographic** generator: SplitMix64 seeded once from the TSC and the RTC wall
//!   clock at first use. Good enough for TCP initial sequence numbers and DHCP transaction
//!   ids in tests; not for keys. Use a CPU with RDRAND (`-cpu max` under TCG) when it
//!   matters.
#![no_std]
#![warn(missing_docs)]

/// The virtio random source.
pub struct VirtioRandom;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_random::Random for VirtioRandom {
    fn fill(buf: &mut [u8]) {
        petrel_rt_x86::random::fill(buf, || {
            petrel_platform_virtio::cpu::rdtsc()
                ^ petrel_platform_virtio::clock::wall_ns().rotate_left(32)
        })
    }
}
