//! The IDT: CPU exceptions are reported and end the unikernel (exit 255); vector
//! [`events::UPCALL_VECTOR`] is the event-channel upcall; the other interrupt vectors
//! (nothing routes to them under PVH) are ignored.
//!
//! The entry stubs are the shared `petrel_rt_x86::trap_entry_asm!`. Interrupts are enabled
//! only inside [`crate::cpu::sti_hlt_cli`], so the upcall never runs in the middle of Rust
//! code that holds a borrow; it only touches atomics.

use petrel_rt_core::single_core::BootOnce;
use petrel_rt_x86::trap::{Gate, TrapFrame, VECTORS};

use crate::events;

core::arch::global_asm!(
    petrel_rt_x86::trap_entry_asm!(),
    trap = sym trap,
    options(att_syntax)
);

/// The IDT, filled once by [`init`] before interrupts are first enabled.
static IDT: BootOnce<[Gate; VECTORS]> = BootOnce::new([Gate::EMPTY; VECTORS]);

/// Fills and loads the IDT. Call once at boot, with interrupts off.
#[cfg(target_os = "none")]
pub fn init() {
    // SAFETY: called once by `boot_main` before interrupts are enabled and before the CPU
    // reads the IDT: nothing else accesses it.
    let idt = unsafe { IDT.boot_mut() };
    for (gate, &addr) in idt.iter_mut().zip(petrel_rt_x86::trap::vectors()) {
        *gate = Gate::interrupt(addr, 0);
    }
    // SAFETY: every gate leads to a stub of `trap_entry_asm!`, which calls `trap` below;
    // the table is never written again.
    unsafe { petrel_rt_x86::trap::load_idt(IDT.get()) };
}

/// The boot stack's guard page, if the target has one.
fn stack_guard() -> Option<u64> {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    {
        Some(&raw const crate::boot::__petrel_stack_guard as u64)
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    {
        None
    }
}

extern "C" fn trap(frame: &TrapFrame) {
    if frame.vector == u64::from(events::UPCALL_VECTOR) {
        events::upcall();
        return;
    }
    if frame.vector >= 32 {
        return;
    }
    // A stack overflow faults on the guard page and the CPU, on the same stack, cannot push
    // the frame: that double-faults into a triple fault, which Xen reports as a crash
    // (status 255 for a runner) without this report.
    petrel_rt_x86::trap::report(
        &mut crate::console::Console,
        frame,
        crate::cpu::cr2(),
        stack_guard(),
        crate::STACK_SIZE,
    );
    crate::exit::exit(255);
}
