//! Single x86 instructions: port I/O, CPUID, MSRs, the TSC, CR2, the interrupt flag and `hlt`.

use core::arch::asm;

/// Writes a byte to an I/O port.
#[inline]
pub fn outb(port: u16, value: u8) {
    // SAFETY: port I/O has no memory effects visible to Rust; the ports a runtime writes
    // (COM1, PIC, PIT, CMOS, PCI, virtio, isa-debug-exit, Xen's 0xE9) belong to it alone.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

/// Writes a 16-bit word to an I/O port.
#[inline]
pub fn outw(port: u16, value: u16) {
    // SAFETY: as in `outb`.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
    }
}

/// Writes a 32-bit word to an I/O port.
#[inline]
pub fn outl(port: u16, value: u32) {
    // SAFETY: as in `outb`.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
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

/// Reads a 16-bit word from an I/O port.
#[inline]
pub fn inw(port: u16) -> u16 {
    let v: u16;
    // SAFETY: as in `inb`.
    unsafe {
        asm!("in ax, dx", out("ax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Reads a 32-bit word from an I/O port.
#[inline]
pub fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: as in `inb`.
    unsafe {
        asm!("in eax, dx", out("eax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// The time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtsc` only reads the counter (CR4.TSD is clear: we run at ring 0 anyway).
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
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
/// `msr` must exist and `value` must be one whose effect the caller knows.
#[inline]
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: the caller's contract.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
            options(nostack, preserves_flags))
    }
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
/// interrupts by one instruction, so an interrupt that is already pending wakes the `hlt`
/// instead of being taken before it: no wake-up is lost between the caller's last check and
/// the halt. (Under Xen, an HVM guest's `hlt` with interrupts on is `SCHEDOP_block`.)
#[inline]
pub fn sti_hlt_cli() {
    // SAFETY: the runtimes' interrupt handlers (entered through `trap_entry_asm!`) save every
    // register they use and only touch atomics, so running them here, between two
    // instructions, is sound.
    unsafe { asm!("sti", "hlt", "cli", options(nostack)) }
}

/// Disables interrupts and halts forever.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: stopping the CPU with interrupts off has no memory effect.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) }
    }
}
