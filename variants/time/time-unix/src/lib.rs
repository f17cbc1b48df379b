//! [`petrel_time::Time`] on unix: `CLOCK_MONOTONIC` through `std::time::Instant`.

use std::sync::OnceLock;
use std::time::Instant;

/// The unix monotonic clock, counted from the first call.
pub struct UnixTime;

static ORIGIN: OnceLock<Instant> = OnceLock::new();

#[petrel_macros::implements]
impl petrel_time::Time for UnixTime {
    fn now_ns() -> u64 {
        let origin = *ORIGIN.get_or_init(Instant::now);
        u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}
