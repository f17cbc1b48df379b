//! The guest with an empty manifest (only the reserved entry).
#![no_std]
#![no_main]

use hvt_test_guest::{BootInfo, Entry, Notes};

#[unsafe(link_section = ".note.solo5.abi")]
#[used]
static ABI: hvt_test_guest::AbiNote = hvt_test_guest::ABI_NOTE;

#[unsafe(link_section = ".note.solo5.manifest")]
#[used]
static MFT: Notes<1> = Notes::new([Entry::reserved()]);

/// The entry point: `rdi` = the boot information.
///
/// # Safety
/// Called only by the tender, with a valid boot information pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start(bi: *const BootInfo) -> ! {
    // SAFETY: the tender passes a valid boot information pointer.
    hvt_test_guest::main(unsafe { &*bi })
}
