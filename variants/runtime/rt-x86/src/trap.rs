//! Interrupt entry as the runtimes see it: the frame [`crate::trap_entry_asm!`] builds, the
//! IDT with its exception stack ([`install`]), and the report of a CPU exception.
//!
//! NMI, double fault, page fault and machine check run on a separate 16 KiB stack (IST 1 of
//! a TSS [`install`] sets up, with its own GDT), so that a boot-stack overflow into the guard
//! page is reported ("stack overflow") rather than escalating to a triple fault.

use core::fmt::Write;

use petrel_rt_core::single_core::BootOnce;

/// What the entry code saved (lowest address first), then what the stub and the CPU pushed.
#[repr(C)]
pub struct TrapFrame {
    /// Saved caller-saved registers.
    pub r11: u64,
    /// Saved.
    pub r10: u64,
    /// Saved.
    pub r9: u64,
    /// Saved.
    pub r8: u64,
    /// Saved.
    pub rdi: u64,
    /// Saved.
    pub rsi: u64,
    /// Saved.
    pub rdx: u64,
    /// Saved.
    pub rcx: u64,
    /// Saved.
    pub rax: u64,
    /// The vector (pushed by the stub).
    pub vector: u64,
    /// The CPU's error code, or 0 (pushed by the stub) for vectors without one.
    pub error: u64,
    /// Where the CPU was.
    pub rip: u64,
    /// Its code segment.
    pub cs: u64,
    /// Its flags.
    pub rflags: u64,
    /// Its stack pointer.
    pub rsp: u64,
    /// Its stack segment.
    pub ss: u64,
}

/// How many vectors [`crate::trap_entry_asm!`] defines stubs for: the 32 exceptions and 16
/// interrupts.
pub const VECTORS: usize = 48;

/// The stubs' addresses, by vector (defined by [`crate::trap_entry_asm!`], which the runtime
/// must include).
#[cfg(target_os = "none")]
pub fn vectors() -> &'static [u64; VECTORS] {
    unsafe extern "C" {
        static __petrel_vectors: [u64; VECTORS];
    }
    // SAFETY: `trap_entry_asm!` defines the table, VECTORS addresses in .rodata.
    unsafe { &__petrel_vectors }
}

/// One 16-byte IDT gate.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Gate {
    off_lo: u16,
    selector: u16,
    ist: u8,
    attr: u8,
    off_mid: u16,
    off_hi: u32,
    zero: u32,
}

impl Gate {
    /// An absent gate.
    pub const EMPTY: Gate = Gate {
        off_lo: 0,
        selector: 0,
        ist: 0,
        attr: 0,
        off_mid: 0,
        off_hi: 0,
        zero: 0,
    };

    /// A present ring-0 64-bit interrupt gate to `addr` in the boot GDT's code segment
    /// (0x08), on interrupt stack `ist` (0: the current stack).
    pub const fn interrupt(addr: u64, ist: u8) -> Gate {
        Gate {
            off_lo: addr as u16,
            selector: 0x08,
            ist,
            attr: 0x8E,
            off_mid: (addr >> 16) as u16,
            off_hi: (addr >> 32) as u32,
            zero: 0,
        }
    }
}

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

/// The size of the exception stack.
const IST_SIZE: usize = 16 * 1024;

/// What [`install`] loads: the GDT (null, code 0x08, data 0x10, TSS 0x18), the TSS, the IDT.
#[repr(C, align(16))]
struct Tables {
    gdt: [u64; 5],
    tss: Tss,
    idt: [Gate; VECTORS],
}

/// Written once by [`install`] at boot (one CPU, interrupts off), then only used by the CPU.
static TABLES: BootOnce<Tables> = BootOnce::new(Tables {
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
    idt: [Gate::EMPTY; VECTORS],
});

