//! The hvt target (`solo5-abi.md` §1): guest memory layout, the boot information, the
//! CPU state at entry and the hypercalls.

/// Guest memory granularity: `--mem` is rounded down to a multiple of 2 MiB.
pub const MEM_ALIGN: u64 = 2 << 20;
/// Smallest guest memory (2 MiB).
pub const MEM_MIN: u64 = MEM_ALIGN;
/// Largest guest memory (4 GiB).
pub const MEM_MAX: u64 = 1 << 32;
/// Default `--mem`, in MiB.
pub const DEFAULT_MEM_MIB: u64 = 512;

/// Guest-physical address of the tender's boot GDT (in a page the guest cannot see).
pub const GDT_ADDR: u64 = 0x1000;
/// Guest-physical address of the PML4; CR3 at entry.
pub const PML4_ADDR: u64 = 0x2000;
/// Guest-physical address of the PDPT.
pub const PDPT_ADDR: u64 = 0x3000;
/// Guest-physical address of the first of the four page directories (0x4000–0x7FFF).
pub const PD_ADDR: u64 = 0x4000;
/// Guest-physical address of the page table of the first 2 MiB.
pub const PT0_ADDR: u64 = 0x8000;
/// Below this address, guest memory is not mapped in the guest's page tables.
pub const LOW_UNMAPPED_END: u64 = 0x10000;

/// Page-table entry: present.
pub const PTE_PRESENT: u64 = 1 << 0;
/// Page-table entry: writable.
pub const PTE_WRITABLE: u64 = 1 << 1;
/// Page-directory entry: a 2 MiB page.
pub const PDE_HUGE: u64 = 1 << 7;

/// The boot GDT: null, 64-bit code (selector 0x08), data (selector 0x10).
pub const GDT: [u64; 3] = [0, 0x00AF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF];
/// Code segment selector at entry.
pub const CODE_SELECTOR: u16 = 0x08;
/// Data segment selector at entry (SS, DS, ES, FS, GS).
pub const DATA_SELECTOR: u16 = 0x10;
/// CR0 at entry: PE | NE | WP | PG.
pub const CR0: u64 = 0x8001_0021;
/// CR4 at entry: PAE | OSFXSR | OSXMMEXCPT.
pub const CR4: u64 = 0x620;
/// EFER at entry: LME | LMA.
pub const EFER: u64 = 0x500;
/// RFLAGS at entry: only the reserved bit 1 (interrupts off).
pub const RFLAGS: u64 = 0x2;

/// Guest-physical address of `struct hvt_boot_info`; RDI at entry.
pub const BOOT_INFO_ADDR: u64 = 0x10000;
/// Size of `struct hvt_boot_info`.
pub const BOOT_INFO_SIZE: u64 = 56;
/// Guest-physical address of the patched manifest copy (right after the boot info).
pub const MFT_ADDR: u64 = BOOT_INFO_ADDR + BOOT_INFO_SIZE;
/// Size of the command-line buffer, NUL included (`HVT_CMDLINE_SIZE`).
pub const CMDLINE_SIZE: usize = 8192;

/// Offsets of the fields of `struct hvt_boot_info`.
pub mod boot_info {
    /// u64 `mem_size`: usable guest memory, the top of the stack.
    pub const MEM_SIZE: usize = 0;
    /// u64 `kernel_end`.
    pub const KERNEL_END: usize = 8;
    /// u64 `cpu_cycle_freq`: TSC frequency in Hz.
    pub const CPU_CYCLE_FREQ: usize = 16;
    /// u64 `cmdline`: guest address of the NUL-terminated command line.
    pub const CMDLINE: usize = 24;
    /// u64 `mft`: guest address of the patched manifest.
    pub const MFT: usize = 32;
    /// u32 `host_features` (bit 0: the net ring, never offered by Petrel's tender).
    pub const HOST_FEATURES: usize = 40;
    /// u32 `guest_features`.
    pub const GUEST_FEATURES: usize = 44;
    /// u64 `net_ring`: guest address of the net ring, or 0.
    pub const NET_RING: usize = 48;
}

/// I/O port of hypercall 0: hypercall `nr` is a 4-byte `out` to `HYPERCALL_PORT_BASE + nr`.
pub const HYPERCALL_PORT_BASE: u16 = 0x500;

/// The hypercalls (`enum hvt_hypercall`) and the layouts of their argument structures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hypercall {
    /// 1: `{0: nsecs out}`, host `CLOCK_REALTIME`.
    Walltime,
    /// 2: `{0: data, 8: len}`, write to the tender's stdout.
    Puts,
    /// 3: `{0: timeout_nsecs in, 8: ready_set out, 16: ret i32 out}`.
    Poll,
    /// 4: `{0: handle, 8: offset, 16: data, 24: len, 32: ret}`.
    BlockWrite,
    /// 5: as BlockWrite, `len` in and out.
    BlockRead,
    /// 6: `{0: handle, 8: data, 16: len, 24: ret}`.
    NetWrite,
    /// 7: as NetWrite, `len` in = buffer size, out = frame length.
    NetRead,
    /// 8: `{0: cookie, 8: exit_status i32}`, never returns.
    Halt,
}

impl Hypercall {
    /// The hypercall of port `port`, if it is one.
    pub fn from_port(port: u16) -> Option<Hypercall> {
        Some(match port.checked_sub(HYPERCALL_PORT_BASE)? {
            1 => Hypercall::Walltime,
            2 => Hypercall::Puts,
            3 => Hypercall::Poll,
            4 => Hypercall::BlockWrite,
            5 => Hypercall::BlockRead,
            6 => Hypercall::NetWrite,
            7 => Hypercall::NetRead,
            8 => Hypercall::Halt,
            _ => return None,
        })
    }

    /// The hypercall number.
    pub fn number(self) -> u16 {
        match self {
            Hypercall::Walltime => 1,
            Hypercall::Puts => 2,
            Hypercall::Poll => 3,
            Hypercall::BlockWrite => 4,
            Hypercall::BlockRead => 5,
            Hypercall::NetWrite => 6,
            Hypercall::NetRead => 7,
            Hypercall::Halt => 8,
        }
    }

    /// Size of the argument structure.
    pub fn struct_size(self) -> u64 {
        match self {
            Hypercall::Walltime => 8,
            Hypercall::Puts | Hypercall::Halt => 16,
            Hypercall::Poll => 24,
            Hypercall::BlockWrite | Hypercall::BlockRead => 40,
            Hypercall::NetWrite | Hypercall::NetRead => 32,
        }
    }
}

/// `solo5_result_t`: success.
pub const RESULT_OK: u32 = 0;
/// `solo5_result_t`: try again (NET_READ with nothing pending).
pub const RESULT_AGAIN: u32 = 1;
/// `solo5_result_t`: invalid argument (bad handle, offset or length).
pub const RESULT_EINVAL: u32 = 2;
/// `solo5_result_t`: unspecified error.
pub const RESULT_EUNSPEC: u32 = 3;

/// Bytes a HALT cookie may point to (`HVT_HALT_COOKIE_MAX`).
pub const HALT_COOKIE_MAX: u64 = 512;
