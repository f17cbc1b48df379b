//! Legacy ("transitional") virtio over PCI: the I/O BAR registers and split virtqueues.
//!
//! Register block at BAR 0 (I/O space), virtio 0.9.5 / virtio 1.x §4.1.4.8 "legacy
//! interface": device features 0x00, driver features 0x04, queue PFN 0x08, queue size 0x0C,
//! queue select 0x0E, queue notify 0x10, status 0x12, ISR 0x13, device configuration from
//! 0x14 (no MSI-X). A legacy queue is one physically contiguous, 4 KiB-aligned block:
//! descriptors, the available ring, then the used ring at the next 4 KiB boundary. Memory is
//! identity-mapped, so a virtual address is the physical address the device uses.

use alloc::alloc::{Layout, alloc_zeroed};
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{Ordering, fence};

use crate::cpu::{inb, inl, inw, outb, outl, outw};

/// Status bit: the guest noticed the device.
const STATUS_ACKNOWLEDGE: u8 = 1;
/// Status bit: the guest has a driver for it.
const STATUS_DRIVER: u8 = 2;
/// Status bit: the driver is ready.
const STATUS_DRIVER_OK: u8 = 4;
/// Status bit: the driver gave up.
const STATUS_FAILED: u8 = 0x80;

/// Descriptor flag: the chain continues at `next`.
pub const DESC_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer.
pub const DESC_WRITE: u16 = 2;

/// A legacy virtio device's register block.
#[derive(Debug, Clone, Copy)]
pub struct Legacy {
    /// Base of BAR 0 in I/O space.
    pub io: u16,
}

impl Legacy {
    /// Resets the device and announces a driver. Returns the device's feature bits.
    pub fn begin(&self) -> u32 {
        outb(self.io + 0x12, 0);
        outb(self.io + 0x12, STATUS_ACKNOWLEDGE);
        outb(self.io + 0x12, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        inl(self.io)
    }

    /// Accepts `features`.
    pub fn set_features(&self, features: u32) {
        outl(self.io + 0x04, features);
    }

    /// Marks the driver ready.
    pub fn ready(&self) {
        outb(
            self.io + 0x12,
            STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK,
        );
    }

    /// Marks the driver failed.
    pub fn fail(&self) {
        outb(self.io + 0x12, STATUS_FAILED);
    }

    /// Reads (and thereby clears) the ISR status; non-zero if the device interrupted.
    pub fn isr(&self) -> u8 {
        inb(self.io + 0x13)
    }

    /// Reads a byte of the device-specific configuration.
    pub fn config8(&self, offset: u16) -> u8 {
        inb(self.io + 0x14 + offset)
    }

    /// Reads a 16-bit word of the device-specific configuration.
    pub fn config16(&self, offset: u16) -> u16 {
        inw(self.io + 0x14 + offset)
    }

    /// Reads a 32-bit word of the device-specific configuration.
    pub fn config32(&self, offset: u16) -> u32 {
        inl(self.io + 0x14 + offset)
    }

    /// Tells the device that queue `index` has new buffers.
    pub fn notify(&self, index: u16) {
        outw(self.io + 0x10, index);
    }
}

/// One split-virtqueue descriptor.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Desc {
    /// Physical address of the buffer.
    pub addr: u64,
    /// Its length in bytes.
    pub len: u32,
    /// [`DESC_NEXT`], [`DESC_WRITE`].
    pub flags: u16,
    /// Next descriptor of the chain.
    pub next: u16,
}

/// A split virtqueue in the legacy layout. Never freed: devices live as long as the
/// unikernel.
pub struct Queue {
    /// The queue's number on its device.
    pub index: u16,
    /// Number of descriptors.
    pub size: u16,
    base: *mut u8,
    used_offset: usize,
    /// Next free slot in the available ring (free-running).
    avail_idx: u16,
    /// Next used-ring entry to consume (free-running).
    last_used: u16,
}

impl Queue {
    /// Sets up queue `index` of `dev` with the size the device offers. `None` if the device
    /// has no such queue.
    pub fn new(dev: &Legacy, index: u16) -> Option<Queue> {
        outw(dev.io + 0x0E, index);
        let size = inw(dev.io + 0x0C);
        if size == 0 {
            return None;
        }
        let n = usize::from(size);
        let used_offset = (16 * n + 6 + 2 * n).next_multiple_of(4096);
        let total = used_offset + (6 + 8 * n).next_multiple_of(4096);
        let layout = Layout::from_size_align(total, 4096).ok()?;
        // SAFETY: `layout` has a non-zero size.
        let base = unsafe { alloc_zeroed(layout) };
        if base.is_null() {
            return None;
        }
        outl(dev.io + 0x08, (base as usize >> 12) as u32);
        Some(Queue {
            index,
            size,
            base,
            used_offset,
            avail_idx: 0,
            last_used: 0,
        })
    }

    /// Writes descriptor `i`.
    pub fn set_desc(&mut self, i: u16, desc: Desc) {
        assert!(i < self.size);
        // SAFETY: `i < size`, and the descriptor table is the first `16 * size` bytes of the
        // queue block, which this queue owns.
        unsafe { write_volatile((self.base as *mut Desc).add(usize::from(i)), desc) }
    }

    /// Asks the device not to interrupt for this queue (a hint; we poll).
    pub fn suppress_interrupts(&mut self) {
        // SAFETY: the available ring's flags are at `16 * size` inside the owned block.
        unsafe { write_volatile(self.base.add(16 * usize::from(self.size)) as *mut u16, 1) }
    }

    /// Makes the chain starting at descriptor `head` available to the device (call
    /// [`Legacy::notify`] afterwards).
    pub fn push(&mut self, head: u16) {
        let avail = self.base.wrapping_add(16 * usize::from(self.size)) as *mut u16;
        let slot = usize::from(self.avail_idx % self.size);
        // Descriptors must be visible before the ring entry, and the entry before the index.
        fence(Ordering::SeqCst);
        // SAFETY: the available ring (flags, idx, ring[size]) lies inside the owned block.
        unsafe { write_volatile(avail.add(2 + slot), head) };
        fence(Ordering::SeqCst);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        // SAFETY: as above; `idx` is the second u16.
        unsafe { write_volatile(avail.add(1), self.avail_idx) };
        fence(Ordering::SeqCst);
    }

    /// Takes the next used chain, if the device has returned one: `(head, bytes written)`.
    pub fn pop_used(&mut self) -> Option<(u16, u32)> {
        let used = self.base.wrapping_add(self.used_offset);
        // SAFETY: the used ring (flags, idx, ring[size] of {id u32, len u32}) lies inside
        // the owned block at `used_offset`.
        let idx = unsafe { read_volatile((used as *mut u16).add(1)) };
        if idx == self.last_used {
            return None;
        }
        fence(Ordering::SeqCst);
        let slot = usize::from(self.last_used % self.size);
        // SAFETY: `slot < size`, inside the used ring.
        let (id, len) = unsafe {
            let elem = used.add(4 + 8 * slot) as *mut u32;
            (read_volatile(elem), read_volatile(elem.add(1)))
        };
        self.last_used = self.last_used.wrapping_add(1);
        Some((id as u16, len))
    }
}
