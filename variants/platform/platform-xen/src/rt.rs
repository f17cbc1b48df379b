//! The Rust side of boot, the panic handler and the command line.

use core::fmt::Write;

use petrel_rt_core::cmdline::BootCmdline;

use crate::console::Console;
use crate::{clock, console, cpu, events, exit, hypercall, start_info, trap};

/// The command line, copied out of the start-info area (which may lie where the heap goes) by
/// `boot_main` before any other code runs.
static CMDLINE: BootCmdline = BootCmdline::new();

/// The command line the unikernel was booted with (xl's `cmdline =`).
pub fn cmdline() -> &'static [u8] {
    CMDLINE.get()
}

/// Heap below this many bytes is refused, as Solo5 does.
const MIN_HEAP: usize = 512 * 1024;
/// The page tables map 4 GiB; the heap stays below.
const MAPPED_END: u64 = 1 << 32;
/// The one line an image started outside Xen prints (on port 0xE9 and COM1) before it stops.
const NOT_XEN: &str = "petrel: this is a Xen PVH image, but CPUID shows no Xen hypervisor (no \"XenVMMXenVMM\" leaf): stopping\n";

/// Says [`NOT_XEN`] where a plain PC emulator shows it, then stops: through QEMU's
/// `isa-debug-exit` at 0xF4 when present (status 255), else halted.
fn not_on_xen() -> ! {
    const COM1: u16 = 0x3F8;
    for &b in NOT_XEN.as_bytes() {
        cpu::outb(console::DEBUG_PORT, b);
        // Bounded wait for COM1's transmitter (a missing UART reads 0xFF: bit set).
        for _ in 0..10_000 {
            if cpu::inb(COM1 + 5) & 0x20 != 0 {
                break;
            }
        }
        cpu::outb(COM1, b);
    }
    cpu::outb(0xF4, 127);
    cpu::halt_forever()
}

/// Called by `_start64` on the boot stack, with the `hvm_start_info` address.
pub extern "C" fn boot_main(start_info: u32) -> ! {
    if !hypercall::init() {
        not_on_xen();
    }
    // SAFETY: `start_info` is what Xen passed in EBX and nothing has been written since.
    let args = unsafe { start_info::cmdline(start_info as usize) };
    // SAFETY: single-threaded boot, nothing has read CMDLINE yet; the loader's area and
    // CMDLINE (in .bss) do not overlap.
    unsafe { CMDLINE.store(args) };

    if !console::init() {
        let _ = writeln!(
            Console,
            "petrel: Xen gives no console ring; output stays on port 0xE9"
        );
    }

    unsafe extern "C" {
        static _end: u8;
    }
    let heap_start = (&raw const _end) as usize;
    let heap_end = start_info::ram_end(0x10_0000).min(MAPPED_END) as usize;
    if heap_end < heap_start + MIN_HEAP {
        let _ = writeln!(
            Console,
            "petrel: not enough memory (RAM ends at {heap_end:#x}, image at {heap_start:#x})"
        );
        exit::exit(255);
    }
    // SAFETY: [_end, end of the RAM region holding the image) is RAM nothing else uses: the
    // image and its .bss (stack, page tables, Xen pages) end at `_end`, the command line was
    // copied, and the console ring and shared_info are outside it.
    unsafe { petrel_rt_core::heap::init_heap(heap_start, heap_end) };

    trap::init();
    if !clock::init() {
        let _ = writeln!(Console, "petrel: Xen refused to map shared_info (no clock)");
        exit::exit(255);
    }
    if let Err(why) = events::init() {
        let _ = writeln!(Console, "petrel: event channels: {why}");
        exit::exit(255);
    }

    unsafe extern "Rust" {
        /// Defined by the generated crate (docs/architecture.md, runtime contract).
        fn __petrel_main() -> !;
    }
    // SAFETY: the generated crate defines `__petrel_main` with this signature; memory,
    // console, clock and events are ready.
    unsafe { __petrel_main() }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    petrel_rt_core::panic::report(info, console::write);
    exit::exit(255)
}
