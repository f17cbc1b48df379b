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

use petrel_block::{Block, BlockError, BlockInfo};
use petrel_platform_virtio::block::{self as blk, IoError};
use petrel_platform_virtio::devices::AcquireError;
use petrel_rt_core::single_core::Handles;

/// The device constructor the generated crate calls for each `type = "block"` instance:
/// acquires the manifest device `name`, or prints why it cannot and exits 255.
pub async fn connect(
    name: &'static str,
    _params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
) -> Block {
    Block::acquire_or_exit(name)
}

/// The acquired disks; a backend handle is an index in this table.
static DISKS: Handles<blk::Block> = Handles::new();

/// Runs `f` on disk `handle`; an unknown handle is out of range.
fn with_disk<T>(
    handle: u64,
    f: impl FnOnce(&mut blk::Block) -> Result<T, BlockError>,
) -> Result<T, BlockError> {
    DISKS.with(handle, f).unwrap_or(Err(BlockError::OutOfRange))
}

/// The virtio block backend.
pub struct VirtioBlock;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_block::BlockBackend for VirtioBlock {
    fn acquire(name: &str) -> Result<u64, BlockError> {
        let disk = blk::acquire(name).map_err(acquire_error)?;
        Ok(DISKS.insert(disk))
    }

    fn info(handle: u64) -> BlockInfo {
        info_of(handle)
    }

    fn read(handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        with_disk(handle, |d| {
            to_info(d.info()).check_offset(offset, buf.len())?;
            d.read(offset, buf).map_err(io_error)
        })
    }

    fn write(handle: u64, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        with_disk(handle, |d| {
            to_info(d.info()).check_offset(offset, buf.len())?;
            d.write(offset, buf).map_err(io_error)
        })
    }
}

/// The size of disk `handle`; an unknown handle has no sectors, so every transfer is refused.
fn info_of(handle: u64) -> BlockInfo {
    with_disk(handle, |d| Ok(to_info(d.info()))).unwrap_or(BlockInfo {
        sector_size: blk::SECTOR,
        sectors: 0,
    })
}

/// The driver's facts (bytes) as sectors.
fn to_info(i: blk::Info) -> BlockInfo {
    BlockInfo {
        sector_size: i.block_size,
        sectors: i.capacity / i.block_size,
    }
}

fn acquire_error(e: AcquireError) -> BlockError {
    match e {
        AcquireError::NotFound | AcquireError::WrongType => BlockError::NotFound,
        AcquireError::Busy => BlockError::Busy,
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
        assert_eq!(acquire_error(AcquireError::Busy), BlockError::Busy);
        assert_eq!(acquire_error(AcquireError::WrongType), BlockError::NotFound);
        assert_eq!(io_error(IoError::ReadOnly), BlockError::ReadOnly);
        assert_eq!(io_error(IoError::Device), BlockError::Io);
    }

    #[test]
    fn unknown_handles_have_no_sectors() {
        assert_eq!(info_of(7).sectors, 0);
    }
}
