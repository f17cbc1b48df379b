//! Petrel runtime on Solo5 **hvt** and **spt** (Solo5 v0.12.1 guest ABI). `no_std`.
//!
//! Enable exactly one of the features `hvt` (hypercalls through `outl`, loaded by `solo5-hvt`)
//! and `spt` (raw Linux syscalls under seccomp, loaded by `solo5-spt`); `petrel configure`
//! does it from `[package.metadata.petrel.target-features]`. Build for `x86_64-unknown-none`
//! with `-C relocation-model=static -C code-model=small`, `panic=abort`, and the linker script
//! from `templates/solo5/link.ld.j2`.
//!
//! What this crate owns in an image:
//! - `_start(boot_info)`: reads the boot info, gives the heap `[_end rounded up to 4 KiB,
//!   mem_size - STACK_SIZE)` to the allocator of `petrel-rt-core`, then calls
//!   `__petrel_main`, which the generated crate defines.
//! - The `ABI1` note (`hvt`: target 1 version 2; `spt`: target 2 version 2). The `MFT1`
//!   manifest note is emitted by the generated crate with [`solo5_manifest!`] (always, even
//!   with no device: the tenders refuse an image without one), listing the devices in a
//!   fixed order (the first is handle 1).
//! - The `#[panic_handler]`: the message on the console, then exit 255.
//! - The implementation of [`petrel_platform::Platform`].
//!
//! Its low-level API, for the `*-solo5` implementation crates and device drivers:
//! [`console_write`], [`monotonic_ns`], [`wall_ns`], [`yield_until`], [`exit`], [`abort`],
//! [`cmdline`], [`manifest`], [`wake_on_input`], and net and block I/O ([`net_acquire`],
//! [`net_info`], [`net_read`], [`net_write`], [`block_acquire`], [`block_info`],
//! [`block_read`], [`block_write`]). Bad input to these returns an [`Error`]; it never panics.
//!
//! On a hosted target without either feature (a workspace `cargo check`, unit tests) the
//! crate compiles with the spt backend and without the entry point, panic handler and
//! allocator, so that it type-checks; it is not a way to run anything.
#![no_std]
#![warn(missing_docs)]
// A hosted build only type-checks: the boot path that uses the backend is not compiled.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

extern crate alloc;

#[cfg(all(feature = "hvt", feature = "spt"))]
compile_error!(
    "petrel-platform-solo5: enable exactly one of the features `hvt` and `spt`, not both"
);
#[cfg(all(not(feature = "hvt"), not(feature = "spt"), target_os = "none"))]
compile_error!("petrel-platform-solo5: enable exactly one of the features `hvt` and `spt`");

mod boot;
mod dev;
#[cfg(feature = "hvt")]
#[path = "hvt.rs"]
mod sys;
#[cfg(not(feature = "hvt"))]
#[path = "spt.rs"]
mod sys;

#[cfg(target_os = "none")]
pub use boot::_start;
pub use boot::{MIN_HEAP, STACK_SIZE, cmdline, manifest};
pub use dev::{
    BlockInfo, DeviceKind, NetInfo, block_acquire, block_info, block_read, block_write, lookup,
    net_acquire, net_info, net_read, net_write, wake_on_input,
};
pub use petrel_rt_core::solo5::LookupError;
/// Emits the image's `MFT1` manifest note (re-exported from `petrel-rt-core`, so that the
/// generated crate needs no other dependency):
/// `petrel_platform_solo5::solo5_manifest!(("service0", NET_BASIC), ("disk", BLOCK_BASIC));`.
pub use petrel_rt_core::solo5_manifest;

use alloc::string::String;
use petrel_platform::RawArgs;

/// A device handle: its index in the manifest (the first device is 1).
pub type Handle = u64;

/// Why an I/O call failed (Solo5's `solo5_result_t`, less OK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Nothing to read now; try again after the device's input wakes you.
    Again,
    /// Bad argument: unknown handle, wrong device type, misaligned offset, wrong size, beyond
    /// the capacity.
    Invalid,
    /// The host failed.
    Unspecified,
    /// The device was already acquired: Solo5 hands each device out once.
    Busy,
}

/// Exit status of [`abort`] and of a panic.
pub const EXIT_ABORT: i32 = 255;

/// Writes `bytes` to the console (hvt: PUTS; spt: `write(1)`). Best effort.
pub fn console_write(bytes: &[u8]) {
    sys::puts(bytes);
}

/// Monotonic time in nanoseconds since an arbitrary origin (hvt: TSC since boot scaled by
/// `cpu_cycle_freq`; spt: the host's `CLOCK_MONOTONIC`).
pub fn monotonic_ns() -> u64 {
    sys::monotonic_ns(boot::boot())
}

/// Wall-clock time in nanoseconds since the Unix epoch (hvt: WALLTIME; spt: `CLOCK_REALTIME`).
pub fn wall_ns() -> u64 {
    sys::wall_ns()
}

/// Blocks until [`monotonic_ns`] reaches `deadline_ns` (`u64::MAX`: no deadline) or a NIC has
/// input (hvt: POLL; spt: timerfd + `epoll_pwait`). Wakes the wakers registered with
/// [`wake_on_input`] for the ready NICs and returns the set of ready handles (bit *i* =
/// handle *i*). May return early.
pub fn yield_until(deadline_ns: u64) -> u64 {
    let ready = sys::poll(boot::boot(), deadline_ns);
    dev::wake_ready(ready);
    ready
}

/// Ends the unikernel with `code` (hvt: HALT; spt: `exit_group`). Solo5 reserves codes ≥ 255
/// (255 is abort).
pub fn exit(code: i32) -> ! {
    sys::halt(code)
}

/// Ends the unikernel with [`EXIT_ABORT`].
pub fn abort() -> ! {
    sys::halt(EXIT_ABORT)
}

/// The command line as text (invalid UTF-8 replaced).
#[inline(never)]
fn cmdline_text() -> String {
    String::from_utf8_lossy(cmdline()).into_owned()
}

/// The Solo5 runtime.
pub struct Solo5Platform;

#[petrel_macros::implements]
impl petrel_platform::Platform for Solo5Platform {
    // Small enough to be inlined into the runtime under LTO, so that the code for argv (which
    // Solo5 never gives) is left out of the image.
    fn raw_args() -> RawArgs {
        RawArgs::Cmdline(cmdline_text())
    }

    fn idle(deadline_ns: u64) {
        yield_until(deadline_ns);
    }

    fn exit(code: i32) -> ! {
        exit(code)
    }
}

/// Prints the panic message on the console, then exits with 255.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    petrel_rt_core::panic::report(info, console_write);
    abort()
}
