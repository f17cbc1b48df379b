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

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::ring::Ring;
use crate::{cpu, hypercall};

/// Offsets in the ring page of `out`, `out_cons` and `out_prod`, and the size of `out`.
const OUT: usize = 1024;
const OUT_CONS: usize = 3080;
const OUT_PROD: usize = 3084;
const OUT_SIZE: u32 = 2048;
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

/// The `out` ring, once [`init`] found it.
fn out_ring() -> Option<Ring> {
    let page = RING.load(Ordering::Acquire);
    (page != 0).then_some(Ring {
        buf: page + OUT,
        size: OUT_SIZE,
        cons: page + OUT_CONS,
        prod: page + OUT_PROD,
    })
}

/// Writes `bytes` to the console, turning `\n` into `\r\n`.
pub fn write(bytes: &[u8]) {
    let Some(ring) = out_ring() else {
        for &b in bytes {
            if b == b'\n' {
                cpu::outb(DEBUG_PORT, b'\r');
            }
            cpu::outb(DEBUG_PORT, b);
        }
        return;
    };
    let port = PORT.load(Ordering::Relaxed);
    // Expanded in chunks on the stack (a console write must not allocate: panics use it).
    let mut chunk = [0u8; 256];
    let mut len = 0;
    for &b in bytes {
        if b == b'\n' {
            chunk[len] = b'\r';
            len += 1;
        }
        chunk[len] = b;
        len += 1;
        if len >= chunk.len() - 1 {
            put_all(&ring, &chunk[..len], port);
            len = 0;
        }
    }
    put_all(&ring, &chunk[..len], port);
}

/// Puts all of `bytes` in the ring, letting dom0 drain it when full (boundedly: output is
/// dropped rather than hanging when nobody reads), and notifies dom0.
fn put_all(ring: &Ring, mut bytes: &[u8], port: u32) {
    let mut waits = 0;
    while !bytes.is_empty() {
        let n = ring.put(bytes);
        bytes = &bytes[n..];
        if n == 0 {
            hypercall::evtchn_send(port);
            hypercall::sched_yield();
            waits += 1;
            if waits >= MAX_WAITS {
                DROPPED.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                return;
            }
        }
    }
    hypercall::evtchn_send(port);
}

/// Waits (yielding to dom0, boundedly) until dom0 has read everything written, so that
/// nothing is lost when the domain shuts down right after.
pub fn flush() {
    let Some(ring) = out_ring() else {
        return;
    };
    for _ in 0..MAX_WAITS {
        if ring.pending() == 0 {
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
