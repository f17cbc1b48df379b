//! [`petrel_block`] on xen: PV disks through `petrel_platform_xen::blkfront`. The Nth block
//! device of the image's manifest is the guest's `device/vbd/(51712 + 16 N)`, i.e. `xvda`,
//! `xvdb`, ... (`petrel_platform_xen::devices`), which is the order of the `disk` lines
//! `petrel build --target xen` writes into `dist/NAME.xl`.
//!
//! Transfers are synchronous: blkfront moves at most a page per request, so longer ones are
//! split into pages.
#![no_std]
#![warn(missing_docs)]
// The backend is exported only on the bare machine (as the other `*-xen` crates do); on a
// hosted build (workspace checks, unit tests) its helpers are unused.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

extern crate alloc;

use petrel_block::{BlockError, BlockInfo};
use petrel_device_adapter::block::{BlockDevices, BlockDriver};
use petrel_platform_xen::blkfront::{Blkfront, IoError, SECTOR};

pub use petrel_device_adapter::block::connect;

/// The most one blkfront request moves.
const CHUNK: usize = 4096;

/// The connected disks; a backend handle is an index in this table.
static DISKS: BlockDevices<Disk> = BlockDevices::new();

/// A blkfront disk as the adapter drives it: transfers split into pages.
struct Disk(Blkfront);

impl BlockDriver for Disk {
    fn info(&self) -> BlockInfo {
        to_info(self.0.capacity())
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
            self.0
                .read(offset + (i * CHUNK) as u64, chunk)
                .map_err(io_error)?;
        }
        Ok(())
    }

    fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        for (i, chunk) in buf.chunks(CHUNK).enumerate() {
            self.0
                .write(offset + (i * CHUNK) as u64, chunk)
                .map_err(io_error)?;
        }
        Ok(())
    }
}

/// The xen block backend.
pub struct XenBlock;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_block::BlockBackend for XenBlock {
    fn acquire(name: &str) -> Result<u64, BlockError> {
        let id = petrel_platform_xen::devices::acquire_block(name)
            .map_err(petrel_device_adapter::block::acquire_error)?;
        let mut xs = petrel_platform_xen::xenstore::connect().ok_or(BlockError::NotFound)?;
        let disk = Blkfront::connect(&mut xs, id).map_err(|e| {
            e.report(&alloc::format!("device/vbd/{id}"));
            if e.not_attached() {
                BlockError::NotFound
            } else {
                BlockError::Io
            }
        })?;
        DISKS.acquire(Ok(Disk(disk)))
    }

    fn info(handle: u64) -> BlockInfo {
        DISKS.info(handle)
    }

    fn read(handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        DISKS.read(handle, offset, buf)
    }

    fn write(handle: u64, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        DISKS.write(handle, offset, buf)
    }
}

/// A capacity in bytes as sectors of the protocol's size.
fn to_info(capacity: u64) -> BlockInfo {
    BlockInfo {
        sector_size: SECTOR,
        sectors: capacity / SECTOR,
    }
}

fn io_error(e: IoError) -> BlockError {
    match e {
        IoError::Invalid => BlockError::OutOfRange,
        IoError::ReadOnly => BlockError::ReadOnly,
        IoError::Device => BlockError::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_becomes_sectors() {
        let i = to_info(1 << 20);
        assert_eq!((i.sector_size, i.sectors), (512, 2048));
    }

    #[test]
    fn errors_map() {
        assert_eq!(io_error(IoError::ReadOnly), BlockError::ReadOnly);
        assert_eq!(io_error(IoError::Device), BlockError::Io);
    }
}
