//! [`petrel_time::Time`] on unix: `CLOCK_MONOTONIC`, read with one `clock_gettime` (vDSO:
//! no system call). Servers read the clock for every request, so it is read directly rather
//! than through `std::time::Instant` (a lazily set origin and a checked subtraction).

use core::sync::atomic::{AtomicU64, Ordering};

/// The unix monotonic clock, counted from the first call.
pub struct UnixTime;

/// `CLOCK_MONOTONIC` at the first call, in nanoseconds; 0 until then.
static ORIGIN: AtomicU64 = AtomicU64::new(0);

/// `CLOCK_MONOTONIC` in nanoseconds (never 0: the kernel's clock starts at boot, long before
/// any process).
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    // Both fields are non-negative for CLOCK_MONOTONIC.
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
        .max(1)
}

#[petrel_macros::implements]
impl petrel_time::Time for UnixTime {
    fn now_ns() -> u64 {
        let now = monotonic_ns();
        let origin = match ORIGIN.load(Ordering::Relaxed) {
            0 => match ORIGIN.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => now,
                Err(first) => first,
            },
            origin => origin,
        };
        now.saturating_sub(origin)
    }
}
