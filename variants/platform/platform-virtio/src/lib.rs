//! Petrel's runtime for the `virtio` target: an x86_64 guest booted by a multiboot v1 loader
//! (QEMU `-kernel`), with COM1, the PIT, the TSC, the CMOS RTC and legacy virtio-pci devices.
//!
//! What it does, in boot order (see `templates/virtio/README.md` for how to run an image):
//!
//! 1. [`boot`]: multiboot header (a.out kludge), 32-bit entry, page tables, GDT, long mode,
//!    `.bss` zeroed, the boot stack.
//! 2. [`serial`]: COM1 at 115200 8N1, polled (the console).
//! 3. [`multiboot`]: the command line (the loader's first word skipped, at most 8191 bytes)
//!    and the RAM region holding the image; the heap is `[_end, end of that region)` (capped
//!    at 4 GiB, the mapped range), handed to `petrel_rt_core::heap`.
//! 4. [`trap`]: IDT (exceptions print a report and exit 255), PICs remapped to 32-47.
//! 5. [`clock`]: TSC calibrated against PIT channel 2; wall clock from the CMOS RTC.
//! 6. [`devices`]: PCI scan, virtio devices bound to the Solo5 manifest in PCI order.
//! 7. `__petrel_main()`, defined by the generated crate.
//!
//! The interfaces: [`VirtioPlatform`] implements `petrel_platform::Platform` (`idle` is
//! `sti; hlt` until the PIT one-shot for the next deadline or a device interrupt; `exit`
//! goes through `isa-debug-exit`, encoded as [`exit`] documents); the sibling crates
//! `petrel-{time,clock,console,random}-virtio` implement the others on top of [`clock`] and
//! [`serial`].
//!
//! Device crates use [`block`] and [`net`]: `acquire(name)` (or `acquire_handle(index)`)
//! once, then synchronous sector I/O, or non-blocking frame I/O with
//! [`net::Interface::register_waker`] for input.
//!
//! Everything that only makes sense on the bare machine (the boot code, the panic handler,
//! the exported interface symbols) is compiled only for `target_os = "none"`, so that the
//! host workspace still builds and tests the rest.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]
// On a hosted target the boot path that calls the drivers is compiled out.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

extern crate alloc;

/// Declares the image's Solo5 manifest (devices bound in PCI order); the generated crate
/// calls it once.
pub use petrel_rt_core::solo5_manifest;

pub mod block;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod boot;
pub mod clock;
pub mod devices;
pub mod exit;
pub mod idle;
pub mod multiboot;
pub mod net;
pub mod pci;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod rt;
pub mod serial;
pub mod trap;
pub mod virtio;

/// Single x86 instructions, shared with the xen runtime.
pub use petrel_rt_x86::cpu;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use rt::cmdline;

/// Size of the boot stack (in `.bss`, above an unmapped guard page), on which the whole
/// unikernel runs.
pub const STACK_SIZE: usize = 512 * 1024;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
petrel_rt_core::solo5_abi_note!(ABI_TARGET_VIRTIO, VIRTIO_ABI_VERSION);

/// The command line as text (invalid UTF-8 replaced).
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[inline(never)]
fn cmdline_text() -> alloc::string::String {
    alloc::string::String::from_utf8_lossy(cmdline()).into_owned()
}

/// The virtio runtime.
pub struct VirtioPlatform;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_platform::Platform for VirtioPlatform {
    // Small enough to be inlined into the runtime under LTO, so that the code for argv (which
    // this target never gives) is left out of the image.
    fn raw_args() -> petrel_platform::RawArgs {
        petrel_platform::RawArgs::Cmdline(cmdline_text())
    }

    fn idle(deadline_ns: u64) {
        idle::idle(deadline_ns)
    }

    fn exit(code: i32) -> ! {
        exit::exit(code)
    }
}
