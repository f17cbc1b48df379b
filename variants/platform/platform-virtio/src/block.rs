//! virtio-blk (legacy): synchronous, one request at a time, polled.
//!
//! A device crate acquires a disk by manifest name ([`acquire`]) or handle
//! ([`acquire_handle`]) and then reads and writes whole 512-byte sectors.

use alloc::boxed::Box;

use crate::devices::{self, AcquireError, Driver};
use crate::virtio::{DESC_NEXT, DESC_WRITE, Desc, Legacy, Queue};

/// Sector size: what virtio-blk addresses in, and the unit of every transfer.
pub const SECTOR: u64 = 512;

/// Feature bit: the device is read-only.
const F_RO: u32 = 1 << 5;

/// How long a request may take before it counts as failed.
const TIMEOUT_NS: u64 = 30_000_000_000;

/// A request header and its status byte, kept together in one heap block.
#[repr(C)]
struct Req {
    ty: u32,
    reserved: u32,
    sector: u64,
    status: u8,
}

/// The driver of one legacy virtio-blk device.
pub struct Blk {
    dev: Legacy,
    queue: Queue,
    sectors: u64,
    read_only: bool,
    req: Box<Req>,
}

impl Blk {
    /// Initialises the device. `None` if it has no request queue.
    pub(crate) fn new(dev: Legacy) -> Option<Blk> {
        let features = dev.begin();
        dev.set_features(features & F_RO);
        let mut queue = Queue::new(&dev, 0)?;
        if queue.size < 3 {
            return None;
        }
        queue.suppress_interrupts();
        let sectors = u64::from(dev.config32(0)) | (u64::from(dev.config32(4)) << 32);
        dev.ready();
        let req = Box::new(Req {
            ty: 0,
            reserved: 0,
            sector: 0,
            status: 0xFF,
        });
        Some(Blk {
            dev,
            queue,
            sectors,
            read_only: features & F_RO != 0,
            req,
        })
    }

    fn transfer(
        &mut self,
        write: bool,
        sector: u64,
        data: *mut u8,
        len: usize,
    ) -> Result<(), IoError> {
        let req: *mut Req = &mut *self.req;
        // SAFETY: `req` points to the boxed request, owned by this driver.
        unsafe {
            (*req).ty = u32::from(write);
            (*req).sector = sector;
            (*req).status = 0xFF;
        }
        let status = &raw mut self.req.status;
        self.queue.set_desc(
            0,
            Desc {
                addr: req as u64,
                len: 16,
                flags: DESC_NEXT,
                next: 1,
            },
        );
        let data_flags = if write {
            DESC_NEXT
        } else {
            DESC_NEXT | DESC_WRITE
        };
        self.queue.set_desc(
            1,
            Desc {
                addr: data as u64,
                len: len as u32,
                flags: data_flags,
                next: 2,
            },
        );
        self.queue.set_desc(
            2,
            Desc {
                addr: status as u64,
                len: 1,
                flags: DESC_WRITE,
                next: 0,
            },
        );
        self.queue.push(0);
        self.dev.notify(0);
        let start = crate::clock::monotonic_ns();
        loop {
            if self.queue.pop_used().is_some() {
                break;
            }
            if crate::clock::monotonic_ns().saturating_sub(start) > TIMEOUT_NS {
                return Err(IoError::Device);
            }
            core::hint::spin_loop();
        }
        // Clear the ISR so that the (masked) line is deasserted.
        let _ = self.dev.isr();
        // SAFETY: the device has finished with the request; `status` is in the box.
        match unsafe { core::ptr::read_volatile(status) } {
            0 => Ok(()),
            _ => Err(IoError::Device),
        }
    }
}

/// Why a transfer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoError {
    /// The offset or length is not a multiple of [`SECTOR`], is empty, or runs past the end.
    Invalid,
    /// The device is read-only.
    ReadOnly,
    /// The device reported an error or did not answer.
    Device,
}

/// Size facts, as Solo5's `solo5_block_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// Capacity in bytes.
    pub capacity: u64,
    /// The transfer unit, in bytes ([`SECTOR`]).
    pub block_size: u64,
}

/// An acquired disk.
pub struct Block {
    handle: usize,
    drv: Blk,
}

/// Acquires the block device `name` of the manifest (once).
pub fn acquire(name: &str) -> Result<Block, AcquireError> {
    acquire_handle(devices::handle_of(
        name,
        petrel_rt_core::solo5::MFT_DEV_BLOCK_BASIC,
    )?)
}

/// Acquires the block device at manifest index `handle` (once).
pub fn acquire_handle(handle: usize) -> Result<Block, AcquireError> {
    match devices::take(handle)? {
        Driver::Blk(drv) => Ok(Block { handle, drv }),
        other => {
            devices::put_back(handle, other);
            Err(AcquireError::WrongType)
        }
    }
}

impl Block {
    /// The manifest index.
    pub fn handle(&self) -> usize {
        self.handle
    }

    /// Capacity and block size.
    pub fn info(&self) -> Info {
        Info {
            capacity: self.drv.sectors * SECTOR,
            block_size: SECTOR,
        }
    }

    /// Whether the device refuses writes.
    pub fn read_only(&self) -> bool {
        self.drv.read_only
    }

    fn check(&self, offset: u64, len: usize) -> Result<u64, IoError> {
        let len = len as u64;
        if len == 0
            || !len.is_multiple_of(SECTOR)
            || !offset.is_multiple_of(SECTOR)
            || len > u64::from(u32::MAX)
        {
            return Err(IoError::Invalid);
        }
        match offset.checked_add(len) {
            Some(end) if end <= self.drv.sectors * SECTOR => Ok(offset / SECTOR),
            _ => Err(IoError::Invalid),
        }
    }

    /// Reads `buf.len()` bytes at byte `offset` (both multiples of [`SECTOR`]).
    pub fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let sector = self.check(offset, buf.len())?;
        self.drv
            .transfer(false, sector, buf.as_mut_ptr(), buf.len())
    }

    /// Writes `buf` at byte `offset` (both multiples of [`SECTOR`]).
    pub fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), IoError> {
        let sector = self.check(offset, buf.len())?;
        if self.drv.read_only {
            return Err(IoError::ReadOnly);
        }
        // The device only reads this buffer (no DESC_WRITE), so the cast away from const is
        // never written through.
        self.drv
            .transfer(true, sector, buf.as_ptr() as *mut u8, buf.len())
    }
}
