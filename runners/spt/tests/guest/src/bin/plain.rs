//! The guest with an empty manifest (only the reserved entry).
#![no_std]
#![no_main]

use spt_test_guest::{ABI_NOTE, AbiNote, BootInfo, MftEntry, MftNote, RESERVED};

#[unsafe(link_section = ".note.solo5.abi")]
#[used]
static ABI: AbiNote = ABI_NOTE;

#[unsafe(link_section = ".note.solo5.manifest")]
#[used]
static MFT: MftNote<1> = MftNote::new([MftEntry::new(b"", RESERVED)]);

/// The entry point: `rdi` = the boot information.
///
/// # Safety
/// Called only by the runner, with a valid boot information pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start(bi: *const BootInfo) -> ! {
    // SAFETY: the runner passes a valid boot information pointer.
    spt_test_guest::main(unsafe { &*bi })
}
