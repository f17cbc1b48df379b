//! Boot: the PVH entry note and the 32-bit entry.
//!
//! Xen's PVH loader (and QEMU's `-kernel`, which understands the same note) reads the ELF
//! note `XEN_ELFNOTE_PHYS32_ENTRY` (type 18, name "Xen") and enters its address in 32-bit
//! protected mode with paging off, flat segments and EBX = the physical address of
//! `struct hvm_start_info`; there is no stack. `_start32` checks the start-info magic
//! (anything else halts at once) and goes on with the shared `petrel_rt_x86::long_mode_asm!`
//! (page tables mapping 0-4 GiB, which covers the console ring Xen puts just below 4 GiB;
//! long mode; the boot stack), which calls `rt::boot_main` with the start-info address.
//!
//! No SSE: the image is built for `x86_64-unknown-none` (soft-float).
//!
//! The linker script (`templates/xen/link.ld.j2`) keeps every section in one contiguous
//! range from 0x100000 (libxl refuses an image whose note lies in a segment of its own below
//! the load address) and defines `_edata`, `_ebss` and `_end`.

use crate::STACK_SIZE;

unsafe extern "C" {
    /// The (unmapped) page below the boot stack.
    pub static __petrel_stack_guard: u8;
}

core::arch::global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                 /* namesz: "Xen\0" */
    .long 4                 /* descsz */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long _start32

    .section .text.boot32, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    cmpl $0x336ec578, (%ebx)
    jne 9f
    movl %ebx, %esi
    jmp __petrel_long_mode
9:  cli
    hlt
    jmp 9b
"#,
    options(att_syntax)
);

core::arch::global_asm!(
    petrel_rt_x86::long_mode_asm!(),
    boot_main = sym crate::rt::boot_main,
    stack_size = const STACK_SIZE,
    options(att_syntax)
);
