//! [`petrel_block`] on virtio: legacy virtio-blk PCI devices, bound by
//! `petrel-platform-virtio` to the image's manifest in PCI order (the first `-device
//! virtio-blk-pci` is the first block device of the manifest).
//!
//! Transfers are synchronous and polled (`petrel_platform_virtio::block`).
#![no_std]
#![warn(missing_docs)]
// The backend is exported only on the bare machine (as the other `*-virtio` crates do); on a
// hosted build (workspace checks, unit tests) its helpers are unused.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

use petrel_block::{BlockError, BlockInfo};
use petrel_device_adapter::block::{BlockDevices, BlockDriver};
use petrel_platform_virtio::block::{self as blk, IoError};

pub use petrel_device_adapter::block::connect;

/// The acquired disks; a backend handle is an index in this table.
static DISKS: BlockDevices<Disk> = BlockDevices::new();

/// A virtio-blk disk as the adapter drives it.
struct Disk(blk::Block);

impl BlockDriver for Disk {
    fn info(&self) -> BlockInfo {
        to_info(self.0.info())
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.0.read(offset, buf).map_err(io_error)
    }

    fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.0.write(offset, buf).map_err(io_error)
    }
}

/// The virtio block backend.
pub struct VirtioBlock;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_block::BlockBackend for VirtioBlock {
    fn acquire(name: &str) -> Result<u64, BlockError> {
        DISKS.acquire(blk::acquire(name).map(Disk))
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

/// The driver's facts (bytes) as sectors.
fn to_info(i: blk::Info) -> BlockInfo {
    BlockInfo {
        sector_size: i.block_size,
        sectors: i.capacity / i.block_size,
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
    fn driver_facts_become_sectors() {
        let i = to_info(blk::Info {
            capacity: 1 << 20,
            block_size: blk::SECTOR,
        });
        assert_eq!(i.sectors, 2048);
        assert_eq!(i.sector_size, 512);
    }

    #[test]
    fn errors_map() {
        assert_eq!(io_error(IoError::ReadOnly), BlockError::ReadOnly);
        assert_eq!(io_error(IoError::Device), BlockError::Io);
    }
}
