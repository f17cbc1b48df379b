//! Event channels (the 2-level ABI in `shared_info`), the timer VIRQ and idling.
//!
//! Xen signals an event by setting the port's bit in `evtchn_pending`, its word's bit in
//! `vcpu_info[0].evtchn_pending_sel` and `vcpu_info[0].evtchn_upcall_pending`, and then
//! injecting the upcall vector ([`UPCALL_VECTOR`], registered as `HVM_PARAM_CALLBACK_IRQ`
//! of the "vector" type). The interrupt handler ([`upcall`]) only clears
//! `evtchn_upcall_pending` (while it is set, Xen keeps re-injecting the vector); the idle
//! loop then takes the pending ports with interrupts off ([`take_pending`]).
//!
//! The per-vCPU `HVMOP_set_evtchn_upcall_vector` is not used: it delivers through the
//! virtual local APIC, which would then have to be enabled and acknowledged (EOI); the
//! callback vector needs neither.
//!
//! Timers: `VIRQ_TIMER` is bound to a port, and `set_timer_op(deadline)` (in Xen system
//! time) makes it fire once. Idling is `sti; hlt`, which Xen turns into `SCHEDOP_block` for
//! an HVM vCPU: the vCPU sleeps until an event is pending (and does not sleep if one is).

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use core::task::Waker;

use petrel_rt_core::single_core::DeviceWakers;

use crate::{clock, cpu, hypercall};

/// The vector of event-channel upcalls (the first one after the CPU exceptions).
pub const UPCALL_VECTOR: u8 = 32;
/// `VIRQ_TIMER`.
const VIRQ_TIMER: u32 = 0;
/// Offset of `vcpu_info[0].evtchn_upcall_pending` in `shared_info`.
const UPCALL_PENDING: usize = 0;
/// Offset of `vcpu_info[0].evtchn_upcall_mask`.
const UPCALL_MASK: usize = 1;
/// Offset of `vcpu_info[0].evtchn_pending_sel`.
const PENDING_SEL: usize = 8;
/// Offset of `evtchn_pending[64]`.
const EVTCHN_PENDING: usize = 2048;
/// Offset of `evtchn_mask[64]`.
const EVTCHN_MASK: usize = 2560;
/// Ports per bitmap word.
const BITS: u32 = 64;

/// The timer's port (0 = not bound).
static TIMER_PORT: AtomicU32 = AtomicU32::new(0);
/// The task waiting on each port's next event, by port (ports 1..64: the first word).
static WAKERS: DeviceWakers = DeviceWakers::new();
/// How many times the vCPU blocked (for tests and diagnostics).
static BLOCKS: AtomicU64 = AtomicU64::new(0);
/// How many upcalls the interrupt handler took.
static UPCALLS: AtomicU64 = AtomicU64::new(0);

fn word(si: usize, offset: usize) -> &'static AtomicU64 {
    // SAFETY: only called with 8-aligned offsets inside the mapped `shared_info` page,
    // which Xen also updates atomically (lock-prefixed bit operations).
    unsafe { &*((si + offset) as *const AtomicU64) }
}

fn byte(si: usize, offset: usize) -> &'static core::sync::atomic::AtomicU8 {
    // SAFETY: as in `word`, for a byte field.
    unsafe { &*((si + offset) as *const core::sync::atomic::AtomicU8) }
}

/// `struct evtchn_bind_virq`.
#[repr(C)]
struct BindVirq {
    virq: u32,
    vcpu: u32,
    port: u32,
}

/// Binds `VIRQ_TIMER`, unmasks it, and routes upcalls to [`UPCALL_VECTOR`]. Needs
/// [`clock::init`] (the `shared_info` page) and the IDT (`crate::trap::init`).
pub fn init() -> Result<(), &'static str> {
    let si = clock::shared_info();
    if si == 0 {
        return Err("no shared_info page");
    }
    // SAFETY: VCPUOP_stop_periodic_timer (9) for vCPU 0 takes no argument: no ticks that
    // nobody asked for (HVM vCPUs have none by default; this makes sure).
    unsafe { hypercall::call3(hypercall::VCPU_OP, 9, 0, 0) };
    let mut bind = BindVirq {
        virq: VIRQ_TIMER,
        vcpu: 0,
        port: 0,
    };
    // SAFETY: EVTCHNOP_bind_virq (1) takes a `struct evtchn_bind_virq`.
    if unsafe { hypercall::call_ptr(hypercall::EVENT_CHANNEL_OP, 1, &mut bind) } < 0 {
        return Err("EVTCHNOP_bind_virq(VIRQ_TIMER) failed");
    }
    TIMER_PORT.store(bind.port, Ordering::Relaxed);
    unmask(si, bind.port);
    byte(si, UPCALL_MASK).store(0, Ordering::SeqCst);
    // HVM_PARAM_CALLBACK_IRQ, type 2 ("vector") in bits 63:56.
    hypercall::hvm_set_param(
        hypercall::HVM_PARAM_CALLBACK_IRQ,
        (2 << 56) | u64::from(UPCALL_VECTOR),
    )
    .map_err(|_| "HVM_PARAM_CALLBACK_IRQ (vector) refused")?;
    Ok(())
}

