//! Petrel interface: wall-clock (POSIX) time.
#![no_std]
#![warn(missing_docs)]

/// Wall-clock time.
#[petrel_macros::interface]
pub trait Clock {
    /// Nanoseconds since the Unix epoch (1970-01-01T00:00:00Z), as the host knows it.
    fn wall_ns() -> u64;
}
