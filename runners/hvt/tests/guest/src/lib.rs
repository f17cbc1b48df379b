//! A tiny Solo5 hvt guest: hypercalls by `out`, scenarios chosen by the command line,
//! including the wrong ones a tender must survive. Used only by petrel-hvt's tests.
#![no_std]

use core::arch::asm;
use core::fmt;

/// `struct hvt_boot_info` (solo5-abi.md §1.4).
#[repr(C)]
pub struct BootInfo {
    pub mem_size: u64,
    pub kernel_end: u64,
    pub cpu_cycle_freq: u64,
    pub cmdline: *const u8,
    pub mft: *const u8,
    pub host_features: u32,
    pub guest_features: u32,
    pub net_ring: u64,
}

/// The ABI1 note (§2.2).
#[repr(C, align(4))]
pub struct AbiNote([u32; 9]);

/// The hvt ABI note: "Solo5", type ABI1, target 1, version 2.
pub const ABI_NOTE: AbiNote = AbiNote([
    6,
    16,
    0x3149_4241,
    u32::from_le_bytes(*b"Solo"),
    u32::from_le_bytes(*b"5\0\0\0"),
    1,
    2,
    0,
    0,
]);

/// One `struct mft_entry` (104 bytes): name, type, then zeros.
#[repr(C, align(8))]
pub struct Entry {
    name: [u8; 68],
    ty: u32,
    rest: [u8; 32],
}

impl Entry {
    /// The reserved first entry.
    pub const fn reserved() -> Entry {
        Entry::new(b"", 1 << 30)
    }

    /// A BLOCK_BASIC entry.
    pub const fn block(name: &[u8]) -> Entry {
        Entry::new(name, 1)
    }

    const fn new(name: &[u8], ty: u32) -> Entry {
        let mut n = [0u8; 68];
        let mut i = 0;
        while i < name.len() {
            n[i] = name[i];
            i += 1;
        }
        Entry {
            name: n,
            ty,
            rest: [0; 32],
        }
    }
}

/// The MFT1 note with N entries (§2.3).
#[repr(C, align(8))]
pub struct Notes<const N: usize> {
    header: [u32; 6],
    version: u32,
    entries: u32,
    e: [Entry; N],
}

impl<const N: usize> Notes<N> {
    /// The note around `e` (e[0] must be the reserved entry).
    pub const fn new(e: [Entry; N]) -> Self {
        Notes {
            header: [
                6,
                (4 + 8 + 104 * N) as u32,
                0x3154_464D,
                u32::from_le_bytes(*b"Solo"),
                u32::from_le_bytes(*b"5\0\0\0"),
                0,
            ],
            version: 1,
            entries: N as u32,
            e,
        }
    }
}

/// Hypercall `nr` with its argument structure at `arg`.
fn hypercall<T>(nr: u16, arg: &mut T) {
    raw_out(nr, arg as *mut T as u64);
}

/// A 4-byte `out` of `value` to port 0x500 + `nr`, whatever it points to.
fn raw_out(nr: u16, value: u64) {
    // SAFETY: an I/O port write; the tender reads guest memory during it.
    unsafe {
        asm!("out dx, eax", in("dx") 0x500 + nr, in("eax") value as u32, options(nostack));
    }
}

/// PUTS of `len` bytes at guest address `data`.
fn puts_raw(data: u64, len: u64) {
    let mut a = [data, len];
    hypercall(2, &mut a);
}

/// Writes to the console.
pub fn puts(s: &[u8]) {
    puts_raw(s.as_ptr() as u64, s.len() as u64);
}

/// The console as a `fmt::Write`, for `out!`.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        puts(s.as_bytes());
        Ok(())
    }
}

/// `print!` to the console.
macro_rules! out {
    ($($arg:tt)*) => {{
        let _ = fmt::Write::write_fmt(&mut Console, format_args!($($arg)*));
    }};
}

/// HALT with `status`.
pub fn halt(status: i32) -> ! {
    let mut a = [0u64, status as u32 as u64];
    hypercall(8, &mut a);
    loop {}
}

fn cstr(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: the tender gives a NUL-terminated string in low memory.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: the n bytes before the NUL are readable.
    unsafe { core::slice::from_raw_parts(p, n) }
}

