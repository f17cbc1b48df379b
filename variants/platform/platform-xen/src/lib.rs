//! Petrel's runtime for the `xen` target: an x86_64 PVH guest of a Xen hypervisor, with the
//! PV console ring, the pvclock, event channels and `SCHEDOP_shutdown`.
//!
//! What it does, in boot order (see `README.md` beside this crate for the testbed):
//!
//! 1. [`boot`]: the `XEN_ELFNOTE_PHYS32_ENTRY` note and the 32-bit entry, then
//!    `petrel_rt_x86::long_mode_asm!`: page tables (4 GiB identity-mapped), GDT, long mode,
//!    `.bss` zeroed, the boot stack.
//! 2. [`hypercall`]: Xen found through CPUID ("XenVMMXenVMM"), the hypercall page installed
//!    through its MSR. Without Xen the image prints one line (port 0xE9 and COM1) and stops.
//! 3. [`start_info`]: the command line from `hvm_start_info`, then the RAM map
//!    (`XENMEM_memory_map`); the heap is `[_end, end of the RAM region holding the image)`.
//! 4. [`console`]: the PV console ring (`HVM_PARAM_CONSOLE_PFN`/`_EVTCHN`).
//! 5. [`trap`]: the IDT (exceptions print a report and exit 255, page faults on their own
//!    stack so that a stack overflow is reported; the upcall vector).
//! 6. [`clock`]: `shared_info` mapped; pvclock (monotonic) and Xen's wall clock.
//! 7. [`events`]: `VIRQ_TIMER` bound, upcalls on a vector; idling blocks the vCPU.
//! 8. `__petrel_main()`, defined by the generated crate.
//!
//! For PV devices: [`ring`], [`xenstore`], [`grant_table`], [`evtchn`], what the frontends
//! share ([`pv`]), and first cuts of [`netfront`] and [`blkfront`].
//!
//! The interfaces: [`XenPlatform`] implements `petrel_platform::Platform` (`idle` blocks
//! until the timer VIRQ for the next deadline or a device's event channel; `exit` prints the
//! status and shuts the domain down, as [`exit`] documents); the sibling crates
//! `petrel-{time,clock,console,random}-xen` implement the others on top of [`clock`],
//! [`console`] and [`cpu`].
//!
//! Everything that only makes sense on the bare machine (the boot code, the panic handler,
//! the exported interface symbols) is compiled only for `target_os = "none"`, so that the
//! host workspace still builds and tests the rest.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]
// On a hosted target the boot path that calls the rest is compiled out.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

extern crate alloc;

/// Declares the image's Solo5-style device manifest (network devices map to `device/vif/N`
/// and block devices to `device/vbd/...` in manifest order); the generated crate calls it
/// once.
pub use petrel_rt_core::solo5_manifest;

pub mod blkfront;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod boot;
pub mod clock;
pub mod console;
pub mod devices;
pub mod events;
pub mod evtchn;
pub mod exit;
pub mod grant_table;
pub mod hypercall;
pub mod netfront;
pub mod pv;
pub mod ring;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod rt;
pub mod start_info;
pub mod trap;
pub mod xenstore;

/// Single x86 instructions, shared with the virtio runtime.
pub use petrel_rt_x86::cpu;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use rt::cmdline;

/// Size of the boot stack (in `.bss`, above an unmapped guard page), on which the whole
/// unikernel runs.
pub const STACK_SIZE: usize = 512 * 1024;

/// The command line as text (invalid UTF-8 replaced).
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[inline(never)]
fn cmdline_text() -> alloc::string::String {
    alloc::string::String::from_utf8_lossy(cmdline()).into_owned()
}

/// The xen runtime.
pub struct XenPlatform;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_platform::Platform for XenPlatform {
    fn raw_args() -> petrel_platform::RawArgs {
        petrel_platform::RawArgs::Cmdline(cmdline_text())
    }

    fn idle(deadline_ns: u64) {
        events::idle(deadline_ns)
    }

    fn exit(code: i32) -> ! {
        exit::exit(code)
    }
}
