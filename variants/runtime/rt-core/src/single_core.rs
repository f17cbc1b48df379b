//! Shared state of a freestanding unikernel, with its one audited safety argument.
//!
//! Every freestanding target (Solo5 hvt/spt, virtio, xen) runs **one thread on one CPU**, and
//! its interrupt handlers (virtio's, xen's upcall) touch only atomics. So state that the
//! runtime and the device crates share needs no lock: a `RefCell` checked at run time is
//! enough, and a value written once at boot, before anything reads it, needs not even that.
//! The types here are the only places where that argument is made (`unsafe impl Sync`); the
//! platform and device crates build on them instead of writing their own.
//!
//! - [`Global`]: a `static` `RefCell` (device tables, driver state).
//! - [`BootOnce`]: a value the entry point writes once before any other code runs.
//! - [`Handles`]: the table of acquired devices of a driver crate; a handle is an index.
//! - [`Claims`]: a manifest device can be acquired once (Solo5's contract).
//! - [`DeviceWakers`]: the task waiting for each device's next event.

use alloc::vec::Vec;
use core::cell::{RefCell, UnsafeCell};
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::Waker;

/// A `static` value shared by the code of a single-threaded, single-CPU unikernel. Interrupt
/// handlers must not use it (they use atomics).
pub struct Global<T>(RefCell<T>);

// SAFETY: the unikernel has one thread on one CPU and interrupt handlers never touch a
// `Global` (module docs), so the `RefCell` is never accessed concurrently; its run-time borrow
// check catches re-entrant use.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// A value for a `static`.
    pub const fn new(value: T) -> Self {
        Global(RefCell::new(value))
    }

    /// Runs `f` with the value. `f` must not call back into something that uses the same
    /// `Global` (that panics: "already borrowed"); take what you need out first (as
    /// [`DeviceWakers::wake`] takes a waker out before waking it).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }
}

/// A value the entry point writes once, before any other code runs, and that is only read
/// afterwards (the boot facts, the command line).
pub struct BootOnce<T>(UnsafeCell<T>);

// SAFETY: written once by the entry point before any reader exists (`set`'s contract), on the
// unikernel's one CPU; read-only afterwards.
unsafe impl<T> Sync for BootOnce<T> {}

impl<T> BootOnce<T> {
    /// The value before boot.
    pub const fn new(value: T) -> Self {
        BootOnce(UnsafeCell::new(value))
    }

    /// The value for the entry point to fill in place.
    ///
    /// # Safety
    ///
    /// Only the entry point calls it, once, before any call of [`BootOnce::get`] and before
    /// any other code runs.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn boot_mut(&self) -> &mut T {
        // SAFETY: no other reference exists yet (the caller's contract).
        unsafe { &mut *self.0.get() }
    }

    /// The value (as it was before boot if read before the entry point wrote it).
    pub fn get(&self) -> &T {
        // SAFETY: after boot nothing writes (see `boot_mut`), so shared references are sound.
        unsafe { &*self.0.get() }
    }
}

/// The acquired devices of one kind in a driver crate, by handle: a device's backend handle
/// is its index in the table.
pub struct Handles<T>(Global<Vec<T>>);

impl<T> Handles<T> {
    /// An empty table, for a `static`.
    pub const fn new() -> Self {
        Handles(Global::new(Vec::new()))
    }

    /// Stores a newly acquired device and returns its handle.
    pub fn insert(&self, device: T) -> u64 {
        self.0.with(|devices| {
            devices.push(device);
            devices.len() as u64 - 1
        })
    }

    /// Runs `f` on device `handle`; `None` for a handle never returned by [`Handles::insert`].
    pub fn with<R>(&self, handle: u64, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.0.with(|devices| {
            let device = usize::try_from(handle)
                .ok()
                .and_then(|i| devices.get_mut(i))?;
            Some(f(device))
        })
    }
}

impl<T> Default for Handles<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a device cannot be claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimError {
    /// Not a handle a manifest can have (0 to 63).
    Invalid,
    /// Claimed before: each device is handed out once.
    Busy,
}

/// Which manifest handles (0 to 63; a manifest has at most 64 entries) have been acquired.
pub struct Claims(AtomicU64);

