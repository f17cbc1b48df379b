//! Boot: the multiboot v1 header, the 32-bit entry and the switch to long mode.
//!
//! QEMU's `-kernel` (and GRUB's `multiboot`) load a 64-bit ELF only through the header's
//! "a.out kludge" (flags bit 16): the loader copies the file bytes `[load_addr, load_end)`,
//! zeroes up to `bss_end` and jumps to `entry` in 32-bit protected mode with paging off,
//! EAX = 0x2BADB002 and EBX = the physical address of the multiboot information.
//!
//! `_start32` then
//! 1. zeroes `[_edata, _ebss)` itself (a loader that ignores `bss_end` still works);
//! 2. builds page tables in `.bss`: 0-4 GiB identity-mapped with 2 MiB pages, except the first
//!    16 MiB, mapped with 4 KiB pages so that page 0 can be left out (a null dereference
//!    faults) and so can the guard page below the boot stack (a stack overflow faults, and
//!    the page-fault handler runs on its own stack, see [`crate::trap`]) when the image is
//!    smaller than that;
//! 3. loads a GDT (null, 64-bit code 0x08, data 0x10), sets CR4.PAE, CR3, EFER.LME and
//!    CR0.PG, and far-jumps to `_start64`;
//! 4. `_start64` loads the data segments and the boot stack and calls
//!    `rt::boot_main` with the multiboot information address.
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

    /* Zero .bss (the page tables and the stack live there). */
    movl $_edata, %edi
    movl $_ebss, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT. */
    movl $__petrel_pdpt, %eax
    orl $3, %eax
    movl %eax, __petrel_pml4

    /* PDPT[0..4] -> the four page directories. */
    movl $__petrel_pd, %eax
    orl $3, %eax
    movl $__petrel_pdpt, %edi
    movl $4, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 1b

    /* 2048 PD entries: 2 MiB pages, present + writable + PS. */
    movl $__petrel_pd, %edi
    movl $0x83, %eax
    movl $2048, %ecx
1:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    /* The first 16 MiB with 4 KiB pages (PD[0..8] -> 8 page tables). */
    movl $__petrel_pt, %eax
    orl $3, %eax
    movl $__petrel_pd, %edi
    movl $8, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 1b
    /* 4095 PT entries from page 1; entry 0 (page 0) stays absent. */
    movl $__petrel_pt + 8, %edi
    movl $0x1003, %eax
    movl $4095, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 1b
    /* Unmap the stack's guard page if it lies in those 16 MiB. */
    movl $__petrel_stack_guard, %eax
    shrl $12, %eax
    cmpl $4096, %eax
    jae 1f
    movl $0, __petrel_pt(,%eax,8)
1:

    lgdt __petrel_gdt_ptr

    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4

    movl $__petrel_pml4, %eax
    movl %eax, %cr3

    movl $0xC0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr

    movl %cr0, %eax
    orl $0x80000001, %eax
    movl %eax, %cr0

    ljmp $0x08, $_start64

9:  cli
    hlt
    jmp 9b

    .code64
_start64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq $__petrel_boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl %esi, %edi
    call {boot_main}
2:  cli
    hlt
    jmp 2b

    .section .rodata.petrel_gdt, "a"
    .balign 16
__petrel_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
__petrel_gdt_end:
    .balign 8
__petrel_gdt_ptr:
    .word __petrel_gdt_end - __petrel_gdt - 1
    .quad __petrel_gdt

    .section .bss.petrel_boot, "aw", @nobits
    .balign 4096
__petrel_pml4:
    .skip 4096
__petrel_pdpt:
    .skip 4096
__petrel_pd:
    .skip 4 * 4096
__petrel_pt:
    .skip 8 * 4096
    .global __petrel_stack_guard
__petrel_stack_guard:
    .skip 4096
__petrel_boot_stack:
    .skip {stack_size}
__petrel_boot_stack_top:
"#,
    boot_main = sym crate::rt::boot_main,
    stack_size = const STACK_SIZE,
    options(att_syntax)
);
