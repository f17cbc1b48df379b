//! A tiny Solo5 spt guest: raw Linux system calls, scenarios chosen by the command line.
//! Used only by petrel-spt's end-to-end tests.
#![no_std]

use core::arch::asm;

/// `struct spt_boot_info` (solo5-abi.md §4.1).
#[repr(C)]
pub struct BootInfo {
    pub mem_size: u64,
    pub kernel_end: u64,
    pub cmdline: *const u8,
    pub mft: *const u8,
    pub epollfd: i32,
    pub timerfd: i32,
}

/// The ABI1 note (§2.2).
#[repr(C, align(4))]
pub struct AbiNote {
    namesz: u32,
    descsz: u32,
    ty: u32,
    name: [u8; 8],
    target: u32,
    version: u32,
    reserved: [u32; 2],
}

/// The spt ABI note: target 2, version 2.
pub const ABI_NOTE: AbiNote = AbiNote {
    namesz: 6,
    descsz: 16,
    ty: 0x3149_4241,
    name: *b"Solo5\0\0\0",
    target: 2,
    version: 2,
    reserved: [0; 2],
};

/// One `struct mft_entry` (104 bytes).
#[repr(C, align(8))]
pub struct MftEntry {
    name: [u8; 68],
    ty: u32,
    u: [u8; 16],
    b: u64,
    attached: u8,
    pad: [u8; 7],
}

impl MftEntry {
    /// An entry with `name` (≤ 67 bytes) and type `ty`, everything else zero.
    pub const fn new(name: &[u8], ty: u32) -> MftEntry {
        let mut n = [0u8; 68];
        let mut i = 0;
        while i < name.len() {
            n[i] = name[i];
            i += 1;
        }
        MftEntry {
            name: n,
            ty,
            u: [0; 16],
            b: 0,
            attached: 0,
            pad: [0; 7],
        }
    }
}

/// The MFT1 note with N entries (§2.3), the reserved one included.
#[repr(C, align(8))]
pub struct MftNote<const N: usize> {
    namesz: u32,
    descsz: u32,
    ty: u32,
    name: [u8; 8],
    pad: u32,
    version: u32,
    entries: u32,
    e: [MftEntry; N],
}

impl<const N: usize> MftNote<N> {
    /// The note around `e` (e[0] must be the reserved entry).
    pub const fn new(e: [MftEntry; N]) -> Self {
        MftNote {
            namesz: 6,
            descsz: (4 + 8 + 104 * N) as u32,
            ty: 0x3154_464D,
            name: *b"Solo5\0\0\0",
            pad: 0,
            version: 1,
            entries: N as u32,
            e,
        }
    }
}

/// `MFT_RESERVED_FIRST`.
pub const RESERVED: u32 = 1 << 30;
/// `MFT_DEV_BLOCK_BASIC`.
pub const BLOCK: u32 = 1;
/// `MFT_DEV_NET_BASIC`.
pub const NET: u32 = 2;