impl Claims {
    /// Nothing claimed, for a `static`.
    pub const fn new() -> Self {
        Claims(AtomicU64::new(0))
    }

    /// Marks `handle` acquired; a second claim of it is [`ClaimError::Busy`].
    pub fn claim(&self, handle: u64) -> Result<(), ClaimError> {
        let bit = u32::try_from(handle)
            .ok()
            .and_then(|h| 1u64.checked_shl(h))
            .ok_or(ClaimError::Invalid)?;
        if self.0.fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            return Err(ClaimError::Busy);
        }
        Ok(())
    }
}

impl Default for Claims {
    fn default() -> Self {
        Self::new()
    }
}

/// For each device handle (0 to 63), the task to wake at the device's next event. One waker
/// per device: a newer registration replaces the older one, so a task that polls a quiet
/// device many times keeps one entry, not one per poll.
pub struct DeviceWakers(Global<[Option<Waker>; 64]>);

impl DeviceWakers {
    /// No waiter, for a `static`.
    pub const fn new() -> Self {
        DeviceWakers(Global::new([const { None }; 64]))
    }

    /// Wakes `waker` at the next event of device `handle`. One-shot: register again after
    /// each wake-up. A handle above 63 is ignored (no manifest has it).
    pub fn register(&self, handle: u64, waker: &Waker) {
        if let Ok(i) = usize::try_from(handle)
            && i < 64
        {
            self.0.with(|w| match &mut w[i] {
                Some(old) if old.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            });
        }
    }

    /// Wakes the waiters of the devices in `ready` (bit *i* = handle *i*).
    pub fn wake(&self, ready: u64) {
        let mut bits = ready;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // Taken out before waking, so that a waker that registers again finds the table
            // free.
            if let Some(w) = self.0.with(|w| w[i].take()) {
                w.wake();
            }
        }
    }
}

impl Default for DeviceWakers {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn handles_are_indices_and_unknown_ones_are_none() {
        let table: Handles<u32> = Handles::new();
        assert_eq!(table.insert(7), 0);
        assert_eq!(table.insert(8), 1);
        let bumped = table.with(1, |d| {
            *d += 1;
            *d
        });
        assert_eq!(bumped, Some(9));
        assert_eq!(table.with(2, |d| *d), None);
        assert_eq!(table.with(u64::MAX, |d| *d), None);
    }

    #[test]
    fn a_device_is_claimed_once() {
        let c = Claims::new();
        assert_eq!(c.claim(1), Ok(()));
        assert_eq!(c.claim(1), Err(ClaimError::Busy));
        assert_eq!(c.claim(63), Ok(()));
        assert_eq!(c.claim(0), Ok(()));
        assert_eq!(c.claim(64), Err(ClaimError::Invalid));
        assert_eq!(c.claim(u64::MAX), Err(ClaimError::Invalid));
    }

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn wakers_fire_once_for_ready_devices_only() {
        let t = DeviceWakers::new();
        let a = Arc::new(Count(AtomicUsize::new(0)));
        let b = Arc::new(Count(AtomicUsize::new(0)));
        let (wa, wb) = (Waker::from(a.clone()), Waker::from(b.clone()));
        t.register(1, &wa);
        t.register(1, &wa); // the same task again: still one entry
        t.register(63, &wb);
        t.register(64, &wb); // no such handle: ignored
        t.wake(1 << 1);
        assert_eq!(a.0.load(Ordering::Relaxed), 1);
        assert_eq!(b.0.load(Ordering::Relaxed), 0);
        t.wake(1 << 1); // one-shot
        assert_eq!(a.0.load(Ordering::Relaxed), 1);
        t.wake(u64::MAX);
        assert_eq!(b.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn boot_once_is_read_after_its_write() {
        static CELL: BootOnce<(u32, u32)> = BootOnce::new((0, 0));
        assert_eq!(*CELL.get(), (0, 0));
        // SAFETY: the test is the only user of CELL, and nothing borrows it here.
        unsafe { CELL.boot_mut().1 = 7 };
        assert_eq!(*CELL.get(), (0, 7));
    }
}