/// Clears the mask bit of `port` (the idle loop finds anything already pending).
fn unmask(si: usize, port: u32) {
    let w = word(si, EVTCHN_MASK + 8 * (port / BITS) as usize);
    w.fetch_and(!(1 << (port % BITS)), Ordering::SeqCst);
}

/// Unmasks `port` in the `shared_info` bitmaps (a no-op before `shared_info` is mapped).
pub fn unmask_port(port: u32) {
    let si = clock::shared_info();
    if si != 0 && port < 64 * BITS {
        unmask(si, port);
    }
}

/// The interrupt handler's work: acknowledge the upcall so that Xen stops injecting it.
pub fn upcall() {
    UPCALLS.fetch_add(1, Ordering::Relaxed);
    let si = clock::shared_info();
    if si != 0 {
        byte(si, UPCALL_PENDING).store(0, Ordering::SeqCst);
    }
}

/// Takes the pending, unmasked ports of the 2-level bitmaps: clears each word's selector bit
/// and then the taken pending bits, and calls `f` with every port. Masked ports stay
/// pending.
pub fn take_pending(
    sel: &AtomicU64,
    pending: &[AtomicU64],
    mask: &[AtomicU64],
    mut f: impl FnMut(u32),
) {
    let mut words = sel.swap(0, Ordering::SeqCst);
    while words != 0 {
        let i = words.trailing_zeros();
        words &= words - 1;
        let Some((p, m)) = pending.get(i as usize).zip(mask.get(i as usize)) else {
            continue;
        };
        let ready = p.load(Ordering::SeqCst) & !m.load(Ordering::SeqCst);
        p.fetch_and(!ready, Ordering::SeqCst);
        let mut bits = ready;
        while bits != 0 {
            let b = bits.trailing_zeros();
            bits &= bits - 1;
            f(i * BITS + b);
        }
    }
}

/// The event ports that fired since the last call, as a bit mask of ports 0..64 (the ports
/// this runtime binds are small).
fn take_events() -> u64 {
    let si = clock::shared_info();
    if si == 0 {
        return 0;
    }
    // SAFETY (of the casts below): 64 words each, inside the `shared_info` page.
    let pending = unsafe { &*((si + EVTCHN_PENDING) as *const [AtomicU64; 64]) };
    let mask = unsafe { &*((si + EVTCHN_MASK) as *const [AtomicU64; 64]) };
    let mut fired = 0u64;
    take_pending(word(si, PENDING_SEL), pending, mask, |port| {
        if port < 64 {
            fired |= 1 << port;
        }
    });
    fired
}

/// Wakes `waker` after the next event on `port` (a device's channel). One-shot.
pub fn register_waker(port: u32, waker: &Waker) {
    WAKERS.register(u64::from(port), waker);
}

/// How many times [`idle`] has blocked the vCPU since boot.
pub fn blocks() -> u64 {
    BLOCKS.load(Ordering::Relaxed)
}

/// How many event-channel upcalls were taken since boot.
pub fn upcalls() -> u64 {
    UPCALLS.load(Ordering::Relaxed)
}

/// Blocks until the monotonic clock reaches `deadline_ns` or a device's event channel
/// fires; wakes the tasks registered for the ports that did. With `u64::MAX` and no device
/// this blocks forever (nothing could ever wake the unikernel).
pub fn idle(deadline_ns: u64) {
    let timer = TIMER_PORT.load(Ordering::Relaxed);
    loop {
        let events = take_events() & !(1 << timer) & !(1u64 << (crate::console::port() % 64));
        if events != 0 {
            WAKERS.wake(events);
            return;
        }
        let now = clock::monotonic_ns();
        if now >= deadline_ns {
            return;
        }
        if deadline_ns != u64::MAX {
            // In Xen system time: the monotonic origin plus the deadline (no second clock
            // read, which could disagree with `now`).
            let abs = clock::system_time_at(deadline_ns);
            // SAFETY: set_timer_op takes the absolute timeout in ns, by value.
            unsafe { hypercall::call3(hypercall::SET_TIMER_OP, abs, 0, 0) };
        }
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        cpu::sti_hlt_cli();
    }
}

#[cfg(test)]
mod tests {
    use super::take_pending;
    use core::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn takes_pending_unmasked_ports_once() {
        let sel = AtomicU64::new(0b101);
        let pending: [AtomicU64; 3] = [
            AtomicU64::new(0b1010),
            AtomicU64::new(1),
            AtomicU64::new(1 << 63 | 1),
        ];
        let mask: [AtomicU64; 3] = [AtomicU64::new(0b1000), AtomicU64::new(0), AtomicU64::new(0)];
        let mut got = Vec::new();
        take_pending(&sel, &pending, &mask, |p| got.push(p));
        // Word 1 was not selected; port 3 is masked and stays pending.
        assert_eq!(got, [1, 128, 191]);
        assert_eq!(sel.load(Ordering::SeqCst), 0);
        assert_eq!(pending[0].load(Ordering::SeqCst), 0b1000);
        assert_eq!(pending[1].load(Ordering::SeqCst), 1);
        assert_eq!(pending[2].load(Ordering::SeqCst), 0);
        got.clear();
        take_pending(&sel, &pending, &mask, |p| got.push(p));
        assert!(got.is_empty());
    }
}
