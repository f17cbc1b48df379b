//! The boot command line of a target whose loader leaves it in memory the heap may reuse
//! (virtio's multiboot information, xen's `hvm_start_info`): copied once by the entry point.

use crate::single_core::BootOnce;

/// Solo5 truncates the command line to 8191 bytes; so do the other freestanding targets.
pub const MAX: usize = 8191;

/// The command line, written once at boot.
pub struct BootCmdline(BootOnce<([u8; MAX], usize)>);

impl BootCmdline {
    /// Empty, for a `static`.
    pub const fn new() -> Self {
        BootCmdline(BootOnce::new(([0; MAX], 0)))
    }

    /// Copies `args` (at most [`MAX`] bytes of it).
    ///
    /// # Safety
    ///
    /// As [`BootOnce::boot_mut`]: only the entry point calls it, once, before anything reads
    /// the command line; `args` must not overlap the `static`.
    pub unsafe fn store(&self, args: &[u8]) {
        let n = args.len().min(MAX);
        // SAFETY: the caller's contract.
        let (bytes, len) = unsafe { self.0.boot_mut() };
        bytes[..n].copy_from_slice(&args[..n]);
        *len = n;
    }

    /// The stored bytes.
    pub fn get(&self) -> &[u8] {
        let (bytes, len) = self.0.get();
        &bytes[..*len]
    }
}

impl Default for BootCmdline {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::{BootCmdline, MAX};

    #[test]
    fn keeps_at_most_max_bytes() {
        let c = BootCmdline::new();
        assert_eq!(c.get(), b"");
        let long = [b'x'; MAX + 10];
        // SAFETY: a local value, nothing else reads it while it is stored.
        unsafe { c.store(&long) };
        assert_eq!(c.get().len(), MAX);
        let c = BootCmdline::new();
        // SAFETY: as above.
        unsafe { c.store(b"a b") };
        assert_eq!(c.get(), b"a b");
    }
}