/// The IST 1 stack (zero-initialised, so in `.bss`). Rust code only takes its address; the
/// CPU uses it.
#[repr(C, align(16))]
struct IstStack([u8; IST_SIZE]);
static IST_STACK: BootOnce<IstStack> = BootOnce::new(IstStack([0; IST_SIZE]));

/// Vectors that run on IST 1: NMI, double fault, page fault, machine check.
pub const IST_VECTORS: [usize; 4] = [2, 8, 14, 18];

/// Installs a GDT with a TSS whose IST 1 is the exception stack, loads the task register,
/// and loads an IDT whose 48 gates lead to the stubs of [`crate::trap_entry_asm!`] (which
/// the runtime must include, with its `trap` function).
///
/// # Safety
///
/// Call once at boot, with interrupts off, before anything else uses these tables; the
/// runtime's `trap` must be able to run at any instruction where interrupts are enabled.
#[cfg(target_os = "none")]
pub unsafe fn install() {
    // SAFETY: the caller's contract: the only access to TABLES and IST_STACK so far.
    let t = unsafe { TABLES.boot_mut() };
    let top = (IST_STACK.get() as *const IstStack as u64 + IST_SIZE as u64) & !15;
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
    for (vector, (gate, &addr)) in t.idt.iter_mut().zip(vectors()).enumerate() {
        *gate = Gate::interrupt(addr, u8::from(IST_VECTORS.contains(&vector)));
    }
    // SAFETY: every gate leads to a stub of `trap_entry_asm!` (the caller's contract covers
    // its `trap`); the tables are never written again.
    unsafe { load_idt(&TABLES.get().idt) };
}

/// Loads the IDT `gates`.
///
/// # Safety
///
/// Every present gate must lead to a handler that can run at any instruction where
/// interrupts are enabled, and `gates` must stay unchanged while the CPU uses it.
pub unsafe fn load_idt(gates: &'static [Gate]) {
    #[repr(C, packed)]
    struct Idtr {
        limit: u16,
        base: u64,
    }
    let idtr = Idtr {
        limit: (core::mem::size_of_val(gates) - 1) as u16,
        base: gates.as_ptr() as u64,
    };
    // SAFETY: `idtr` describes `gates` (the caller's contract covers the handlers).
    unsafe {
        core::arch::asm!("lidt [{}]", in(reg) &idtr, options(readonly, nostack, preserves_flags))
    };
}

/// The CPU exceptions' names, by vector.
pub const EXCEPTIONS: [&str; 32] = [
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point error",
    "virtualization exception",
    "control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "hypervisor injection",
    "VMM communication",
    "security exception",
    "reserved",
];

/// Writes the report of CPU exception `frame.vector` (< 32) to `out`: the exception, its
/// error code, RIP and RSP, for a page fault CR2 (`cr2`) and whether it hit the boot
/// stack's guard page (`stack_guard`, with the stack's size), then the saved registers.
pub fn report(
    out: &mut impl Write,
    frame: &TrapFrame,
    cr2: u64,
    stack_guard: Option<u64>,
    stack_size: usize,
) {
    let vector = frame.vector as usize;
    let _ = write!(
        out,
        "\npetrel: CPU exception {vector} ({}), error code {:#x}, at rip {:#x}, rsp {:#x}",
        EXCEPTIONS.get(vector).unwrap_or(&"interrupt"),
        frame.error,
        frame.rip,
        frame.rsp
    );
    if vector == 14 {
        let _ = write!(out, ", address {cr2:#x}");
        if let Some(guard) = stack_guard
            && (guard..guard + 4096).contains(&cr2)
        {
            let _ = write!(
                out,
                ": stack overflow (the boot stack is {} KiB)",
                stack_size / 1024
            );
        }
    }
    let _ = writeln!(
        out,
        "\n(rax {:#x} rcx {:#x} rdx {:#x} rsi {:#x} rdi {:#x})",
        frame.rax, frame.rcx, frame.rdx, frame.rsi, frame.rdi
    );
}
