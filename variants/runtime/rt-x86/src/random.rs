//! Random words for runtimes without a random device: RDRAND where the CPU has it (CPUID
//! leaf 1, ECX bit 30; retried up to 10 times per word, as Intel advises), otherwise (or if
//! RDRAND keeps failing) a **non-cryptographic** SplitMix64 sequence seeded once from what
//! the runtime gives (its clocks). Good enough for TCP initial sequence numbers and DHCP
//! transaction ids; not for keys. QEMU's TCG offers RDRAND with `-cpu max`.

use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use crate::cpu;

/// 0: not probed yet; 1: RDRAND; 2: SplitMix64.
static SOURCE: AtomicU8 = AtomicU8::new(0);
/// The SplitMix64 state.
static STATE: AtomicU64 = AtomicU64::new(0);

fn rdrand() -> Option<u64> {
    (0..10).find_map(|_| {
        let (v, ok): (u64, u8);
        // SAFETY: only called once CPUID reported RDRAND; it writes two registers.
        unsafe {
            core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok,
                options(nomem, nostack))
        };
        (ok != 0).then_some(v)
    })
}

/// One step of SplitMix64 from `state`: the new state and the output.
pub fn splitmix64(state: u64) -> (u64, u64) {
    let s = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (s, z ^ (z >> 31))
}

/// Whether the words come from RDRAND (probing on first use, seeding with `seed`).
pub fn has_rdrand(seed: impl FnOnce() -> u64) -> bool {
    if SOURCE.load(Ordering::Relaxed) == 0 {
        let has = cpu::cpuid(1).2 & (1 << 30) != 0 && rdrand().is_some();
        STATE.store(seed(), Ordering::Relaxed);
        SOURCE.store(if has { 1 } else { 2 }, Ordering::Relaxed);
    }
    SOURCE.load(Ordering::Relaxed) == 1
}

/// The next 64 random bits. `seed` is called once, on first use, for the fallback.
pub fn next(seed: impl FnOnce() -> u64) -> u64 {
    if has_rdrand(seed)
        && let Some(v) = rdrand()
    {
        return v;
    }
    // One thread: a plain load/store pair is enough.
    let (s, out) = splitmix64(STATE.load(Ordering::Relaxed));
    STATE.store(s, Ordering::Relaxed);
    out
}

/// Fills `buf` with [`next`] words.
pub fn fill(buf: &mut [u8], seed: impl FnOnce() -> u64) {
    let mut seed = Some(seed);
    for chunk in buf.chunks_mut(8) {
        let v = next(|| seed.take().map_or(0, |f| f())).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::splitmix64;

    #[test]
    fn splitmix64_matches_the_reference() {
        // The first outputs of the reference implementation seeded with 0.
        let (s, a) = splitmix64(0);
        let (_, b) = splitmix64(s);
        assert_eq!(a, 0xE220_A839_7B1D_CDAF);
        assert_eq!(b, 0x6E78_9E6A_A1B9_65F4);
    }
}
