//! Boot: the PVH entry note, the 32-bit entry and the switch to long mode.
//!
//! Xen's PVH loader (and QEMU's `-kernel`, which understands the same note) reads the ELF
//! note `XEN_ELFNOTE_PHYS32_ENTRY` (type 18, name "Xen") and enters its address in 32-bit
//! protected mode with paging off, flat segments and EBX = the physical address of
//! `struct hvm_start_info`; there is no stack.
//!
//! `_start32` then
//! 1. checks the start-info magic (anything else halts at once);
//! 2. zeroes `[_edata, _ebss)` (the page tables, the stack and the Xen pages live there);
//! 3. builds page tables: 0-4 GiB identity-mapped with 2 MiB pages (this covers the console
//!    ring Xen puts just below 4 GiB), except the first 16 MiB, mapped with 4 KiB pages so
//!    that page 0 stays unmapped (a null dereference faults) and so does the guard page
//!    below the boot stack;
//! 4. loads a GDT (null, 64-bit code 0x08, data 0x10), sets CR4.PAE, CR3, EFER.LME and
//!    CR0.PG, and far-jumps to `_start64`, which loads the data segments and the boot stack
//!    and calls `rt::boot_main` with the start-info address.
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

    /* .bss, with the page tables and the stack. */
    movl $_edata, %edi
    movl $_ebss, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT; PDPT[0..4] -> 4 page directories. */
    movl $__petrel_xen_pdpt + 3, __petrel_xen_pml4
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    leal __petrel_xen_pd + 3(%eax), %eax
    movl %eax, __petrel_xen_pdpt(,%ecx,8)
    incl %ecx
    cmpl $4, %ecx
    jne 1b

    /* 2048 PD entries of 2 MiB: present, writable, large. */
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, __petrel_xen_pd(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jne 1b

    /* PD[0..8] -> 8 page tables of 4 KiB pages for the first 16 MiB; page 0 absent. */
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    leal __petrel_xen_pt + 3(%eax), %eax
    movl %eax, __petrel_xen_pd(,%ecx,8)
    incl %ecx
    cmpl $8, %ecx
    jne 1b
    movl $1, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    orl $3, %eax
    movl %eax, __petrel_xen_pt(,%ecx,8)
    incl %ecx
    cmpl $4096, %ecx
    jne 1b
    /* The stack's guard page, if it is in those 16 MiB. */
    movl $__petrel_stack_guard, %eax
    shrl $12, %eax
    cmpl $4096, %eax
    jae 1f
    movl $0, __petrel_xen_pt(,%eax,8)
1:
    lgdt __petrel_xen_gdt_ptr
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $__petrel_xen_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          /* EFER */
    rdmsr
    orl $0x100, %eax                /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG, PE */
    movl %eax, %cr0
    ljmp $0x08, $2f

9:  cli
    hlt
    jmp 9b

    .code64
2:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq $__petrel_xen_stack_top, %rsp
    xorl %ebp, %ebp
    movl %esi, %edi
    call {boot_main}
3:  cli
    hlt
    jmp 3b

    .section .rodata.petrel_xen_gdt, "a"
    .balign 16
__petrel_xen_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
__petrel_xen_gdt_ptr:
    .word __petrel_xen_gdt_ptr - __petrel_xen_gdt - 1
    .quad __petrel_xen_gdt

    .section .bss.petrel_xen_boot, "aw", @nobits
    .balign 4096
__petrel_xen_pml4:
    .skip 4096
__petrel_xen_pdpt:
    .skip 4096
__petrel_xen_pd:
    .skip 4 * 4096
__petrel_xen_pt:
    .skip 8 * 4096
    .global __petrel_stack_guard
__petrel_stack_guard:
    .skip 4096
    .skip {stack_size}
__petrel_xen_stack_top:
"#,
    boot_main = sym crate::rt::boot_main,
    stack_size = const STACK_SIZE,
    options(att_syntax)
);
