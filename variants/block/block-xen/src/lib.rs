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

use petrel_block::{Block, BlockError, BlockInfo};
use petrel_platform_xen::blkfront::{Blkfront, IoError, SECTOR};
use petrel_platform_xen::devices::AcquireError;
use petrel_rt_core::single_core::Handles;

/// The most one blkfront request moves.
const CHUNK: usize = 4096;

/// The device constructor the generated crate calls for each `type = "block"` instance:
/// connects the PV disk of manifest device `name`, or prints why it cannot and exits 255.
pub async fn connect(
    name: &'static str,
    _params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
) -> Block {
    Block::acquire_or_exit(name)
}

/// The connected disks; a backend handle is an index in this table.
static DISKS: Handles<Blkfront> = Handles::new();

/// Runs `f` on disk `handle`; an unknown handle is out of range.
fn with_disk<T>(
    handle: u64,
    f: impl FnOnce(&mut Blkfront) -> Result<T, BlockError>,
) -> Result<T, BlockError> {
    DISKS.with(handle, f).unwrap_or(Err(BlockError::OutOfRange))
}

/// The xen block backend.
pub struct XenBlock;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_block::BlockBackend for XenBlock {
    fn acquire(name: &str) -> Result<u64, BlockError> {
        let id = petrel_platform_xen::devices::acquire_block(name).map_err(acquire_error)?;
        let mut xs = petrel_platform_xen::xenstore::connect().ok_or(BlockError::NotFound)?;
        let disk = Blkfront::connect(&mut xs, id).map_err(|_| BlockError::NotFound)?;
        Ok(DISKS.insert(disk))
    }

    fn info(handle: u64) -> BlockInfo {
        info_of(handle)
    }

    fn read(handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        with_disk(handle, |d| {
            to_info(d.capacity()).check_offset(offset, buf.len())?;
            for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
                d.read(offset + (i * CHUNK) as u64, chunk)
                    .map_err(io_error)?;
            }
            Ok(())
        })
    }

    fn write(handle: u64, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        with_disk(handle, |d| {
            to_info(d.capacity()).check_offset(offset, buf.len())?;
            for (i, chunk) in buf.chunks(CHUNK).enumerate() {
                d.write(offset + (i * CHUNK) as u64, chunk)
                    .map_err(io_error)?;
            }
            Ok(())
        })
    }
}

/// The size of disk `handle`; an unknown handle has no sectors, so every transfer is refused.
fn info_of(handle: u64) -> BlockInfo {
    with_disk(handle, |d| Ok(to_info(d.capacity()))).unwrap_or(to_info(0))
}

/// A capacity in bytes as sectors of the protocol's size.
fn to_info(capacity: u64) -> BlockInfo {
    BlockInfo {
        sector_size: SECTOR,
        sectors: capacity / SECTOR,
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
    fn capacity_becomes_sectors() {
        let i = to_info(1 << 20);
        assert_eq!((i.sector_size, i.sectors), (512, 2048));
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
