//! The IDT: CPU exceptions are reported and end the unikernel (exit 255); vector
//! [`events::UPCALL_VECTOR`] is the event-channel upcall; the other interrupt vectors
//! (nothing routes to them under PVH) are ignored.
//!
//! The entry stubs and the IDT are the shared `petrel_rt_x86::trap_entry_asm!` and
//! `petrel_rt_x86::trap::install` (page faults on their own stack, so that a stack overflow
//! is reported). Interrupts are enabled
//! only inside [`crate::cpu::sti_hlt_cli`], so the upcall never runs in the middle of Rust
//! code that holds a borrow; it only touches atomics.

use petrel_rt_x86::trap::TrapFrame;

use crate::events;

core::arch::global_asm!(
    petrel_rt_x86::trap_entry_asm!(),
    trap = sym trap,
    options(att_syntax)
);

/// Installs the IDT (and the exception stack). Call once at boot, with interrupts off.
#[cfg(target_os = "none")]
pub fn init() {
    // SAFETY: called once by `boot_main`, interrupts off; `trap` below only touches atomics
    // (or ends the unikernel).
    unsafe { petrel_rt_x86::trap::install() };
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
    petrel_rt_x86::trap::report(
        &mut crate::console::Console,
        frame,
        crate::cpu::cr2(),
        stack_guard(),
        crate::STACK_SIZE,
    );
    crate::exit::exit(255);
}
