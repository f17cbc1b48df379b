//! What Petrel's x86_64 runtimes that take over the bare (virtual) machine share: the
//! `virtio` target (multiboot) and the `xen` target (PVH). `no_std`.
//!
//! Both enter in 32-bit protected mode with paging off, build the same page tables, run one
//! thread on one CPU with interrupts enabled only while halted, and report CPU exceptions
//! the same way. The target-specific parts (how the loader hands over, the console, time,
//! devices, how to exit) stay in `petrel-platform-virtio` and `petrel-platform-xen`.
//!
//! - [`cpu`]: single instructions (port I/O, CPUID, MSRs, TSC, CR2, `sti; hlt; cli`).
//! - [`long_mode_asm!`]: the assembly text from "entered in 32-bit mode" to "calling Rust
//!   in long mode on the boot stack" (page tables, GDT, the guard page below the stack).
//! - [`trap_entry_asm!`] and [`trap`]: the 48 interrupt entry stubs, the frame they build,
//!   IDT gates, and the exception names.
//! - [`random`]: RDRAND where the CPU has it, else a seeded SplitMix64 (not cryptographic).
#![no_std]
#![warn(missing_docs)]
// On a hosted target the code that installs the tables is compiled out.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

pub mod cpu;
pub mod random;
pub mod trap;

/// The assembly (AT&T syntax) that takes a 32-bit entry to long mode, for `global_asm!`.
///
/// Jump to `__petrel_long_mode` in 32-bit protected mode, paging off, flat segments,
/// interrupts off, with ESI = the value to pass to `boot_main` (the loader's information
/// pointer). It
/// 1. zeroes `[_edata, _ebss)` (linker-script symbols; the page tables and the stack are
///    there, so a loader that does not zero `.bss` still works);
/// 2. builds page tables: 0-4 GiB identity-mapped with 2 MiB pages, except the first
///    16 MiB, mapped with 4 KiB pages so that page 0 stays unmapped (a null dereference
///    faults) and so does `__petrel_stack_guard`, the page below the boot stack;
/// 3. loads a GDT (null, 64-bit code 0x08, data 0x10), sets CR4.PAE, CR3, EFER.LME and
///    CR0.PG, far-jumps to 64-bit code, loads the data segments and the boot stack, and
///    calls `boot_main(esi)`, which must not return.
///
/// The caller supplies the operands `boot_main = sym ...` and `stack_size = const ...`:
///
/// ```ignore
/// core::arch::global_asm!(
///     petrel_rt_x86::long_mode_asm!(),
///     boot_main = sym crate::rt::boot_main,
///     stack_size = const STACK_SIZE,
///     options(att_syntax)
/// );
/// ```
#[macro_export]
macro_rules! long_mode_asm {
    () => {
        r#"
    .section .text.boot32, "ax"
    .code32
    .global __petrel_long_mode
__petrel_long_mode:
    /* .bss, with the page tables and the stack. */
    movl $_edata, %edi
    movl $_ebss, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT; PDPT[0..4] -> 4 page directories. */
    movl $__petrel_pdpt + 3, __petrel_pml4
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    leal __petrel_pd + 3(%eax), %eax
    movl %eax, __petrel_pdpt(,%ecx,8)
    incl %ecx
    cmpl $4, %ecx
    jne 1b

    /* 2048 PD entries of 2 MiB: present, writable, large. */
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, __petrel_pd(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jne 1b

    /* PD[0..8] -> 8 page tables of 4 KiB pages for the first 16 MiB; page 0 absent. */
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    leal __petrel_pt + 3(%eax), %eax
    movl %eax, __petrel_pd(,%ecx,8)
    incl %ecx
    cmpl $8, %ecx
    jne 1b
    movl $1, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    orl $3, %eax
    movl %eax, __petrel_pt(,%ecx,8)
    incl %ecx
    cmpl $4096, %ecx
    jne 1b
    /* The stack's guard page, if it is in those 16 MiB. */
    movl $__petrel_stack_guard, %eax
    shrl $12, %eax
    cmpl $4096, %eax
    jae 1f
    movl $0, __petrel_pt(,%eax,8)
1:
    lgdt __petrel_gdt_ptr
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $__petrel_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          /* EFER */
    rdmsr
    orl $0x100, %eax                /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG, PE */
    movl %eax, %cr0
    ljmp $0x08, $2f

    .code64
2:  movw $0x10, %ax
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
3:  cli
    hlt
    jmp 3b

    .section .rodata.petrel_gdt, "a"
    .balign 16
__petrel_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
__petrel_gdt_ptr:
    .word __petrel_gdt_ptr - __petrel_gdt - 1
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
    .skip {stack_size}
__petrel_boot_stack_top:
"#
    };
}

/// The assembly (AT&T syntax) of the interrupt entry stubs, for `global_asm!`.
///
/// Defines one stub per vector 0-47, and `__petrel_vectors`, a table of their 48 addresses
/// (in `.rodata`) for [`trap::Gate::interrupt`]. Each stub pushes a zero error code where
/// the CPU pushes none (all but vectors 8, 10-14, 17, 21, 29, 30), then the vector, and
/// joins a common path that saves the caller-saved registers, calls `trap(&TrapFrame)` (see
/// [`trap::TrapFrame`]), restores them and returns from the interrupt. The CPU aligns RSP
/// to 16 before its 5-word frame; with the stub's 2 words and the 9 saved registers, the
/// call is ABI-aligned.
///
/// The caller supplies `trap = sym ...`, an `extern "C" fn(&TrapFrame)`.
#[macro_export]
macro_rules! trap_entry_asm {
    () => {
        r#"
    .section .text.petrel_traps, "ax"
    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
__petrel_vec\n:
    pushq $0
    pushq $\n
    jmp __petrel_trap_common
    .endr
    .irp n, 8,10,11,12,13,14,17,21,29,30
__petrel_vec\n:
    pushq $\n
    jmp __petrel_trap_common
    .endr
__petrel_trap_common:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    movq %rsp, %rdi
    cld
    call {trap}
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    addq $16, %rsp
    iretq

    .section .rodata.petrel_traps, "a"
    .balign 8
    .global __petrel_vectors
__petrel_vectors:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad __petrel_vec\n
    .endr
"#
    };
}
