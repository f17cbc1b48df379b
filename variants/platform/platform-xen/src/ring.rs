//! The byte rings Xen's PV protocols share with dom0 (the console's `out`/`in`, xenstore's
//! `req`/`rsp`): a power-of-two buffer and two free-running 32-bit indexes, the consumer's
//! and the producer's, each written by one side only. The producer fills bytes first and
//! publishes its index after them (release); the consumer reads the index (acquire) before
//! the bytes.

use core::sync::atomic::{Ordering, fence};

/// One direction of a ring in a shared page.
#[derive(Clone, Copy, Debug)]
pub struct Ring {
    /// Address of the buffer.
    pub buf: usize,
    /// Its size (a power of two).
    pub size: u32,
    /// Address of the consumer index.
    pub cons: usize,
    /// Address of the producer index.
    pub prod: usize,
}

impl Ring {
    fn load(addr: usize) -> u32 {
        // SAFETY: `Ring`s are only built over a mapped shared page (see the constructors of
        // the users); the other side writes the index concurrently, hence volatile.
        unsafe { core::ptr::read_volatile(addr as *const u32) }
    }

    fn store(addr: usize, v: u32) {
        // SAFETY: as in `load`; this side owns the index it stores.
        unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
    }

    /// Producer side: copies as much of `bytes` as fits, publishes it, returns how much.
    pub fn put(&self, bytes: &[u8]) -> usize {
        let cons = Self::load(self.cons);
        fence(Ordering::Acquire);
        let mut prod = Self::load(self.prod);
        let free = self.size - prod.wrapping_sub(cons).min(self.size);
        let n = bytes.len().min(free as usize);
        for &b in &bytes[..n] {
            let at = self.buf + (prod & (self.size - 1)) as usize;
            // SAFETY: inside the buffer, in a slot the consumer has released.
            unsafe { core::ptr::write_volatile(at as *mut u8, b) };
            prod = prod.wrapping_add(1);
        }
        // The bytes before the index that hands them over.
        fence(Ordering::Release);
        Self::store(self.prod, prod);
        n
    }

    /// Consumer side: copies up to `out.len()` available bytes, releases them, returns how
    /// many.
    pub fn take(&self, out: &mut [u8]) -> usize {
        let prod = Self::load(self.prod);
        fence(Ordering::Acquire);
        let mut cons = Self::load(self.cons);
        let n = out
            .len()
            .min(prod.wrapping_sub(cons).min(self.size) as usize);
        for o in &mut out[..n] {
            let at = self.buf + (cons & (self.size - 1)) as usize;
            // SAFETY: inside the buffer, in a slot the producer has published.
            *o = unsafe { core::ptr::read_volatile(at as *const u8) };
            cons = cons.wrapping_add(1);
        }
        // Done reading before the slots are handed back.
        fence(Ordering::Release);
        Self::store(self.cons, cons);
        n
    }

    /// Bytes published and not yet consumed.
    pub fn pending(&self) -> u32 {
        Self::load(self.prod).wrapping_sub(Self::load(self.cons))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::Ring;

    /// A zeroed, page-aligned page for tests.
    #[repr(C, align(4096))]
    pub(crate) struct Page(pub [u8; 4096]);

    pub(crate) fn page() -> Box<Page> {
        Box::new(Page([0; 4096]))
    }

    #[test]
    fn bytes_go_round_in_order_across_the_wrap() {
        let p = page();
        let base = p.0.as_ptr() as usize;
        let ring = Ring {
            buf: base,
            size: 16,
            cons: base + 16,
            prod: base + 20,
        };
        // Start near the wrap of the 32-bit indexes too.
        super::Ring::store(ring.cons, u32::MAX - 5);
        super::Ring::store(ring.prod, u32::MAX - 5);
        let mut got = Vec::new();
        let data: Vec<u8> = (0..100).collect();
        let mut sent = 0;
        while got.len() < data.len() {
            sent += ring.put(&data[sent..]);
            assert!(ring.pending() <= 16);
            let mut buf = [0u8; 7];
            let n = ring.take(&mut buf);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, data);
        assert_eq!(ring.pending(), 0);
        // Full ring: nothing more goes in.
        assert_eq!(ring.put(&[1; 20]), 16);
        assert_eq!(ring.put(&[1]), 0);
    }
}
