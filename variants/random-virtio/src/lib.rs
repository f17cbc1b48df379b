//! [`petrel_random::Random`] on virtio.
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
mod imp {
    use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

    /// 0 = not probed, 1 = RDRAND, 2 = SplitMix64.
    static SOURCE: AtomicU8 = AtomicU8::new(0);
    static STATE: AtomicU64 = AtomicU64::new(0);

    fn rdrand() -> Option<u64> {
        for _ in 0..10 {
            let v: u64;
            let ok: u8;
            // SAFETY: only called after CPUID reported RDRAND; it writes two registers.
            unsafe {
                core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack))
            };
            if ok != 0 {
                return Some(v);
            }
        }
        None
    }

    fn splitmix() -> u64 {
        // One thread: a plain load/store pair is enough.
        let s = STATE
            .load(Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        STATE.store(s, Ordering::Relaxed);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn source() -> u8 {
        match SOURCE.load(Ordering::Relaxed) {
            0 => {
                let (_, _, ecx, _) = petrel_platform_virtio::cpu::cpuid(1);
                let s = if ecx & (1 << 30) != 0 && rdrand().is_some() {
                    1
                } else {
                    2
                };
                let seed = petrel_platform_virtio::cpu::rdtsc()
                    ^ petrel_platform_virtio::clock::wall_ns().rotate_left(32);
                STATE.store(seed, Ordering::Relaxed);
                SOURCE.store(s, Ordering::Relaxed);
                s
            }
            s => s,
        }
    }

    /// The next 64 random bits.
    pub fn next() -> u64 {
        if source() == 1
            && let Some(v) = rdrand()
        {
            return v;
        }
        splitmix()
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_random::Random for VirtioRandom {
    fn fill(buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = imp::next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
