//! The IDT: CPU exceptions are reported and end the unikernel (exit 255); vector
//! [`events::UPCALL_VECTOR`] is the event-channel upcall.
//!
//! Interrupts are enabled only inside [`crate::cpu::sti_hlt_cli`], so the upcall never runs
//! in the middle of Rust code that holds a borrow; it only touches atomics.

use core::fmt::Write;

use petrel_rt_core::single_core::BootOnce;

use crate::events;

/// What the entry code saved (lowest address first), then what the stub and the CPU pushed.
#[repr(C)]
struct TrapFrame {
    r11: u64,
    r10: u64,
    r9: u64,
    r8: u64,
    rdi: u64,
    rsi: u64,
    rdx: u64,
    rcx: u64,
    rax: u64,
    vector: u64,
    error: u64,
    rip: u64,
    cs: u64,
    rflags: u64,
    rsp: u64,
    ss: u64,
}

/// Number of IDT entries: the 32 exceptions and the upcall.
const VECTORS: usize = 33;

// One stub per vector: push a zero error code where the CPU pushes none (all but 8, 10-14,
// 17, 21, 29, 30), push the vector, and join the common path, which saves the caller-saved
// registers, calls `trap` with the frame, restores them and returns from the interrupt. The
// CPU aligns RSP to 16 before its 5-word frame; with the stub's 2 words and the 9 saved
// registers the call is ABI-aligned.
core::arch::global_asm!(
    r#"
    .section .text.petrel_traps, "ax"
    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31,32
__petrel_xen_vec\n:
    pushq $0
    pushq $\n
    jmp __petrel_xen_trap_common
    .endr
    .irp n, 8,10,11,12,13,14,17,21,29,30
__petrel_xen_vec\n:
    pushq $\n
    jmp __petrel_xen_trap_common
    .endr
__petrel_xen_trap_common:
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
    .global __petrel_xen_vectors
__petrel_xen_vectors:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32
    .quad __petrel_xen_vec\n
    .endr
"#,
    trap = sym trap,
    options(att_syntax)
);

unsafe extern "C" {
    /// The stubs' addresses, by vector.
    static __petrel_xen_vectors: [u64; VECTORS];
}

/// One 16-byte interrupt gate.
#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    off_lo: u16,
    selector: u16,
    ist: u8,
    attr: u8,
    off_mid: u16,
    off_hi: u32,
    zero: u32,
}

#[repr(C, align(16))]
struct Idt([Gate; VECTORS]);

/// The IDT, filled once by [`init`] before interrupts are first enabled.
static IDT: BootOnce<Idt> = BootOnce::new(Idt([Gate {
    off_lo: 0,
    selector: 0,
    ist: 0,
    attr: 0,
    off_mid: 0,
    off_hi: 0,
    zero: 0,
}; VECTORS]));

/// Fills and loads the IDT. Call once at boot, with interrupts off.
pub fn init() {
    // SAFETY: called once by `boot_main` before interrupts are enabled and before the CPU
    // reads the IDT: nothing else accesses it.
    let idt = unsafe { IDT.boot_mut() };
    // SAFETY: the table is defined above, with VECTORS entries.
    let stubs = unsafe { &__petrel_xen_vectors };
    for (gate, &addr) in idt.0.iter_mut().zip(stubs.iter()) {
        *gate = Gate {
            off_lo: addr as u16,
            selector: 0x08, // the boot GDT's 64-bit code segment
            ist: 0,
            attr: 0x8E, // present, ring 0, 64-bit interrupt gate
            off_mid: (addr >> 16) as u16,
            off_hi: (addr >> 32) as u32,
            zero: 0,
        };
    }
    #[repr(C, packed)]
    struct Idtr {
        limit: u16,
        base: u64,
    }
    let idtr = Idtr {
        limit: (core::mem::size_of::<Idt>() - 1) as u16,
        base: IDT.get() as *const Idt as u64,
    };
    // SAFETY: `idtr` describes the static IDT, whose gates all point at the stubs above.
    unsafe {
        core::arch::asm!("lidt [{}]", in(reg) &idtr, options(readonly, nostack, preserves_flags))
    };
}

/// The names of the CPU exceptions that can happen to this runtime; others print a number.
fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        3 => "breakpoint",
        6 => "invalid opcode",
        8 => "double fault",
        13 => "general protection fault",
        14 => "page fault",
        17 => "alignment check",
        18 => "machine check",
        _ => "exception",
    }
}

extern "C" fn trap(frame: &TrapFrame) {
    if frame.vector == u64::from(events::UPCALL_VECTOR) {
        events::upcall();
        return;
    }
    let mut out = crate::console::Console;
    let _ = write!(
        out,
        "\npetrel: CPU exception {} ({}), error code {:#x}, at rip {:#x}, rsp {:#x}",
        frame.vector,
        exception_name(frame.vector),
        frame.error,
        frame.rip,
        frame.rsp
    );
    if frame.vector == 14 {
        let addr = crate::cpu::cr2();
        let _ = write!(out, ", address {addr:#x}");
        #[cfg(all(target_arch = "x86_64", target_os = "none"))]
        {
            let guard = &raw const crate::boot::__petrel_stack_guard as u64;
            if (guard..guard + 4096).contains(&addr) {
                let _ = write!(out, ": stack overflow");
            }
        }
    }
    let _ = writeln!(
        out,
        "\n(rax {:#x} rcx {:#x} rdx {:#x} rsi {:#x} rdi {:#x} r8 {:#x} cs {:#x} rflags {:#x} ss {:#x})",
        frame.rax,
        frame.rcx,
        frame.rdx,
        frame.rsi,
        frame.rdi,
        frame.r8,
        frame.cs,
        frame.rflags,
        frame.ss
    );
    crate::exit::exit(255);
}
