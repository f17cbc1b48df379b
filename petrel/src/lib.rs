//! Write unikernels in plain Rust. See the README of the Petrel repository.
#![no_std]
#![warn(missing_docs)]

pub use petrel_macros::{BootArgs, implements, interface, main};

/// Boot arguments: the values the unikernel was started with.
pub use petrel_bootvar as bootargs;
/// Wall-clock time.
pub use petrel_clock as clock;
/// The console.
pub use petrel_console as console;
/// Random bytes.
pub use petrel_random as random;
/// Monotonic time, timers and `sleep`.
pub use petrel_time as time;

#[doc(hidden)]
pub mod __private;
