//! Time from Xen's `shared_info` page: the pvclock of vCPU 0 (monotonic) and the wall clock
//! Xen keeps beside it.
//!
//! `XENMEM_add_to_physmap(XENMAPSPACE_shared_info)` puts `shared_info` over a page of ours
//! ([`hypercall::__petrel_shared_info`]). In it, `vcpu_info[0].time` (a `vcpu_time_info`,
//! at offset 32) gives Xen's system time (ns since the host booted) at a TSC stamp, with
//! the scale to extrapolate from the TSC; `wc_sec`/`wc_nsec`/`wc_sec_hi` give the wall
//! clock at system time 0. Each is guarded by a version that is odd while Xen updates it.

use core::sync::atomic::{AtomicU64, Ordering, fence};

use crate::{cpu, hypercall};

/// Offset of `vcpu_info[0].time` in `shared_info`.
const VCPU0_TIME: usize = 32;
/// Offset of `wc_version` (after 32 `vcpu_info`s and the two 64-word event bitmaps).
const WC_VERSION: usize = 3072;

/// Xen system time at boot (the origin of the monotonic clock).
static ORIGIN: AtomicU64 = AtomicU64::new(0);

/// The address `shared_info` is mapped at (0 until [`init`]).
pub fn shared_info() -> usize {
    SHARED_INFO.load(Ordering::Relaxed) as usize
}
static SHARED_INFO: AtomicU64 = AtomicU64::new(0);

/// Maps `shared_info` and takes the monotonic origin. `false` if Xen refused the mapping.
pub fn init() -> bool {
    let page = (&raw const hypercall::__petrel_shared_info) as u64;
    // SAFETY: our page-aligned, otherwise unused page, which from now on is `shared_info`.
    if unsafe { hypercall::add_to_physmap(hypercall::MAPSPACE_SHARED_INFO, 0, page >> 12) }.is_err()
    {
        return false;
    }
    SHARED_INFO.store(page, Ordering::Relaxed);
    ORIGIN.store(system_time_ns(), Ordering::Relaxed);
    true
}

/// A snapshot of `vcpu_time_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeInfo {
    /// TSC at the time of the last update.
    pub tsc_timestamp: u64,
    /// System time (ns) at `tsc_timestamp`.
    pub system_time: u64,
    /// TSC ticks to ns: multiply by this 32.32 fixed-point factor...
    pub tsc_to_system_mul: u32,
    /// ... after shifting the tick count by this many bits (left if positive).
    pub tsc_shift: i8,
}

impl TimeInfo {
    /// System time (ns) at TSC value `tsc`.
    pub fn at(&self, tsc: u64) -> u64 {
        // A TSC read before Xen's stamp (the stamp moved on between our reads) counts as no
        // time passed: wrapping would put the clock centuries ahead, and a timer set from it
        // would never fire.
        let delta = tsc.saturating_sub(self.tsc_timestamp);
        let delta = if self.tsc_shift >= 0 {
            delta << self.tsc_shift
        } else {
            delta >> -self.tsc_shift
        };
        let ns = (u128::from(delta) * u128::from(self.tsc_to_system_mul)) >> 32;
        self.system_time.wrapping_add(ns as u64)
    }
}

fn read<T: Copy>(addr: usize) -> T {
    // SAFETY: only called with addresses inside the mapped `shared_info` page, which Xen
    // updates concurrently (hence volatile, and the version protocol around it).
    unsafe { core::ptr::read_volatile(addr as *const T) }
}

/// Reads `vcpu_info[0].time` consistently (retrying while Xen updates it).
fn time_info(si: usize) -> TimeInfo {
    let base = si + VCPU0_TIME;
    loop {
        let v1: u32 = read(base);
        fence(Ordering::Acquire);
        let t = TimeInfo {
            tsc_timestamp: read(base + 8),
            system_time: read(base + 16),
            tsc_to_system_mul: read(base + 24),
            tsc_shift: read(base + 28),
        };
        fence(Ordering::Acquire);
        let v2: u32 = read(base);
        if v1 == v2 && v1 & 1 == 0 {
            return t;
        }
        core::hint::spin_loop();
    }
}

/// Xen system time now (ns since the host booted); 0 before [`init`].
pub fn system_time_ns() -> u64 {
    let si = shared_info();
    if si == 0 {
        return 0;
    }
    time_info(si).at(cpu::rdtsc())
}

/// Monotonic nanoseconds since boot: never less than a value it returned before (Xen's
/// updates of the pvclock may step back a little against the TSC extrapolation).
pub fn monotonic_ns() -> u64 {
    let now = system_time_ns().saturating_sub(ORIGIN.load(Ordering::Relaxed));
    LATEST.fetch_max(now, Ordering::Relaxed).max(now)
}

/// The largest [`monotonic_ns`] so far.
static LATEST: AtomicU64 = AtomicU64::new(0);

/// Xen system time at monotonic time `monotonic_ns`: what `set_timer_op` takes.
pub fn system_time_at(monotonic_ns: u64) -> u64 {
    ORIGIN.load(Ordering::Relaxed).saturating_add(monotonic_ns)
}

/// Wall-clock nanoseconds since the Unix epoch: Xen's wall clock at system time 0 plus the
/// system time now. 0 before [`init`].
pub fn wall_ns() -> u64 {
    let si = shared_info();
    if si == 0 {
        return 0;
    }
    let base = si + WC_VERSION;
    let (sec, nsec) = loop {
        let v1: u32 = read(base);
        fence(Ordering::Acquire);
        let sec_lo: u32 = read(base + 4);
        let nsec: u32 = read(base + 8);
        let sec_hi: u32 = read(base + 12);
        fence(Ordering::Acquire);
        let v2: u32 = read(base);
        if v1 == v2 && v1 & 1 == 0 {
            break ((u64::from(sec_hi) << 32) | u64::from(sec_lo), nsec);
        }
        core::hint::spin_loop();
    };
    sec.saturating_mul(1_000_000_000)
        .saturating_add(u64::from(nsec))
        .saturating_add(system_time_ns())
}

#[cfg(test)]
mod tests {
    use super::TimeInfo;

    #[test]
    fn extrapolates_from_the_tsc() {
        // A 2 GHz TSC: 0.5 ns per tick = 0x8000_0000 / 2^32, no shift.
        let t = TimeInfo {
            tsc_timestamp: 1_000,
            system_time: 5_000_000,
            tsc_to_system_mul: 0x8000_0000,
            tsc_shift: 0,
        };
        assert_eq!(t.at(1_000), 5_000_000);
        assert_eq!(t.at(3_000), 5_001_000);
        // The same with the tick count halved first and the factor doubled (1.0 needs 33 bits,
        // so Xen would shift instead): shift -1, mul 0xFFFF_FFFF ~ 1.
        let t = TimeInfo {
            tsc_shift: -1,
            tsc_to_system_mul: 0xFFFF_FFFF,
            ..t
        };
        assert_eq!(t.at(2_000_001_000), 5_000_000 + 999_999_999);
        // A positive shift: 4 GHz with shift 1 and mul 0.125.
        let t = TimeInfo {
            tsc_shift: 1,
            tsc_to_system_mul: 0x2000_0000,
            ..t
        };
        assert_eq!(t.at(1_000 + 4_000), 5_000_000 + 1_000);
        // A TSC read from before the stamp: the stamp's time, not a wrapped one.
        assert_eq!(t.at(999), 5_000_000);
    }
}
