//! [`petrel_block`] on Solo5 hvt and spt: the tender's `BLOCK_BASIC` devices, named in the
//! image's manifest after their instances (`--block:storage=disk.img`).
//!
//! Transfers go through `petrel_platform_solo5::{block_read, block_write}`, which issue one
//! host request per block (the spt seccomp filter allows exactly one block per `pread64` /
//! `pwrite64`).
#![no_std]
#![warn(missing_docs)]

use petrel_block::{Block, BlockError, BlockInfo};
use petrel_platform_solo5 as solo5;

/// The device constructor the generated crate calls for each `type = "block"` instance:
/// acquires the manifest device `name`, or prints why it cannot and exits 255.
pub async fn connect(
    name: &'static str,
    _params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
) -> Block {
    Block::acquire_or_exit(name)
}

/// The Solo5 block backend.
pub struct Solo5Block;

#[petrel_macros::implements]
impl petrel_block::BlockBackend for Solo5Block {
    fn acquire(name: &str) -> Result<u64, BlockError> {
        // The platform hands each device out once (Solo5's contract).
        match solo5::block_acquire(name) {
            Ok((handle, _)) => Ok(handle),
            Err(solo5::Error::Busy) => Err(BlockError::Busy),
            Err(_) => Err(BlockError::NotFound),
        }
    }

    fn info(handle: u64) -> BlockInfo {
        info_of(handle)
    }

    fn read(handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        info_of(handle).check_offset(offset, buf.len())?;
        solo5::block_read(handle, offset, buf).map_err(|_| BlockError::Io)
    }

    fn write(handle: u64, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        info_of(handle).check_offset(offset, buf.len())?;
        solo5::block_write(handle, offset, buf).map_err(|_| BlockError::Io)
    }
}

/// The size of disk `handle`; an unknown handle has no sectors, so every transfer is refused.
fn info_of(handle: u64) -> BlockInfo {
    match solo5::block_info(handle) {
        Ok(i) => to_info(i),
        Err(_) => BlockInfo {
            sector_size: 512,
            sectors: 0,
        },
    }
}

/// Solo5's facts (bytes) as sectors.
fn to_info(i: solo5::BlockInfo) -> BlockInfo {
    BlockInfo {
        sector_size: i.block_size,
        sectors: i.capacity / i.block_size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solo5_sizes_become_sectors() {
        let i = to_info(solo5::BlockInfo {
            capacity: 1 << 20,
            block_size: 512,
        });
        assert_eq!(
            i,
            BlockInfo {
                sector_size: 512,
                sectors: 2048
            }
        );
        assert_eq!(i.capacity(), 1 << 20);
    }
}
