//! [`petrel_random::Random`] on Xen.
//!
//! - If CPUID reports RDRAND (leaf 1, ECX bit 30; Xen passes it through to PVH guests when
//!   the CPU has it, as the testbed's `-cpu max` does), every word comes from `rdrand`
//!   (retried up to 10 times, as Intel advises).
//! - Otherwise the words come from the same **non-cryptographic** fallback as on virtio: a
//!   SplitMix64 sequence seeded once from the TSC and the wall clock. Fine for TCP initial
//!   sequence numbers and DHCP transaction ids; not for keys.
#![no_std]
#![warn(missing_docs)]

/// The Xen random source.
pub struct XenRandom;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod source {
    use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

    use petrel_platform_xen::{clock, cpu};

    /// 0: not probed; 1: RDRAND; 2: SplitMix64.
    static SOURCE: AtomicU8 = AtomicU8::new(0);
    /// The SplitMix64 state.
    static STATE: AtomicU64 = AtomicU64::new(0);

    fn rdrand() -> Option<u64> {
        (0..10).find_map(|_| {
            let (v, ok): (u64, u8);
            // SAFETY: only called once CPUID reported RDRAND; writes two registers.
            unsafe {
                core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok,
                    options(nomem, nostack))
            };
            (ok != 0).then_some(v)
        })
    }

    /// The next 64 bits.
    pub fn next() -> u64 {
        if SOURCE.load(Ordering::Relaxed) == 0 {
            let has_rdrand = cpu::cpuid(1).2 & (1 << 30) != 0 && rdrand().is_some();
            STATE.store(
                cpu::rdtsc() ^ clock::wall_ns().rotate_left(32),
                Ordering::Relaxed,
            );
            SOURCE.store(if has_rdrand { 1 } else { 2 }, Ordering::Relaxed);
        }
        if SOURCE.load(Ordering::Relaxed) == 1
            && let Some(v) = rdrand()
        {
            return v;
        }
        // SplitMix64 (one thread: a plain load/store pair is enough).
        let s = STATE
            .load(Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        STATE.store(s, Ordering::Relaxed);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_random::Random for XenRandom {
    fn fill(buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = source::next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
