//! The table of acquired devices a driver crate keeps: a device's backend handle is its index.

use alloc::vec::Vec;
use core::cell::RefCell;

/// Acquired devices of one kind, by handle.
pub struct Handles<T>(RefCell<Vec<T>>);

// SAFETY: a virtio guest runs one thread and the drivers are never touched from an interrupt
// handler, so the `RefCell` is never accessed concurrently.
unsafe impl<T> Sync for Handles<T> {}

impl<T> Handles<T> {
    /// An empty table, for a `static`.
    pub const fn new() -> Self {
        Handles(RefCell::new(Vec::new()))
    }

    /// Stores a newly acquired device and returns its handle.
    pub fn insert(&self, device: T) -> u64 {
        let mut devices = self.0.borrow_mut();
        devices.push(device);
        devices.len() as u64 - 1
    }

    /// Runs `f` on device `handle`; `None` for a handle never returned by [`Handles::insert`].
    pub fn with<R>(&self, handle: u64, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut devices = self.0.borrow_mut();
        let device = usize::try_from(handle)
            .ok()
            .and_then(|i| devices.get_mut(i))?;
        Some(f(device))
    }
}

impl<T> Default for Handles<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_indices_and_unknown_ones_are_none() {
        let table: Handles<u32> = Handles::new();
        assert_eq!(table.insert(7), 0);
        assert_eq!(table.insert(8), 1);
        assert_eq!(
            table.with(1, |d| {
                *d += 1;
                *d
            }),
            Some(9)
        );
        assert_eq!(table.with(2, |d| *d), None);
        assert_eq!(table.with(u64::MAX, |d| *d), None);
    }
}
