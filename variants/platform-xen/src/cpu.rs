//! Single x86 instructions: port I/O, CPUID, MSRs, the TSC, the interrupt flag and `hlt`.

use core::arch::asm;

/// Writes a byte to an I/O port.
#[inline]
pub fn outb(port: u16, value: u8) {
    // SAFETY: port I/O has no memory effects visible to Rust; the only ports this crate
    // writes are the debug console (0xE9), COM1 and isa-debug-exit, all outside Xen's use.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a byte from an I/O port.
#[inline]
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as in `outb`; reading a device register has no effect on Rust memory.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// `cpuid` leaf `leaf`, sub-leaf 0: `(eax, ebx, ecx, edx)`.
#[inline]
pub fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    // `cpuid` exists on every x86_64 CPU and only reads (the intrinsic saves rbx for LLVM).
    let r = core::arch::x86_64::__cpuid_count(leaf, 0);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Writes model-specific register `msr`.
///
/// # Safety
///
/// `msr` must exist and `value` must be one the caller knows the effect of.
#[inline]
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: the caller's contract.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
            options(nostack, preserves_flags))
    }
}

/// The time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtsc` only reads the counter (we run at ring 0).
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Reads CR2 (the faulting address of the last page fault).
#[inline]
pub fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 at ring 0 has no side effect.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Enables interrupts, halts until one arrives, and disables them again. `sti` delays
/// interrupts by one instruction, so one already pending wakes the `hlt` rather than being
/// taken before it. Under Xen an HVM `hlt` with interrupts on is `SCHEDOP_block`: the vCPU
/// sleeps until an event channel fires (Xen checks for a pending upcall first).
#[inline]
pub fn sti_hlt_cli() {
    // SAFETY: the only interrupt handler that can run (the event-channel upcall, trap.rs)
    // saves every register it uses and touches only atomics and the shared_info page.
    unsafe { asm!("sti", "hlt", "cli", options(nostack)) }
}

/// Disables interrupts and halts forever.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: stopping the CPU with interrupts off has no memory effect.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) }
    }
}
