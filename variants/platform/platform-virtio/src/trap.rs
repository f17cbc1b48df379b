//! The IDT, CPU exceptions, the 8259 PICs and interrupt bookkeeping.
//!
//! Interrupts are enabled only inside [`crate::cpu::sti_hlt_cli`], so a handler never runs in
//! the middle of Rust code that holds a borrow: handlers only touch atomics and ports.
//!
//! - Vectors 0-31 (CPU exceptions) print the exception, the error code, RIP (and CR2 for a
//!   page fault) on the console and exit 255, instead of letting the CPU triple-fault. NMI,
//!   double fault, page fault and machine check run on a separate 16 KiB stack
//!   (`petrel_rt_x86::trap::install`), so that a boot-stack overflow into the guard page is
//!   reported ("stack overflow") rather than escalating to a triple fault.
//! - Vectors 32-47 are the remapped PIC IRQs 0-15. IRQ 0 is the PIT; any other line is a
//!   device line. The handler acknowledges every virtio device on the line (reading its ISR
//!   register deasserts the level-triggered INTx) and records it in [`take_device_events`].

use core::sync::atomic::{AtomicU16, AtomicU64, Ordering};

use petrel_rt_x86::trap::TrapFrame;

use crate::cpu::{inb, outb};

core::arch::global_asm!(
    petrel_rt_x86::trap_entry_asm!(),
    trap = sym trap,
    options(att_syntax)
);

/// Device lines: bit `n` set = IRQ `n` has at least one virtio device.
static DEVICE_LINES: AtomicU16 = AtomicU16::new(0);
/// Events not yet taken: bit `h` = device handle `h` interrupted (bit 0: the PIT).
static EVENTS: AtomicU64 = AtomicU64::new(0);

/// PIC ports.
const PIC1: u16 = 0x20;
const PIC2: u16 = 0xA0;

/// Fills and loads the IDT, remaps the PICs to vectors 32-47 and masks every line but the
/// PIT (IRQ 0) and the cascade (IRQ 2). Call once, with interrupts off.
pub fn init() {
    // SAFETY: called once at boot, interrupts off; `trap` below only touches atomics and
    // ports (or ends the unikernel).
    #[cfg(target_os = "none")]
    unsafe {
        petrel_rt_x86::trap::install()
    };

    // ICW1: init + ICW4; ICW2: vector offsets; ICW3: cascade on IRQ 2; ICW4: 8086 mode.
    outb(PIC1, 0x11);
    outb(PIC2, 0x11);
    outb(PIC1 + 1, 32);
    outb(PIC2 + 1, 40);
    outb(PIC1 + 1, 4);
    outb(PIC2 + 1, 2);
    outb(PIC1 + 1, 0x01);
    outb(PIC2 + 1, 0x01);
    outb(PIC1 + 1, !0b101);
    outb(PIC2 + 1, 0xFF);
}

/// Unmasks IRQ `line` for a device.
pub fn enable_device_line(line: u8) {
    if line >= 16 || line == 0 || line == 2 {
        return;
    }
    DEVICE_LINES.fetch_or(1 << line, Ordering::SeqCst);
    if line < 8 {
        outb(PIC1 + 1, inb(PIC1 + 1) & !(1 << line));
    } else {
        outb(PIC2 + 1, inb(PIC2 + 1) & !(1 << (line - 8)));
    }
}

/// Takes (and clears) the set of device handles that interrupted since the last call, as a
/// bit mask indexed by handle.
pub fn take_device_events() -> u64 {
    EVENTS.swap(0, Ordering::SeqCst) & !1
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

/// In-service register of one PIC (to tell a spurious IRQ 7/15 from a real one).
fn in_service(pic: u16) -> u8 {
    outb(pic, 0x0B);
    inb(pic)
}

extern "C" fn trap(frame: &TrapFrame) {
    let vector = frame.vector as usize;
    if vector < 32 {
        petrel_rt_x86::trap::report(
            &mut crate::serial::Serial,
            frame,
            crate::cpu::cr2(),
            stack_guard(),
            crate::STACK_SIZE,
        );
        crate::exit::exit(255);
    }
    let line = (vector - 32) as u8;
    // A spurious IRQ 7 or 15 is not in service and gets no EOI (a spurious 15 still needs
    // one on the master, for the cascade).
    if line == 7 && in_service(PIC1) & 0x80 == 0 {
        return;
    }
    if line == 15 && in_service(PIC2) & 0x80 == 0 {
        outb(PIC1, 0x20);
        return;
    }
    if line == 0 {
        EVENTS.fetch_or(1, Ordering::SeqCst);
    } else if DEVICE_LINES.load(Ordering::Relaxed) & (1 << line) != 0 {
        let handles = crate::devices::acknowledge_line(line);
        EVENTS.fetch_or(handles, Ordering::SeqCst);
    }
    if line >= 8 {
        outb(PIC2, 0x20);
    }
    outb(PIC1, 0x20);
}
