//! Write unikernels in plain Rust. See the README of the Petrel repository.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub use petrel_macros::{BootArgs, implements, interface, main};

/// Block devices (disks): the `Block` handle.
pub use petrel_block as block;
/// Boot arguments: the values the unikernel was started with.
pub use petrel_bootvar as bootargs;
/// Wall-clock time.
pub use petrel_clock as clock;
/// The console.
pub use petrel_console as console;
/// DNS: the `Resolver` handle of a `type = "dns"` device (`Stack::resolve` does the lookups).
pub use petrel_dns as dns;
/// Read-only key-value stores (a directory of files): the `KvRo` handle.
pub use petrel_kv_ro as kv_ro;
/// Network devices (Ethernet frames): the `Net` handle.
pub use petrel_net as net;
/// Random bytes.
pub use petrel_random as random;
/// TCP and UDP over IPv4 and IPv6: the `Stack` handle.
pub use petrel_stack as stack;
/// Monotonic time, timers and `sleep`.
pub use petrel_time as time;

/// Ends the unikernel now with `code`: 0 for success, anything else for failure (mirage's
/// codes: 63 help, 64 bad argument, 255 abort). Returning from the main function exits 0.
pub fn exit(code: i32) -> ! {
    petrel_platform::exit(code)
}

/// Runs a task in the background, beside the main function (see `petrel_executor::spawn`).
pub use petrel_executor::spawn;

pub mod log;

/// What most unikernels need from `alloc`, since a unikernel is `#![no_std]`:
/// `use petrel::prelude::*;`.
pub mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

#[doc(hidden)]
pub mod __private;
