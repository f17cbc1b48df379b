//! Petrel interface: block devices (disks), addressed in sectors.
//!
//! A unikernel declares a disk in `unikernel.toml` (`[devices.storage] type = "block"`) and
//! receives its handle, a [`Block`], in its main function:
//!
//! ```text
//! #[petrel::main]
//! pub async fn start(storage: petrel::block::Block) {
//!     let info = storage.info();
//!     let mut sector = vec![0u8; info.sector_size as usize];
//!     storage.read(0, &mut sector).await.unwrap();
//! }
//! ```
//!
//! A device has instances, so this interface is not a set of free functions that user code
//! calls. Instead, each target provides a *backend*, the [`BlockBackend`] interface: free
//! functions keyed by a handle number ([`acquire`], [`info`], [`read`],
//! [`write`](fn@write)), and [`Block`] wraps one handle. The implementation crates
//! (`petrel-block-solo5`, `petrel-block-virtio`, `petrel-block-unix`) implement
//! [`BlockBackend`] and expose the device constructor `connect`, which the generated crate
//! calls (see `docs/architecture.md`, "Runtime contract").
//!
//! Every transfer is a whole number of sectors inside the disk; anything else is refused with
//! a [`BlockError`], never a panic. [`Block`] checks the range before it reaches the backend,
//! and the backends check again.
#![no_std]
#![warn(missing_docs)]

use core::fmt;

/// The size of a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockInfo {
    /// Bytes per sector: the unit of every transfer (a power of two, at least 512).
    pub sector_size: u64,
    /// Number of sectors.
    pub sectors: u64,
}

impl BlockInfo {
    /// Capacity in bytes (`sector_size * sectors`, saturating).
    pub fn capacity(&self) -> u64 {
        self.sector_size.saturating_mul(self.sectors)
    }

    /// Checks a transfer of `len` bytes starting at sector `sector` and returns its byte
    /// offset.
    ///
    /// `len` must be a nonzero multiple of [`sector_size`](Self::sector_size)
    /// ([`BlockError::Misaligned`] otherwise) and the sectors must all lie on the disk
    /// ([`BlockError::OutOfRange`] otherwise, also on arithmetic overflow).
    pub fn check(&self, sector: u64, len: usize) -> Result<u64, BlockError> {
        let len = len as u64;
        if self.sector_size == 0 || len == 0 || !len.is_multiple_of(self.sector_size) {
            return Err(BlockError::Misaligned);
        }
        let count = len / self.sector_size;
        match sector.checked_add(count) {
            Some(end) if end <= self.sectors => sector
                .checked_mul(self.sector_size)
                .ok_or(BlockError::OutOfRange),
            _ => Err(BlockError::OutOfRange),
        }
    }

    /// [`check`](Self::check) for a transfer given by its byte `offset`, as the
    /// [`BlockBackend`] functions receive it: the offset must be a multiple of the sector size
    /// ([`BlockError::Misaligned`] otherwise). Returns the first sector.
    pub fn check_offset(&self, offset: u64, len: usize) -> Result<u64, BlockError> {
        if self.sector_size == 0 || !offset.is_multiple_of(self.sector_size) {
            return Err(BlockError::Misaligned);
        }
        let sector = offset / self.sector_size;
        self.check(sector, len).map(|_| sector)
    }
}

/// Why a block operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockError {
    /// The platform has no block device of that name (it is not attached).
    NotFound,
    /// The device is already in use (each device is acquired once).
    Busy,
    /// The buffer is empty or not a whole number of sectors.
    Misaligned,
    /// The transfer runs past the last sector.
    OutOfRange,
    /// The device refuses writes.
    ReadOnly,
    /// The device or the host failed.
    Io,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockError::NotFound => "no such block device is attached",
            BlockError::Busy => "the block device is already in use",
            BlockError::Misaligned => "the buffer is not a whole, nonzero number of sectors",
            BlockError::OutOfRange => "the transfer runs past the end of the disk",
            BlockError::ReadOnly => "the block device is read-only",
            BlockError::Io => "the block device failed",
        })
    }
}

impl core::error::Error for BlockError {}

/// The per-target block backend: one implementation per target, keyed by handle numbers.
///
/// User code does not call it: it receives a [`Block`]. Implementation crates implement it
/// with `#[petrel_macros::implements]`.
#[petrel_macros::interface]
pub trait BlockBackend {
    /// Acquires the block device `name` (the instance name, which is also its name in the
    /// Solo5 manifest) and returns its handle. Each device can be acquired once.
    fn acquire(name: &str) -> Result<u64, BlockError>;
    /// The size of the device `handle` (a handle [`acquire`] returned).
    fn info(handle: u64) -> BlockInfo;
    /// Reads whole sectors into `buf` from byte `offset` (sector-aligned) of device `handle`.
    fn read(handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), BlockError>;
    /// Writes `buf` (whole sectors) at byte `offset` (sector-aligned) of device `handle`.
    fn write(handle: u64, offset: u64, buf: &[u8]) -> Result<(), BlockError>;
}

