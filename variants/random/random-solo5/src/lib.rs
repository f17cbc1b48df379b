//! [`petrel_random::Random`] on Solo5. Solo5 has no RNG device, so:
//!
//! - if CPUID says the CPU has **RDRAND**, every byte comes from RDRAND (a hardware DRBG);
//! - otherwise (or if RDRAND keeps failing) the bytes come from a **xoshiro256\*\*** generator
//!   seeded once from the TSC, the monotonic clock and the wall clock. That fallback is
//!   **not cryptographic**: its seed is guessable and its output predictable from a few
//!   outputs. Do not derive keys from it. [`has_rdrand`] tells which source is in use.
#![no_std]
#![warn(missing_docs)]

use core::arch::asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU8, Ordering};

/// The Solo5 random source.
pub struct Solo5Random;

#[petrel_macros::implements]
impl petrel_random::Random for Solo5Random {
    fn fill(buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// 0: not probed yet, 1: RDRAND usable, 2: not usable.
static RDRAND: AtomicU8 = AtomicU8::new(0);

/// Whether the bytes come from RDRAND (`false`: the non-cryptographic fallback).
pub fn has_rdrand() -> bool {
    match RDRAND.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let ok = cpuid_1_ecx() & (1 << 30) != 0 && rdrand64().is_some();
            RDRAND.store(if ok { 1 } else { 2 }, Ordering::Relaxed);
            ok
        }
    }
}

fn cpuid_1_ecx() -> u32 {
    let ecx: u32;
    // SAFETY: CPUID is available on every x86_64 CPU and only writes eax/ebx/ecx/edx; rbx is
    // reserved by LLVM, so it is saved in a scratch register and restored.
    unsafe {
        asm!(
            "mov {tmp:r}, rbx",
            "cpuid",
            "mov rbx, {tmp:r}",
            tmp = out(reg) _,
            inout("eax") 1u32 => _,
            inout("ecx") 0u32 => ecx,
            out("edx") _,
            options(nomem, nostack, preserves_flags),
        );
    }
    ecx
}

/// One RDRAND value, retried a few times as Intel advises. `None` if it keeps failing (or
/// returns the all-ones value some broken CPUs give).
fn rdrand64() -> Option<u64> {
    for _ in 0..10 {
        let (v, ok): (u64, u8);
        // SAFETY: only called after CPUID reported RDRAND (or to probe it right after);
        // RDRAND writes a register and CF.
        unsafe {
            asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack))
        };
        if ok != 0 && v != u64::MAX {
            return Some(v);
        }
    }
    None
}

fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: RDTSC only reads the time-stamp counter.
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// The fallback generator's state (all zero: not seeded yet).
struct State(UnsafeCell<[u64; 4]>);
// SAFETY: one CPU, no interrupts, no threads: only the unikernel's thread touches it.
unsafe impl Sync for State {}
static STATE: State = State(UnsafeCell::new([0; 4]));

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn next_u64() -> u64 {
    if has_rdrand()
        && let Some(v) = rdrand64()
    {
        return v;
    }
    // SAFETY: see `State`; no reference to the state outlives this function.
    let s = unsafe { &mut *STATE.0.get() };
    if *s == [0; 4] {
        let mut seed = rdtsc()
            ^ petrel_platform_solo5::wall_ns().rotate_left(32)
            ^ petrel_platform_solo5::monotonic_ns().rotate_left(17);
        for w in s.iter_mut() {
            *w = splitmix64(&mut seed);
        }
    }
    xoshiro256ss(s)
}

fn xoshiro256ss(s: &mut [u64; 4]) -> u64 {
    let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_reference() {
        // First outputs of xoshiro256** from state [1, 2, 3, 4] (the reference implementation).
        let mut s = [1, 2, 3, 4];
        assert_eq!(xoshiro256ss(&mut s), 11520);
        assert_eq!(xoshiro256ss(&mut s), 0);
        assert_eq!(xoshiro256ss(&mut s), 1509978240);
    }

    #[test]
    fn fills_everything() {
        let mut a = [0u8; 37];
        <Solo5Random as petrel_random::Random>::fill(&mut a);
        assert!(a.iter().any(|&b| b != 0));
    }
}
