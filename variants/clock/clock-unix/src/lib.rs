//! [`petrel_clock::Clock`] on unix: `CLOCK_REALTIME` through `std::time::SystemTime`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The host's wall clock.
pub struct UnixClock;

#[petrel_macros::implements]
impl petrel_clock::Clock for UnixClock {
    fn wall_ns() -> u64 {
        // A host clock set before 1970 reads as the epoch.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}
