//! The spt backend: raw Linux `syscall`s, only those the `solo5-spt` seccomp filter allows
//! (`write(1)`, `exit_group`, `clock_gettime`, `timerfd_settime(timerfd)`,
//! `epoll_pwait(epollfd)`, and per device `read`/`write` on a NIC's fd and
//! `pread64`/`pwrite64` of exactly one block on a disk's fd). Anything else kills the process
//! with SIGSYS.
//!
//! Without the `spt` feature on a hosted target (a workspace `cargo check`, unit tests) this
//! backend is compiled too, so the crate type-checks; it is only meant to run under a tender.

use crate::boot::{Boot, Target};
use crate::{Error, Handle};
use core::arch::asm;

// The ABI note of this backend (`abi_target`, `abi_version`).
#[cfg(all(target_os = "none", feature = "spt"))]
petrel_rt_core::solo5_abi_note!(ABI_TARGET_SPT, SPT_ABI_VERSION);

const SYS_READ: usize = 0;
const SYS_WRITE: usize = 1;
const SYS_PREAD64: usize = 17;
const SYS_PWRITE64: usize = 18;
const SYS_CLOCK_GETTIME: usize = 228;
const SYS_EXIT_GROUP: usize = 231;
const SYS_EPOLL_PWAIT: usize = 281;
const SYS_TIMERFD_SETTIME: usize = 286;

const CLOCK_REALTIME: usize = 0;
const CLOCK_MONOTONIC: usize = 1;
const TFD_TIMER_ABSTIME: usize = 1;
const EAGAIN: isize = 11;
const EINTR: isize = 4;
/// The epoll data of the timerfd (a NIC's is its handle).
const TIMERFD_DATA: u64 = !1u32 as u64;

/// One raw system call with up to six arguments; the kernel's return value (`-errno` on error).
///
/// # Safety
///
/// The arguments must be valid for system call `nr` (pointers to live memory of the right
/// size); the call must be allowed by the tender's seccomp filter.
#[inline(always)]
unsafe fn syscall6(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: per the caller's contract. `syscall` clobbers rcx and r11 only; it does not use
    // our stack. No `nomem`: the kernel may read and write the memory the arguments name.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// `struct spt_boot_info` at 0x11000.
#[repr(C)]
struct BootInfo {
    mem_size: u64,
    kernel_end: u64,
    cmdline: u64,
    mft: u64,
    epollfd: i32,
    timerfd: i32,
}

/// Reads the boot info the tender left at `bi`.
///
/// # Safety
///
/// `bi` must be the pointer the tender passed to `_start`.
pub(crate) unsafe fn parse_boot_info(bi: *const u8) -> Boot {
    // SAFETY: the tender wrote a `struct spt_boot_info` at `bi` (8-aligned).
    let b = unsafe { &*(bi as *const BootInfo) };
    Boot {
        mem_size: b.mem_size,
        cmdline: b.cmdline as usize,
        mft: b.mft as usize,
        target: Target::Spt {
            epollfd: b.epollfd,
            timerfd: b.timerfd,
        },
    }
}

#[repr(C)]
#[derive(Default)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

fn clock(id: usize) -> u64 {
    let mut ts = Timespec::default();
    // SAFETY: `ts` is a live timespec; clock_gettime(MONOTONIC|REALTIME) is allowed.
    let r = unsafe { syscall6(SYS_CLOCK_GETTIME, [id, (&raw mut ts) as usize, 0, 0, 0, 0]) };
    if r < 0 || ts.sec < 0 {
        return 0;
    }
    (ts.sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.nsec as u64)
}

/// Writes `bytes` to standard output (`write(1)`), retrying short writes.
pub(crate) fn puts(bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: `rest` is borrowed for the call; write(1) is allowed.
        let n = unsafe { syscall6(SYS_WRITE, [1, rest.as_ptr() as usize, rest.len(), 0, 0, 0]) };
        if n == -EINTR {
            continue;
        }
        if n <= 0 {
            return; // Best effort.
        }
        rest = &rest[(n as usize).min(rest.len())..];
    }
}

/// Monotonic nanoseconds: the host's `CLOCK_MONOTONIC` (the timerfd's clock too).
pub(crate) fn monotonic_ns(_boot: &Boot) -> u64 {
    clock(CLOCK_MONOTONIC)
}

/// Wall-clock nanoseconds since the epoch: `CLOCK_REALTIME`.
pub(crate) fn wall_ns() -> u64 {
    clock(CLOCK_REALTIME)
}

/// `struct epoll_event`, packed on x86_64.
#[repr(C, packed)]
#[derive(Clone, Copy)]
struct EpollEvent {
    events: u32,
    data: u64,
}

