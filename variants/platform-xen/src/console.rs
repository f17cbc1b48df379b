//! The console: the PV console ring that xenconsoled reads in dom0 (what `xl console` and
//! `xl create -c` show).
//!
//! `HVM_PARAM_CONSOLE_PFN` gives the ring's frame (just below 4 GiB on Xen 4.17, inside the
//! 4 GiB the boot page tables map) and `HVM_PARAM_CONSOLE_EVTCHN` its event channel. The
//! ring is `struct xencons_interface`: `in[1024]`, `out[2048]`, then the 32-bit indexes
//! `in_cons`, `in_prod`, `out_cons`, `out_prod`, which run freely and are taken modulo the
//! ring size. The guest produces into `out`, publishes `out_prod` and notifies the channel.
//!
//! Before the ring is known (and outside Xen) bytes go to I/O port 0xE9, which Xen prints
//! on its own console as `(dN) ...` when it runs with `guest_loglvl=all`.

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};

use crate::{cpu, hypercall};

/// Offset of `out` in the ring page.
const OUT: usize = 1024;
/// Size of `out`.
const OUT_SIZE: u32 = 2048;
/// Offset of `out_cons`.
const OUT_CONS: usize = 3080;
/// Offset of `out_prod`.
const OUT_PROD: usize = 3084;
/// Xen's debug port.
pub const DEBUG_PORT: u16 = 0xE9;

/// The ring's address (0 = not set up yet).
static RING: AtomicUsize = AtomicUsize::new(0);
/// The ring's event channel.
static PORT: AtomicU32 = AtomicU32::new(0);
/// Bytes dropped because dom0 stopped reading (for diagnostics).
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// How many times a full ring is waited for (each wait yields to dom0) before output is
/// dropped, so that a dom0 without xenconsoled cannot hang the unikernel.
const MAX_WAITS: u32 = 100_000;

/// Finds the ring. `false` if Xen does not give one (then output stays on port 0xE9).
pub fn init() -> bool {
    let (Ok(pfn), Ok(port)) = (
        hypercall::hvm_get_param(hypercall::HVM_PARAM_CONSOLE_PFN),
        hypercall::hvm_get_param(hypercall::HVM_PARAM_CONSOLE_EVTCHN),
    ) else {
        return false;
    };
    if pfn == 0 || pfn >= (1 << 20) {
        // Not below 4 GiB: outside what the boot page tables map.
        return false;
    }
    PORT.store(port as u32, Ordering::Relaxed);
    RING.store((pfn << 12) as usize, Ordering::Release);
    true
}

fn read_index(ring: usize, offset: usize) -> u32 {
    // SAFETY: `ring` is the mapped ring page and `offset` one of its index fields; dom0
    // writes it concurrently, hence the volatile read.
    unsafe { core::ptr::read_volatile((ring + offset) as *const u32) }
}

/// Writes `bytes` to the console, turning `\n` into `\r\n`.
pub fn write(bytes: &[u8]) {
    let ring = RING.load(Ordering::Acquire);
    if ring == 0 {
        for &b in bytes {
            if b == b'\n' {
                cpu::outb(DEBUG_PORT, b'\r');
            }
            cpu::outb(DEBUG_PORT, b);
        }
        return;
    }
    let port = PORT.load(Ordering::Relaxed);
    let mut prod = read_index(ring, OUT_PROD);
    let crlf = bytes.iter().flat_map(|&b| {
        let cr = (b == b'\n').then_some(b'\r');
        cr.into_iter().chain(core::iter::once(b))
    });
    for b in crlf {
        let mut waits = 0;
        while prod.wrapping_sub(read_index(ring, OUT_CONS)) >= OUT_SIZE {
            // Full: publish what we have, let dom0 drain it.
            publish(ring, prod, port);
            hypercall::sched_yield();
            waits += 1;
            if waits >= MAX_WAITS {
                DROPPED.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        if waits >= MAX_WAITS {
            continue;
        }
        // SAFETY: the slot is inside `out` and free (prod - cons < size): dom0 does not
        // read it until `out_prod` passes it.
        unsafe {
            core::ptr::write_volatile((ring + OUT + (prod % OUT_SIZE) as usize) as *mut u8, b)
        };
        prod = prod.wrapping_add(1);
    }
    publish(ring, prod, port);
}

/// Makes the bytes before `prod` visible to dom0 and notifies it.
fn publish(ring: usize, prod: u32, port: u32) {
    // The bytes must be visible before the index that hands them over.
    fence(Ordering::Release);
    // SAFETY: `out_prod` belongs to the guest; dom0 only reads it.
    unsafe { core::ptr::write_volatile((ring + OUT_PROD) as *mut u32, prod) };
    hypercall::evtchn_send(port);
}

/// Waits (yielding to dom0, boundedly) until dom0 has read everything written, so that
/// nothing is lost when the domain shuts down right after.
pub fn flush() {
    let ring = RING.load(Ordering::Acquire);
    if ring == 0 {
        return;
    }
    for _ in 0..MAX_WAITS {
        if read_index(ring, OUT_CONS) == read_index(ring, OUT_PROD) {
            return;
        }
        hypercall::evtchn_send(PORT.load(Ordering::Relaxed));
        hypercall::sched_yield();
    }
}

/// Bytes dropped because the ring stayed full.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// The console's event channel (its notifications are ignored by the idle loop).
pub fn port() -> u32 {
    PORT.load(Ordering::Relaxed)
}

/// A [`core::fmt::Write`] over [`write()`], for the runtime's own messages.
pub struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write(s.as_bytes());
        Ok(())
    }
}