/// A raw Linux system call.
///
/// # Safety
/// The caller passes arguments valid for `nr`.
pub unsafe fn syscall(nr: u64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the Linux x86_64 system call convention; rcx and r11 are clobbered.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as i64 => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

const SYS_READ: u64 = 0;
const SYS_WRITE: u64 = 1;
const SYS_PREAD64: u64 = 17;
const SYS_PWRITE64: u64 = 18;
const SYS_GETPID: u64 = 39;
const SYS_CLOCK_GETTIME: u64 = 228;
const SYS_EXIT_GROUP: u64 = 231;
const SYS_EPOLL_PWAIT: u64 = 281;
const SYS_TIMERFD_SETTIME: u64 = 286;

fn write_fd(fd: u64, s: &[u8]) {
    // SAFETY: s is valid for s.len() bytes.
    unsafe { syscall(SYS_WRITE, [fd, s.as_ptr() as u64, s.len() as u64, 0, 0, 0]) };
}

/// Writes to standard output.
pub fn puts(s: &[u8]) {
    write_fd(1, s);
}

/// Writes `v` in hexadecimal.
pub fn put_hex(v: u64) {
    let mut buf = [0u8; 18];
    buf[0] = b'0';
    buf[1] = b'x';
    let mut n = 2;
    let mut started = false;
    for i in (0..16).rev() {
        let d = ((v >> (i * 4)) & 0xf) as u8;
        if d != 0 || started || i == 0 {
            started = true;
            buf[n] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
            n += 1;
        }
    }
    puts(&buf[..n]);
}

/// Exits the process with `code`.
pub fn exit(code: u64) -> ! {
    loop {
        // SAFETY: exit_group does not return.
        unsafe { syscall(SYS_EXIT_GROUP, [code, 0, 0, 0, 0, 0]) };
    }
}

fn cstr(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: the runner gives a NUL-terminated string in low memory.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: the n bytes before the NUL are readable.
    unsafe { core::slice::from_raw_parts(p, n) }
}

/// Entry `i` of the runner's manifest copy: (name, type, u-union, hostfd, attached).
fn entry(bi: &BootInfo, i: usize) -> (&'static [u8], u32, [u8; 16], i32, u8) {
    // SAFETY: i < entries; the runner wrote 8 + 104·N bytes at bi.mft.
    unsafe {
        let e = bi.mft.add(8 + 104 * i);
        let name = cstr(e);
        let ty = (e.add(68) as *const u32).read_unaligned();
        let mut u = [0u8; 16];
        core::ptr::copy_nonoverlapping(e.add(72), u.as_mut_ptr(), 16);
        let fd = (e.add(88) as *const i32).read_unaligned();
        (name, ty, u, fd, *e.add(96))
    }
}

fn entries(bi: &BootInfo) -> usize {
    // SAFETY: the runner wrote struct mft at bi.mft.
    unsafe { (bi.mft.add(4) as *const u32).read_unaligned() as usize }
}

fn info(bi: &BootInfo) {
    puts(b"mem=");
    put_hex(bi.mem_size);
    puts(b" kernel_end=");
    put_hex(bi.kernel_end);
    puts(b" entries=");
    put_hex(entries(bi) as u64);
    puts(b" cmdline=[");
    puts(cstr(bi.cmdline));
    puts(b"]\n");
    for i in 0..entries(bi) {
        let (name, ty, u, fd, att) = entry(bi, i);
        puts(b"entry ");
        put_hex(i as u64);
        puts(b" name=");
        puts(name);
        puts(b" type=");
        put_hex(ty as u64);
        puts(b" attached=");
        put_hex(att as u64);
        puts(b" u0=");
        put_hex(u64::from_le_bytes([
            u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
        ]));
        puts(b" u8=");
        put_hex(u64::from_le_bytes([
            u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15],
        ]));
        puts(b" fdok=");
        put_hex((fd > 2) as u64);
        puts(b"\n");
    }
}

/// Sleeps 1 ms with the timerfd and epoll, as the spt bindings' yield does.
fn timer_wait(bi: &BootInfo) {
    let mut ts = [0u64; 2];
    // SAFETY: ts is a valid struct timespec.
    let r = unsafe { syscall(SYS_CLOCK_GETTIME, [1, ts.as_mut_ptr() as u64, 0, 0, 0, 0]) };
    puts(b"clock_gettime=");
    put_hex(r as u64);
    puts(b"\n");
    let mut ns = ts[1] + 1_000_000;
    let mut s = ts[0];
    if ns >= 1_000_000_000 {
        ns -= 1_000_000_000;
        s += 1;
    }
    // struct itimerspec: interval 0, value = deadline (TFD_TIMER_ABSTIME = 1).
    let its = [0u64, 0, s, ns];
    // SAFETY: its is a valid struct itimerspec.
    let r = unsafe {
        syscall(
            SYS_TIMERFD_SETTIME,
            [bi.timerfd as u64, 1, its.as_ptr() as u64, 0, 0, 0],
        )
    };
    puts(b"timerfd_settime=");
    put_hex(r as u64);
    puts(b"\n");
    // struct epoll_event is packed: u32 events + u64 data = 12 bytes.
    let mut ev = [0u8; 12];
    // SAFETY: one event of 12 bytes; no signal mask.
    let r = unsafe {
        syscall(
            SYS_EPOLL_PWAIT,
            [bi.epollfd as u64, ev.as_mut_ptr() as u64, 1, 1000, 0, 8],
        )
    };
    puts(b"epoll_pwait=");
    put_hex(r as u64);
    puts(b" data=");
    put_hex(u64::from_le_bytes([
        ev[4], ev[5], ev[6], ev[7], ev[8], ev[9], ev[10], ev[11],
    ]));
    puts(b"\n");
}