/// BLOCK_WRITE (4) or BLOCK_READ (5) of `len` bytes at `data`: the result code.
fn block(nr: u16, handle: u64, offset: u64, data: u64, len: u64) -> u64 {
    let mut a = [handle, offset, data, len, u64::MAX];
    hypercall(nr, &mut a);
    a[4] & 0xFFFF_FFFF
}

fn info(bi: &BootInfo) {
    // SAFETY: the tender wrote struct mft at bi.mft.
    let entries = unsafe { (bi.mft.add(4) as *const u32).read_unaligned() };
    out!(
        "mem={:#x} kernel_end={:#x} tsc={:#x} entries={:#x} ring={:#x} cmdline=[",
        bi.mem_size,
        bi.kernel_end,
        u8::from(bi.cpu_cycle_freq > 0),
        entries,
        bi.net_ring
    );
    puts(cstr(bi.cmdline));
    puts(b"]\n");
    let mut now = [0u64];
    hypercall(1, &mut now);
    out!(
        "walltime after 2020: {:#x}\n",
        u8::from(now[0] > 1_577_836_800_000_000_000)
    );
    // POLL for 10 ms: no NIC, so nothing is ready.
    let mut poll = [10_000_000u64, u64::MAX, u64::MAX];
    hypercall(3, &mut poll);
    out!("poll ready={:#x} ret={:#x}\n", poll[1], poll[2] & 0xFFFF_FFFF);
}

fn block_test(bi: &BootInfo) {
    // SAFETY: entry 1 of the tender's manifest copy: capacity at +72.
    let capacity = unsafe { (bi.mft.add(8 + 104 + 72) as *const u64).read_unaligned() };
    let mut buf = [0u8; 512];
    for (i, b) in buf.iter_mut().enumerate() {
        *b = i as u8 ^ 0x5a;
    }
    let p = buf.as_mut_ptr() as u64;
    let write = block(4, 1, 512, p, 512);
    let mut back = [0u8; 512];
    let read = block(5, 1, 512, back.as_mut_ptr() as u64, 512);
    out!(
        "write={write:#x} read={read:#x} same={:#x} past-end={:#x} straddle={:#x} \
         bad-handle={:#x} reserved-handle={:#x}\n",
        u8::from(back == buf),
        block(5, 1, capacity, p, 512),
        block(5, 1, capacity - 256, p, 512),
        block(5, 7, 0, p, 512),
        block(5, 0, 0, p, 512)
    );
}

/// Runs the scenario named by the command line.
pub fn main(bi: &BootInfo) -> ! {
    let top = bi.mem_size;
    match cstr(bi.cmdline) {
        b"info" => info(bi),
        b"blk" => block_test(bi),
        b"blk-bad-buffer" => {
            block(5, 1, 0, top - 256, 512);
        }
        b"panic" => panic!("on purpose"),
        b"bad-puts" => puts_raw(top - 4, 8),
        b"huge-puts" => puts_raw(0x100000, u64::MAX),
        b"bad-struct" => raw_out(2, top - 8),
        b"bad-port" => raw_out(9, 0),
        b"out-byte" => {
            // SAFETY: a one-byte port write, refused by the tender.
            unsafe { asm!("out dx, al", in("dx") 0x502u16, in("al") 0u8, options(nostack)) };
        }
        b"no-block" => {
            block(5, 1, 0, 0x100000, 512);
        }
        b"fault" => {
            // SAFETY: none: page 0 is not mapped, which is the point.
            let v = unsafe { core::ptr::read_volatile(8 as *const u64) };
            out!("{v}");
        }
        b"write-text" => {
            // SAFETY: none: text is read-only, which is the point.
            unsafe { core::ptr::write_volatile(main as *const () as *mut u8, 0xCC) };
        }
        b"walltime-in-text" => raw_out(1, main as *const () as u64),
        b"hlt" => {
            // SAFETY: hlt with interrupts off: the tender must end the guest.
            unsafe { asm!("hlt") };
        }
        b"exit-3" => halt(3),
        b"sleep" => {
            // POLL for 1 s, so the test can look at the running tender.
            let mut poll = [1_000_000_000u64, 0, 0];
            hypercall(3, &mut poll);
        }
        _ => {
            puts(b"hvt-ok\n");
            halt(7)
        }
    }
    puts(b"scenario done\n");
    halt(0)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    puts(b"guest panicked\n");
    halt(255)
}
