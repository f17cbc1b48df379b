//! Petrel interface: random bytes from the platform.
#![no_std]
#![warn(missing_docs)]

/// A source of random bytes.
#[petrel_macros::interface]
pub trait Random {
    /// Fills `buf` with random bytes from the best source the target has.
    fn fill(buf: &mut [u8]);
}

/// A random `u64`.
pub fn u64() -> u64 {
    let mut b = [0u8; 8];
    fill(&mut b);
    u64::from_le_bytes(b)
}