/// Blocks until the monotonic clock reaches `deadline_ns` or a NIC has input: arms the
/// timerfd (absolute `CLOCK_MONOTONIC`; disarmed for `u64::MAX`) and waits in `epoll_pwait`.
/// Returns the set of ready handles.
pub(crate) fn poll(boot: &Boot, deadline_ns: u64) -> u64 {
    let Target::Spt { epollfd, timerfd } = boot.target else {
        return 0;
    };
    if deadline_ns == 0 {
        return 0;
    }
    // it_interval = 0; it_value = the deadline, or 0 (disarm) when there is none. Setting the
    // timer also clears a past expiry, so the timerfd is not left readable.
    let value = if deadline_ns == u64::MAX {
        Timespec { sec: 0, nsec: 0 }
    } else {
        Timespec {
            sec: (deadline_ns / 1_000_000_000) as i64,
            nsec: (deadline_ns % 1_000_000_000) as i64,
        }
    };
    let spec = [Timespec::default(), value];
    // SAFETY: `spec` is a live itimerspec; timerfd_settime(timerfd) is allowed.
    let r = unsafe {
        syscall6(
            SYS_TIMERFD_SETTIME,
            [
                timerfd as usize,
                TFD_TIMER_ABSTIME,
                spec.as_ptr() as usize,
                0,
                0,
                0,
            ],
        )
    };
    if r < 0 {
        return 0;
    }
    let mut events = [EpollEvent { events: 0, data: 0 }; petrel_rt_core::solo5::MFT_MAX_ENTRIES];
    // SAFETY: `events` holds `len` live entries; epoll_pwait(epollfd) with no sigmask is allowed.
    let n = unsafe {
        syscall6(
            SYS_EPOLL_PWAIT,
            [
                epollfd as usize,
                events.as_mut_ptr() as usize,
                events.len(),
                usize::MAX, /* -1 */
                0,
                8,
            ],
        )
    };
    let mut ready = 0u64;
    if n > 0 {
        for ev in &events[..(n as usize).min(events.len())] {
            let data = ev.data;
            if data != TIMERFD_DATA && data < 64 {
                ready |= 1 << data;
            }
        }
    }
    ready
}

/// Ends the process with `code` (`exit_group`).
pub(crate) fn halt(code: i32) -> ! {
    loop {
        // SAFETY: exit_group is allowed and takes no pointer.
        unsafe { syscall6(SYS_EXIT_GROUP, [code as usize, 0, 0, 0, 0, 0]) };
    }
}

/// The host fd of `handle` in the tender's boot manifest.
fn hostfd(handle: Handle) -> usize {
    crate::boot::manifest()
        .get(handle as usize)
        .map_or(usize::MAX, |e| e.b as u32 as usize)
}

/// Writes whole blocks (checked by the caller), one `pwrite64` per block as the filter wants.
pub(crate) fn block_write(
    handle: Handle,
    block_size: u64,
    offset: u64,
    data: &[u8],
) -> Result<(), Error> {
    let fd = hostfd(handle);
    for (i, block) in data.chunks(block_size as usize).enumerate() {
        let off = offset + i as u64 * block_size;
        // SAFETY: `block` is borrowed for the call; pwrite64 of one block within the capacity
        // (checked by the caller) on the disk's fd is allowed.
        let n = unsafe {
            syscall6(
                SYS_PWRITE64,
                [fd, block.as_ptr() as usize, block.len(), off as usize, 0, 0],
            )
        };
        if n != block.len() as isize {
            return Err(Error::Unspecified);
        }
    }
    Ok(())
}

/// Reads whole blocks (checked by the caller), one `pread64` per block.
pub(crate) fn block_read(
    handle: Handle,
    block_size: u64,
    offset: u64,
    data: &mut [u8],
) -> Result<(), Error> {
    let fd = hostfd(handle);
    for (i, block) in data.chunks_mut(block_size as usize).enumerate() {
        let off = offset + i as u64 * block_size;
        // SAFETY: `block` is borrowed mutably for the call; pread64 of one block within the
        // capacity (checked by the caller) on the disk's fd is allowed.
        let n = unsafe {
            syscall6(
                SYS_PREAD64,
                [
                    fd,
                    block.as_mut_ptr() as usize,
                    block.len(),
                    off as usize,
                    0,
                    0,
                ],
            )
        };
        if n != block.len() as isize {
            return Err(Error::Unspecified);
        }
    }
    Ok(())
}

/// Sends one frame (length checked by the caller) with `write` on the tap fd (or socket).
pub(crate) fn net_write(handle: Handle, frame: &[u8]) -> Result<(), Error> {
    // SAFETY: `frame` is borrowed for the call; write on the NIC's fd is allowed.
    let n = unsafe {
        syscall6(
            SYS_WRITE,
            [
                hostfd(handle),
                frame.as_ptr() as usize,
                frame.len(),
                0,
                0,
                0,
            ],
        )
    };
    match n {
        n if n == frame.len() as isize => Ok(()),
        // A full socket (a user-mode network's socketpair; a tap never fills): try again
        // later rather than lose the frame, which would stall TCP for a retransmission.
        n if n == -EAGAIN || n == -EINTR => Err(Error::Again),
        _ => Err(Error::Unspecified),
    }
}

/// Receives one frame with `read` on the (non-blocking) tap fd; its length.
pub(crate) fn net_read(handle: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    // SAFETY: `buf` is borrowed mutably for the call; read on the NIC's fd is allowed.
    let n = unsafe {
        syscall6(
            SYS_READ,
            [
                hostfd(handle),
                buf.as_mut_ptr() as usize,
                buf.len(),
                0,
                0,
                0,
            ],
        )
    };
    match n {
        n if n >= 0 => Ok((n as usize).min(buf.len())),
        n if n == -EAGAIN || n == -EINTR => Err(Error::Again),
        _ => Err(Error::Unspecified),
    }
}