fn disk(bi: &BootInfo) -> (u64, u64, u64) {
    let (_, _, u, fd, _) = entry(bi, 1);
    let cap = u64::from_le_bytes([u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7]]);
    let bs = u16::from_le_bytes([u[8], u[9]]) as u64;
    (fd as u64, cap, bs)
}

fn block_io(nr: u64, fd: u64, buf: &mut [u8], count: u64, off: u64) -> i64 {
    // SAFETY: buf is valid for buf.len() bytes; the callers pass count ≤ buf.len() except
    // in the scenarios the filter must refuse before the kernel touches buf.
    unsafe { syscall(nr, [fd, buf.as_mut_ptr() as u64, count, off, 0, 0]) }
}

/// Runs the scenario the command line names.
pub fn main(bi: &BootInfo) -> ! {
    let cmd = cstr(bi.cmdline);
    let mut buf = [0u8; 8192];
    match cmd {
        b"" | b"hello" => {
            puts(b"spt-ok\n");
            exit(7);
        }
        b"getpid" => {
            // SAFETY: no arguments.
            unsafe { syscall(SYS_GETPID, [0; 6]) };
            puts(b"survived getpid\n");
            exit(0);
        }
        b"write2" => {
            write_fd(2, b"to stderr\n");
            puts(b"survived write2\n");
            exit(0);
        }
        b"read0" => {
            // SAFETY: buf is valid.
            unsafe { syscall(SYS_READ, [0, buf.as_mut_ptr() as u64, 1, 0, 0, 0]) };
            puts(b"survived read0\n");
            exit(0);
        }
        b"panic" => panic!("requested"),
        b"fault" => {
            puts(b"writing to text\n");
            // SAFETY: deliberately not: the text segment is read-only.
            unsafe { core::ptr::write_volatile(main as *const () as *mut u8, 0) };
            exit(0);
        }
        b"timer" => {
            timer_wait(bi);
            exit(0);
        }
        b"blk-rw" => {
            let (fd, cap, bs) = disk(bi);
            buf[..bs as usize].fill(b'W');
            let w = block_io(SYS_PWRITE64, fd, &mut buf, bs, cap - bs);
            buf.fill(0);
            let r = block_io(SYS_PREAD64, fd, &mut buf, bs, 0);
            puts(b"pwrite=");
            put_hex(w as u64);
            puts(b" pread=");
            put_hex(r as u64);
            puts(b" first=");
            puts(&buf[..4]);
            puts(b"\n");
            exit(0);
        }
        b"blk-badcount" => {
            let (fd, _, bs) = disk(bi);
            block_io(SYS_PREAD64, fd, &mut buf, 2 * bs, 0);
            puts(b"survived blk-badcount\n");
            exit(0);
        }
        b"blk-badoffset" => {
            let (fd, cap, bs) = disk(bi);
            block_io(SYS_PWRITE64, fd, &mut buf, bs, cap - bs + 1);
            puts(b"survived blk-badoffset\n");
            exit(0);
        }
        b"net-rw" => {
            let (_, _, _, fd, _) = entry(bi, 1);
            // A broadcast Ethernet frame of 60 bytes.
            buf[..60].fill(0);
            buf[..6].fill(0xff);
            // SAFETY: buf is valid for 60 and 2048 bytes.
            let w = unsafe { syscall(SYS_WRITE, [fd as u64, buf.as_ptr() as u64, 60, 0, 0, 0]) };
            // SAFETY: as above.
            let r = unsafe {
                syscall(
                    SYS_READ,
                    [fd as u64, buf.as_mut_ptr() as u64, 2048, 0, 0, 0],
                )
            };
            puts(b"net write=");
            put_hex(w as u64);
            puts(b" read=");
            put_hex(r as u64);
            puts(b"\n");
            exit(0);
        }
        _ => {
            info(bi);
            exit(0);
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    puts(b"guest panicked\n");
    exit(255)
}
