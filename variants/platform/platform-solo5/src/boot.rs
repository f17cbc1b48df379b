//! Boot: the entry point, what the tender told us, the heap.

use petrel_rt_core::single_core::BootOnce;
use petrel_rt_core::solo5::MftEntry;

/// Target-specific boot facts.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// Before boot (and in host unit tests).
    Unbooted,
    /// hvt: the TSC at boot and `2^32 * 1e9 / cpu_cycle_freq`.
    #[cfg_attr(not(feature = "hvt"), allow(dead_code))]
    Hvt { tsc_base: u64, tsc_mult: u64 },
    /// spt: the tender's epoll fd and timerfd.
    #[cfg_attr(feature = "hvt", allow(dead_code))]
    Spt { epollfd: i32, timerfd: i32 },
}

/// What the tender passed in its boot info.
#[derive(Clone, Copy)]
pub(crate) struct Boot {
    /// Usable guest memory; the stack starts at its top.
    pub(crate) mem_size: u64,
    /// Address of the NUL-terminated command line, or 0.
    pub(crate) cmdline: usize,
    /// Address of the tender's patched copy of `struct mft`, or 0.
    pub(crate) mft: usize,
    /// Target-specific facts.
    pub(crate) target: Target,
}

/// Written once by `_start` before any other code runs, read-only afterwards.
static BOOT: BootOnce<Boot> = BootOnce::new(Boot {
    mem_size: 0,
    cmdline: 0,
    mft: 0,
    target: Target::Unbooted,
});

/// The boot facts (all zero before boot).
pub(crate) fn boot() -> &'static Boot {
    BOOT.get()
}

/// Longest command line the tenders pass, NUL included.
const CMDLINE_SIZE: usize = 8192;

/// The command line (empty before boot).
pub fn cmdline() -> &'static [u8] {
    let p = boot().cmdline as *const u8;
    if p.is_null() {
        return &[];
    }
    let mut n = 0;
    // SAFETY: the tender put a NUL-terminated string of at most CMDLINE_SIZE bytes at `p`, in
    // read-only low memory that stays mapped; we never read past CMDLINE_SIZE - 1.
    unsafe {
        while n < CMDLINE_SIZE - 1 && *p.add(n) != 0 {
            n += 1;
        }
        core::slice::from_raw_parts(p, n)
    }
}

/// The tender's boot manifest: index = handle, entry 0 reserved. Empty before boot or if the
/// copy is invalid.
pub fn manifest() -> &'static [MftEntry] {
    // SAFETY: the tender left a patched `struct mft` at this address in low memory, which
    // stays mapped and is never written after boot.
    unsafe { petrel_rt_core::solo5::boot_manifest(boot().mft as *const u8) }.unwrap_or(&[])
}

/// Stack kept below `mem_size` (the initial stack pointer); the heap ends there. There is no
/// guard page: a deeper stack runs into the heap.
pub const STACK_SIZE: usize = 256 * 1024;
/// Smallest heap the runtime accepts; less aborts at boot.
pub const MIN_HEAP: usize = 64 * 1024;

#[cfg(target_os = "none")]
unsafe extern "C" {
    /// End of the image (every segment, BSS included), defined by the linker script.
    static _end: u8;
}

#[cfg(target_os = "none")]
unsafe extern "Rust" {
    /// The unikernel's main function, defined by the generated crate.
    fn __petrel_main() -> !;
}

/// The entry point, called by the tender (hvt: RDI = 0x10000, spt: RDI = 0x11000; RSP =
/// `mem_size - 8`). Reads the boot info, sets up the heap and calls `__petrel_main`.
///
/// # Safety
///
/// Only the tender calls it, once, with its boot info.
#[cfg(target_os = "none")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start(bi: *const u8) -> ! {
    // Keep the ABI note in the image whatever the linker's garbage collection does.
    core::hint::black_box(&crate::sys::__PETREL_SOLO5_ABI_NOTE);
    // SAFETY: `bi` is what the tender passed; nothing has read BOOT yet.
    unsafe { *BOOT.boot_mut() = crate::sys::parse_boot_info(bi) };
    let heap_start = (&raw const _end) as usize;
    let heap_start = heap_start.next_multiple_of(4096);
    let heap_end = (boot().mem_size as usize).saturating_sub(STACK_SIZE);
    if heap_end < heap_start + MIN_HEAP {
        crate::console_write(b"Solo5: not enough memory for the heap and the stack (try --mem)\n");
        crate::exit(255);
    }
    // SAFETY: [heap_start, heap_end) lies between the end of the image and the stack reserve
    // in guest RAM, used by nothing else; this is the only initialisation.
    unsafe { petrel_rt_core::heap::init_heap(heap_start, heap_end) };
    // SAFETY: the generated crate defines `__petrel_main` with this signature.
    unsafe { __petrel_main() }
}
