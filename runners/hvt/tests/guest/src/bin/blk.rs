//! The guest with one BLOCK_BASIC device, "disk" (handle 1).
#![no_std]
#![no_main]

use hvt_test_guest::{BootInfo, Entry, Notes};

#[unsafe(link_section = ".note.solo5.abi")]
#[used]
static ABI: hvt_test_guest::AbiNote = hvt_test_guest::ABI_NOTE;

#[unsafe(link_section = ".note.solo5.manifest")]
#[used]
static MFT: Notes<2> = Notes::new([Entry::reserved(), Entry::block(b"disk")]);

/// The entry point: `rdi` = the boot information.
///
/// # Safety
/// Called only by the tender, with a valid boot information pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start(bi: *const BootInfo) -> ! {
    // SAFETY: the tender passes a valid boot information pointer.
    hvt_test_guest::main(unsafe { &*bi })
}
