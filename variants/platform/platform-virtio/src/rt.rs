//! The Rust side of boot, the panic handler and the command line.

use core::fmt::Write;

use petrel_rt_core::cmdline::BootCmdline;

use crate::serial::Serial;
use crate::{clock, devices, exit, multiboot, serial, trap};

/// The command line, copied out of the multiboot area (which may lie where the heap goes) by
/// `boot_main` before any other code runs.
static CMDLINE: BootCmdline = BootCmdline::new();

/// The command line the unikernel was booted with, the loader's first word (the kernel file
/// name) skipped.
pub fn cmdline() -> &'static [u8] {
    CMDLINE.get()
}

/// Heap below this many bytes is refused, as Solo5 does.
const MIN_HEAP: usize = 512 * 1024;
/// The page tables map 4 GiB; the heap stays below.
const MAPPED_END: u64 = 1 << 32;

/// Called by `_start64` on the boot stack, with the multiboot information address.
pub extern "C" fn boot_main(mbi: u32) -> ! {
    serial::init();
    // SAFETY: `mbi` is what the loader passed in EBX and nothing has been written since.
    let info = unsafe { multiboot::parse(mbi as usize) };
    let args = multiboot::skip_first_word(info.cmdline);
    // SAFETY: single-threaded boot, nothing has read CMDLINE yet; the loader's area and
    // CMDLINE (in .bss) do not overlap.
    unsafe { CMDLINE.store(args) };

    unsafe extern "C" {
        static _end: u8;
    }
    // The multiboot information (and its strings and memory map) may sit right after the
    // image; everything we need from it is copied, so the heap may reuse that memory.
    let heap_start = (&raw const _end) as usize;
    let heap_end = info.ram_end.min(MAPPED_END) as usize;
    if heap_end < heap_start + MIN_HEAP {
        let _ = writeln!(
            Serial,
            "petrel: not enough memory (RAM ends at {heap_end:#x}, image at {heap_start:#x})"
        );
        exit::exit(255);
    }
    // SAFETY: [_end, end of the RAM region holding the image) is RAM that nothing else uses:
    // the image, its .bss (with the stack) end at `_end`, and the multiboot data was copied.
    unsafe { petrel_rt_core::heap::init_heap(heap_start, heap_end) };

    trap::init();
    clock::init();
    devices::init();

    unsafe extern "Rust" {
        /// Defined by the generated crate (docs/architecture.md, runtime contract).
        fn __petrel_main() -> !;
    }
    // SAFETY: the generated crate defines `__petrel_main` with this signature; memory,
    // console, clock and devices are ready.
    unsafe { __petrel_main() }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    petrel_rt_core::panic::report(info, serial::write);
    exit::exit(255)
}
