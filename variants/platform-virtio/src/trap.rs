//! The IDT, CPU exceptions, the 8259 PICs and interrupt bookkeeping.
//!
//! Interrupts are enabled only inside [`crate::cpu::sti_hlt_cli`], so a handler never runs in
//! the middle of Rust code that holds a borrow: handlers only touch atomics and ports.
//!
//! - Vectors 0-31 (CPU exceptions) print the exception, the error code, RIP (and CR2 for a
//!   page fault) on the console and exit 255, instead of letting the CPU triple-fault. NMI,
//!   double fault, page fault and machine check run on a separate 16 KiB stack (IST 1 of a
//!   TSS this module installs, with its own GDT), so that a boot-stack overflow into the guard
//!   page is reported ("stack overflow") rather than escalating to a triple fault.
//! - Vectors 32-47 are the remapped PIC IRQs 0-15. IRQ 0 is the PIT; any other line is a
//!   device line. The handler acknowledges every virtio device on the line (reading its ISR
//!   register deasserts the level-triggered INTx) and records it in [`take_device_events`].

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU16, AtomicU64, Ordering};

use petrel_rt_core::single_core::BootOnce;
use petrel_rt_x86::trap::{Gate, TrapFrame, VECTORS};

use crate::cpu::{inb, outb};

core::arch::global_asm!(
    petrel_rt_x86::trap_entry_asm!(),
    trap = sym trap,
    options(att_syntax)
);

/// The IDT. Written once by [`init`] before interrupts are first enabled.
static IDT: BootOnce<[Gate; VECTORS]> = BootOnce::new([Gate::EMPTY; VECTORS]);

/// Device lines: bit `n` set = IRQ `n` has at least one virtio device.
static DEVICE_LINES: AtomicU16 = AtomicU16::new(0);
/// Events not yet taken: bit `h` = device handle `h` interrupted (bit 0: the PIT).
static EVENTS: AtomicU64 = AtomicU64::new(0);

/// A 64-bit task-state segment (only the IST pointers are used).
#[repr(C, packed(4))]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

const IST_SIZE: usize = 16 * 1024;

/// What `init` installs: the GDT (null, code 0x08, data 0x10, TSS 0x18) and the TSS.
#[repr(C, align(16))]
struct Tables {
    gdt: [u64; 5],
    tss: Tss,
}

/// The IST 1 stack (zero-initialised, so in `.bss`). Only the CPU uses it.
#[repr(C, align(16))]
struct IstStack(UnsafeCell<[u8; IST_SIZE]>);
// SAFETY: Rust code never reads or writes it; only its address is taken.
unsafe impl Sync for IstStack {}
static IST_STACK: IstStack = IstStack(UnsafeCell::new([0; IST_SIZE]));

struct TablesCell(UnsafeCell<Tables>);
// SAFETY: written once by `init` at boot (one CPU, interrupts off), then only used by the CPU.
unsafe impl Sync for TablesCell {}

static TABLES: TablesCell = TablesCell(UnsafeCell::new(Tables {
    gdt: [0, 0x00AF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF, 0, 0],
    tss: Tss {
        reserved0: 0,
        rsp: [0; 3],
        reserved1: 0,
        ist: [0; 7],
        reserved2: 0,
        reserved3: 0,
        iomap_base: 104,
    },
}));

/// Vectors that run on IST 1: NMI, double fault, page fault, machine check.
const IST_VECTORS: [usize; 4] = [2, 8, 14, 18];

/// Installs a GDT with a TSS whose IST 1 is a dedicated stack, and loads the task register.
fn init_tss() {
    // SAFETY: called once at boot before interrupts are enabled; nothing else accesses TABLES.
    let t = unsafe { &mut *TABLES.0.get() };
    let top = (IST_STACK.0.get() as u64 + IST_SIZE as u64) & !15;
    t.tss.ist = [top, 0, 0, 0, 0, 0, 0];
    let base = &raw const t.tss as u64;
    let limit = (core::mem::size_of::<Tss>() - 1) as u64;
    t.gdt[3] = (limit & 0xFFFF)
        | ((base & 0xFF_FFFF) << 16)
        | (0x89 << 40) // present, 64-bit available TSS
        | (((limit >> 16) & 0xF) << 48)
        | (((base >> 24) & 0xFF) << 56);
    t.gdt[4] = base >> 32;
    #[repr(C, packed)]
    struct Gdtr {
        limit: u16,
        base: u64,
    }
    let gdtr = Gdtr {
        limit: (core::mem::size_of::<[u64; 5]>() - 1) as u16,
        base: t.gdt.as_ptr() as u64,
    };
    // SAFETY: the new GDT has the same code (0x08) and data (0x10) descriptors as the boot
    // GDT, so the loaded segment registers stay valid; 0x18 is the TSS descriptor just built.
    unsafe {
        core::arch::asm!("lgdt [{}]", in(reg) &gdtr, options(readonly, nostack, preserves_flags));
        core::arch::asm!("ltr {0:x}", in(reg) 0x18u16, options(nomem, nostack, preserves_flags));
    }
}

/// PIC ports.
const PIC1: u16 = 0x20;
const PIC2: u16 = 0xA0;

/// Fills and loads the IDT, remaps the PICs to vectors 32-47 and masks every line but the
/// PIT (IRQ 0) and the cascade (IRQ 2). Call once, with interrupts off.
pub fn init() {
    init_tss();
    #[cfg(target_os = "none")]
    {
        // SAFETY: called once at boot, before interrupts are enabled and before anything
        // else reads the IDT, so this is the only access to it.
        let idt = unsafe { IDT.boot_mut() };
        for (vector, (gate, &addr)) in idt
            .iter_mut()
            .zip(petrel_rt_x86::trap::vectors())
            .enumerate()
        {
            *gate = Gate::interrupt(addr, u8::from(IST_VECTORS.contains(&vector)));
        }
        // SAFETY: every gate leads to a stub of `trap_entry_asm!`, which calls `trap` below;
        // the table is never written again.
        unsafe { petrel_rt_x86::trap::load_idt(IDT.get()) };
    }

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
