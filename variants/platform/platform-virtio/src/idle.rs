//! Idling: `sti; hlt` until the PIT one-shot for the next deadline, or a device interrupt.

use core::sync::atomic::{AtomicU64, Ordering};
use core::task::Waker;

use petrel_rt_core::single_core::DeviceWakers;

use crate::{clock, cpu, trap};

/// The task waiting for each device's next interrupt, by handle.
static WAKERS: DeviceWakers = DeviceWakers::new();
/// How many times the CPU halted (for tests and diagnostics).
static HALTS: AtomicU64 = AtomicU64::new(0);

/// Wakes `waker` after the next interrupt of device `handle`. One-shot.
pub fn register_waker(handle: usize, waker: &Waker) {
    WAKERS.register(handle as u64, waker);
}

/// How many times [`idle`] has halted the CPU since boot.
pub fn halts() -> u64 {
    HALTS.load(Ordering::Relaxed)
}

/// Halts until the monotonic clock reaches `deadline_ns` or a device interrupts; wakes the
/// tasks registered for the devices that did. The PIT reaches at most about 55 ms ahead, so a
/// long sleep is a series of halts, each re-armed. With `u64::MAX` and no device interrupt
/// this halts forever (nothing could ever wake the unikernel).
pub fn idle(deadline_ns: u64) {
    loop {
        let events = trap::take_device_events();
        if events != 0 {
            WAKERS.wake(events);
            return;
        }
        let now = clock::monotonic_ns();
        if now >= deadline_ns {
            return;
        }
        if deadline_ns != u64::MAX {
            clock::arm_oneshot(deadline_ns - now);
        }
        HALTS.fetch_add(1, Ordering::Relaxed);
        cpu::sti_hlt_cli();
    }
}