/// A block device: the handle the main function receives for a `type = "block"` device.
///
/// Transfers are synchronous on every current backend; the methods are `async` so that a
/// backend may queue requests without changing user code.
#[derive(Debug)]
pub struct Block {
    name: &'static str,
    handle: u64,
    info: BlockInfo,
}

impl Block {
    /// Acquires the block device `name` through the target's backend.
    pub fn acquire(name: &'static str) -> Result<Block, BlockError> {
        let handle = acquire(name)?;
        Ok(Block {
            name,
            handle,
            info: info(handle),
        })
    }

    /// Acquires the block device `name`, or prints why it cannot on the console and exits
    /// 255: what the implementations' device constructors do, since a unikernel cannot start
    /// without its declared devices.
    pub fn acquire_or_exit(name: &'static str) -> Block {
        match Block::acquire(name) {
            Ok(block) => block,
            Err(e) => {
                // The console writer cannot fail (a console may drop output, nothing more).
                let _ = fmt::write(
                    &mut petrel_console::Writer,
                    format_args!("block device `{name}`: {e}\n"),
                );
                petrel_platform::exit(255)
            }
        }
    }

    /// The instance name (`storage`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Sector size and number of sectors.
    pub fn info(&self) -> BlockInfo {
        self.info
    }

    /// Reads `buf.len()` bytes (whole sectors) starting at sector `sector`.
    pub async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let offset = self.info.check(sector, buf.len())?;
        read(self.handle, offset, buf)
    }

    /// Writes `buf` (whole sectors) starting at sector `sector`.
    pub async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlockError> {
        let offset = self.info.check(sector, buf.len())?;
        write(self.handle, offset, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISK: BlockInfo = BlockInfo {
        sector_size: 512,
        sectors: 8,
    };

    #[test]
    fn capacity() {
        assert_eq!(DISK.capacity(), 4096);
        let huge = BlockInfo {
            sector_size: 4096,
            sectors: u64::MAX,
        };
        assert_eq!(huge.capacity(), u64::MAX);
    }

    #[test]
    fn check_accepts_whole_sectors_on_the_disk() {
        assert_eq!(DISK.check(0, 512), Ok(0));
        assert_eq!(DISK.check(7, 512), Ok(3584));
        assert_eq!(DISK.check(0, 4096), Ok(0));
        assert_eq!(DISK.check(6, 1024), Ok(3072));
    }

    #[test]
    fn check_refuses_bad_lengths() {
        assert_eq!(DISK.check(0, 0), Err(BlockError::Misaligned));
        assert_eq!(DISK.check(0, 100), Err(BlockError::Misaligned));
        assert_eq!(DISK.check(0, 513), Err(BlockError::Misaligned));
        let broken = BlockInfo {
            sector_size: 0,
            sectors: 8,
        };
        assert_eq!(broken.check(0, 512), Err(BlockError::Misaligned));
    }

    #[test]
    fn check_refuses_out_of_range() {
        assert_eq!(DISK.check(8, 512), Err(BlockError::OutOfRange));
        assert_eq!(DISK.check(7, 1024), Err(BlockError::OutOfRange));
        assert_eq!(DISK.check(0, 4608), Err(BlockError::OutOfRange));
        assert_eq!(DISK.check(u64::MAX, 512), Err(BlockError::OutOfRange));
        let huge = BlockInfo {
            sector_size: 512,
            sectors: u64::MAX,
        };
        assert_eq!(huge.check(u64::MAX - 1, 512), Err(BlockError::OutOfRange));
    }

    #[test]
    fn check_offset() {
        assert_eq!(DISK.check_offset(0, 512), Ok(0));
        assert_eq!(DISK.check_offset(3584, 512), Ok(7));
        assert_eq!(DISK.check_offset(1, 512), Err(BlockError::Misaligned));
        assert_eq!(DISK.check_offset(4096, 512), Err(BlockError::OutOfRange));
        assert_eq!(DISK.check_offset(3584, 1024), Err(BlockError::OutOfRange));
        assert_eq!(DISK.check_offset(0, 100), Err(BlockError::Misaligned));
        assert_eq!(
            DISK.check_offset(u64::MAX - 511, 512),
            Err(BlockError::OutOfRange)
        );
    }

    #[test]
    fn errors_display() {
        extern crate alloc;
        use alloc::string::ToString;
        assert_eq!(
            BlockError::OutOfRange.to_string(),
            "the transfer runs past the end of the disk"
        );
    }
}
