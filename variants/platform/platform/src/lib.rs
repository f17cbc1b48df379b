//! Petrel interface: the target's runtime. The executor and the generated entry point use it;
//! unikernels rarely need it directly.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

/// Boot arguments as the target delivers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawArgs {
    /// Already split (unix: the process argv, without argv\[0\]).
    Argv(Vec<String>),
    /// One command-line string to be split with the mirage-bootvar rules (Solo5, Xen, virtio).
    Cmdline(String),
}

/// The target's runtime.
#[petrel_macros::interface]
pub trait Platform {
    /// The boot arguments.
    fn raw_args() -> RawArgs;
    /// Blocks until the monotonic clock reaches `deadline_ns` or a device has input.
    /// `u64::MAX` means no timer is armed.
    fn idle(deadline_ns: u64);
    /// Ends the unikernel with `code` (0 success, 63 help, 64 bad argument, 255 abort).
    fn exit(code: i32) -> !;
}
