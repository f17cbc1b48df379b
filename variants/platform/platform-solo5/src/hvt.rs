//! The hvt backend: hypercalls through `outl` to port `0x500 + nr` with the guest-physical
//! address of a request struct (guest memory is identity-mapped, so GPA = our address).

use crate::boot::{Boot, Target};
use crate::{Error, Handle};
use core::arch::asm;

// The ABI note of this backend (`abi_target`, `abi_version`).
#[cfg(target_os = "none")]
petrel_rt_core::solo5_abi_note!(ABI_TARGET_HVT, HVT_ABI_VERSION);

const HC_WALLTIME: u16 = 1;
const HC_PUTS: u16 = 2;
const HC_POLL: u16 = 3;
const HC_BLOCK_WRITE: u16 = 4;
const HC_BLOCK_READ: u16 = 5;
const HC_NET_WRITE: u16 = 6;
const HC_NET_READ: u16 = 7;
const HC_HALT: u16 = 8;
const PIO_BASE: u16 = 0x500;

/// The hypercall ABI's `solo5_result_t` values.
const RES_OK: i32 = 0;
const RES_AGAIN: i32 = 1;
const RES_EINVAL: i32 = 2;

/// Issues hypercall `nr` with the request struct at `arg`.
///
/// # Safety
///
/// `arg` must point to a live, correctly laid-out request struct for `nr`, below 4 GiB (all
/// guest memory is), and every buffer it names must be valid for the access the tender makes.
#[inline(always)]
unsafe fn hypercall<T>(nr: u16, arg: *mut T) {
    // SAFETY: per the caller's contract. The asm has no `nomem`, so it is a compiler memory
    // barrier: the request is written before the exit and its OUT fields read after it. The
    // exit is synchronous; `out` touches neither the stack nor the flags.
    unsafe {
        asm!("out dx, eax", in("dx") PIO_BASE + nr, in("rax") arg, options(nostack, preserves_flags));
    }
}

fn result(ret: i32) -> Result<(), Error> {
    match ret {
        RES_OK => Ok(()),
        RES_AGAIN => Err(Error::Again),
        RES_EINVAL => Err(Error::Invalid),
        _ => Err(Error::Unspecified),
    }
}

/// `struct hvt_boot_info` (56 bytes at GPA 0x10000).
#[repr(C)]
struct BootInfo {
    mem_size: u64,
    kernel_end: u64,
    cpu_cycle_freq: u64,
    cmdline: u64,
    mft: u64,
    host_features: u32,
    guest_features: u32,
    net_ring: u64,
}

/// Reads the boot info the tender left at `bi`.
///
/// # Safety
///
/// `bi` must be the pointer the tender passed to `_start`.
pub(crate) unsafe fn parse_boot_info(bi: *const u8) -> Boot {
    // SAFETY: the tender wrote a `struct hvt_boot_info` at `bi` (8-aligned, read-only memory).
    let b = unsafe { &*(bi as *const BootInfo) };
    let tsc_hz = if b.cpu_cycle_freq == 0 {
        1_000_000_000
    } else {
        b.cpu_cycle_freq
    };
    Boot {
        mem_size: b.mem_size,
        cmdline: b.cmdline as usize,
        mft: b.mft as usize,
        target: Target::Hvt {
            tsc_base: rdtsc(),
            tsc_mult: ((1_000_000_000u128 << 32) / tsc_hz as u128) as u64,
        },
    }
}

fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtsc` only reads the time-stamp counter (CR4.TSD is clear on hvt).
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes `bytes` to the tender's standard output (PUTS).
pub(crate) fn puts(bytes: &[u8]) {
    #[repr(C)]
    struct Puts {
        data: u64,
        len: u64,
    }
    if bytes.is_empty() {
        return;
    }
    let mut req = Puts {
        data: bytes.as_ptr() as u64,
        len: bytes.len() as u64,
    };
    // SAFETY: `req` is a live PUTS request naming `bytes`, which stays borrowed for the call.
    unsafe { hypercall(HC_PUTS, &raw mut req) };
}

/// Monotonic nanoseconds: the TSC since boot scaled by `cpu_cycle_freq` (no exit).
pub(crate) fn monotonic_ns(boot: &Boot) -> u64 {
    let Target::Hvt { tsc_base, tsc_mult } = boot.target else {
        return 0;
    };
    let ticks = rdtsc().wrapping_sub(tsc_base);
    ((u128::from(ticks) * u128::from(tsc_mult)) >> 32) as u64
}

/// Wall-clock nanoseconds since the epoch (WALLTIME).
pub(crate) fn wall_ns() -> u64 {
    #[repr(C)]
    struct Walltime {
        nsecs: u64,
    }
    let mut req = Walltime { nsecs: 0 };
    // SAFETY: `req` is a live WALLTIME request.
    unsafe { hypercall(HC_WALLTIME, &raw mut req) };
    req.nsecs
}

/// The longest single POLL; a longer wait is several (the executor loops).
const MAX_POLL_NS: u64 = 3600 * 1_000_000_000;

/// Blocks until the monotonic clock reaches `deadline_ns` or a NIC has input (POLL). Returns
/// the set of ready handles.
pub(crate) fn poll(boot: &Boot, deadline_ns: u64) -> u64 {
    #[repr(C)]
    struct Poll {
        timeout_nsecs: u64,
        ready_set: u64,
        ret: i32,
        pad: u32,
    }
    let timeout = if deadline_ns == u64::MAX {
        MAX_POLL_NS
    } else {
        deadline_ns
            .saturating_sub(monotonic_ns(boot))
            .min(MAX_POLL_NS)
    };
    let mut req = Poll {
        timeout_nsecs: timeout,
        ready_set: 0,
        ret: 0,
        pad: 0,
    };
    // SAFETY: `req` is a live POLL request.
    unsafe { hypercall(HC_POLL, &raw mut req) };
    req.ready_set
}

/// Ends the guest with `code` (HALT). The tender exits with it.
pub(crate) fn halt(code: i32) -> ! {
    #[repr(C)]
    struct Halt {
        cookie: u64,
        exit_status: i32,
        pad: u32,
    }
    let mut req = Halt {
        cookie: 0,
        exit_status: code,
        pad: 0,
    };
    // SAFETY: `req` is a live HALT request without a cookie.
    unsafe { hypercall(HC_HALT, &raw mut req) };
    // HALT never returns; never `hlt` on hvt (the tender reports an unhandled exit).
    loop {
        core::hint::spin_loop();
    }
}

#[repr(C)]
struct BlockIo {
    handle: u64,
    offset: u64,
    data: u64,
    len: u64,
    ret: i32,
    pad: u32,
}

/// Writes whole blocks (checked by the caller) at `offset`.
pub(crate) fn block_write(
    handle: Handle,
    _block_size: u64,
    offset: u64,
    data: &[u8],
) -> Result<(), Error> {
    let mut req = BlockIo {
        handle,
        offset,
        data: data.as_ptr() as u64,
        len: data.len() as u64,
        ret: 0,
        pad: 0,
    };
    // SAFETY: `req` is a live BLOCK_WRITE request for an attached block device (checked by the
    // caller) naming `data`, borrowed for the call.
    unsafe { hypercall(HC_BLOCK_WRITE, &raw mut req) };
    result(req.ret)
}

/// Reads whole blocks (checked by the caller) at `offset`.
pub(crate) fn block_read(
    handle: Handle,
    _block_size: u64,
    offset: u64,
    data: &mut [u8],
) -> Result<(), Error> {
    let mut req = BlockIo {
        handle,
        offset,
        data: data.as_mut_ptr() as u64,
        len: data.len() as u64,
        ret: 0,
        pad: 0,
    };
    // SAFETY: as in `block_write`; the tender writes at most `len` bytes into `data`, which we
    // borrow mutably for the call.
    unsafe { hypercall(HC_BLOCK_READ, &raw mut req) };
    result(req.ret)
}

#[repr(C)]
struct NetIo {
    handle: u64,
    data: u64,
    len: u64,
    ret: i32,
    pad: u32,
}

/// Sends one frame (length checked by the caller).
pub(crate) fn net_write(handle: Handle, frame: &[u8]) -> Result<(), Error> {
    let mut req = NetIo {
        handle,
        data: frame.as_ptr() as u64,
        len: frame.len() as u64,
        ret: 0,
        pad: 0,
    };
    // SAFETY: `req` is a live NET_WRITE request for an attached NIC (checked by the caller)
    // naming `frame`, borrowed for the call.
    unsafe { hypercall(HC_NET_WRITE, &raw mut req) };
    result(req.ret)
}

/// Receives one frame into `buf` (size checked by the caller); its length.
pub(crate) fn net_read(handle: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    let mut req = NetIo {
        handle,
        data: buf.as_mut_ptr() as u64,
        len: buf.len() as u64,
        ret: 0,
        pad: 0,
    };
    // SAFETY: as in `net_write`; the tender writes at most `len` bytes into `buf`.
    unsafe { hypercall(HC_NET_READ, &raw mut req) };
    result(req.ret)?;
    // Never trust the length more than the buffer.
    Ok((req.len as usize).min(buf.len()))
}
