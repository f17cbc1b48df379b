//! Boot: the multiboot v1 header, the 32-bit entry and the switch to long mode.
//!
//! QEMU's `-kernel` (and GRUB's `multiboot`) load a 64-bit ELF only through the header's
//! "a.out kludge" (flags bit 16): the loader copies the file bytes `[load_addr, load_end)`,
//! zeroes up to `bss_end` and jumps to `entry` in 32-bit protected mode with paging off,
//! EAX = 0x2BADB002 and EBX = the physical address of the multiboot information.
//!
//! `_start32` checks the multiboot magic and goes on with the shared
//! `petrel_rt_x86::long_mode_asm!`, which
//! 1. zeroes `[_edata, _ebss)` itself (a loader that ignores `bss_end` still works);
//! 2. builds page tables in `.bss`: 0-4 GiB identity-mapped with 2 MiB pages, except the first
//!    16 MiB, mapped with 4 KiB pages so that page 0 can be left out (a null dereference
//!    faults) and so can the guard page below the boot stack (a stack overflow faults, and
//!    the page-fault handler runs on its own stack, see [`crate::trap`]) when the image is
//!    smaller than that;
//! 3. loads a GDT (null, 64-bit code 0x08, data 0x10), switches to long mode, loads the
//!    boot stack and calls `rt::boot_main` with the multiboot information address.
//!
//! No SSE: the image is built for `x86_64-unknown-none` (soft-float), so nothing here enables
//! it, and no code may use it.
//!
//! The linker script (`templates/virtio/link.ld.j2`) places `.text.multiboot` first, at
//! 0x100000, and defines `_stext`, `_edata`, `_ebss` and `_end`.

use crate::STACK_SIZE;

unsafe extern "C" {
    /// The (unmapped) page below the boot stack.
    pub static __petrel_stack_guard: u8;
}

// The multiboot magic (0x1BADB002), flags (bit 0 page-align modules, bit 1 memory map,
// bit 16 a.out kludge = 0x00010003) and checksum (-(magic + flags) mod 2^32 = 0xE4514FFB).
core::arch::global_asm!(
    r#"
    .section .text.multiboot, "ax"
    .balign 4
    .global __petrel_multiboot_header
__petrel_multiboot_header:
    .long 0x1BADB002
    .long 0x00010003
    .long 0xE4514FFB
    .long __petrel_multiboot_header
    .long _stext
    .long _edata
    .long _ebss
    .long _start32

    .section .text.boot32, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    cmpl $0x2BADB002, %eax
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
