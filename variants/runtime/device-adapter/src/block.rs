//! [`petrel_block`] over a block driver.

use crate::AcquireError;
use petrel_block::{Block, BlockError, BlockInfo};
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

/// What the adapter needs from a block driver. Transfers are synchronous; the adapter has
/// checked each against the disk's size before the driver sees it.
pub trait BlockDriver {
    /// The disk's sector size and number of sectors.
    fn info(&self) -> BlockInfo;
    /// Reads `buf.len()` bytes (whole sectors) at byte `offset`.
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError>;
    /// Writes `buf` (whole sectors) at byte `offset`.
    fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError>;
}

/// The size an unknown handle reports: no sectors, so every transfer is refused.
const NO_DISK: BlockInfo = BlockInfo {
    sector_size: 512,
    sectors: 0,
};

/// The acquired disks of one implementation; a backend handle is an index.
pub struct BlockDevices<D>(Handles<D>);

impl<D: BlockDriver> BlockDevices<D> {
    /// An empty table, for a `static`.
    pub const fn new() -> Self {
        Self(Handles::new())
    }

    /// Adds the disk the platform acquired (or says why it could not): its handle.
    pub fn acquire(&self, acquired: Result<D, AcquireError>) -> Result<u64, BlockError> {
        acquired.map(|d| self.0.insert(d)).map_err(acquire_error)
    }

    /// The size of disk `handle` (no sectors for an unknown handle).
    pub fn info(&self, handle: u64) -> BlockInfo {
        self.0.with(handle, |d| d.info()).unwrap_or(NO_DISK)
    }

    /// Reads at byte `offset` of disk `handle`, after checking the range.
    pub fn read(&self, handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.with(handle, |d| {
            d.info().check_offset(offset, buf.len())?;
            d.read(offset, buf)
        })
    }

    /// Writes at byte `offset` of disk `handle`, after checking the range.
    pub fn write(&self, handle: u64, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.with(handle, |d| {
            d.info().check_offset(offset, buf.len())?;
            d.write(offset, buf)
        })
    }

    /// Runs `f` on disk `handle`; an unknown handle is out of range.
    fn with<T>(
        &self,
        handle: u64,
        f: impl FnOnce(&mut D) -> Result<T, BlockError>,
    ) -> Result<T, BlockError> {
        self.0
            .with(handle, f)
            .unwrap_or(Err(BlockError::OutOfRange))
    }
}

impl<D: BlockDriver> Default for BlockDevices<D> {
    fn default() -> Self {
        Self::new()
    }
}

/// An acquire failure as the interface reports it.
pub fn acquire_error(e: AcquireError) -> BlockError {
    match e {
        AcquireError::NotFound | AcquireError::WrongType => BlockError::NotFound,
        AcquireError::Busy => BlockError::Busy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    extern crate alloc;

    /// A disk in memory.
    struct Fake(alloc::vec::Vec<u8>);

    impl BlockDriver for Fake {
        fn info(&self) -> BlockInfo {
            BlockInfo {
                sector_size: 512,
                sectors: self.0.len() as u64 / 512,
            }
        }
        fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            let at = offset as usize;
            buf.copy_from_slice(&self.0[at..at + buf.len()]);
            Ok(())
        }
        fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
            let at = offset as usize;
            self.0[at..at + buf.len()].copy_from_slice(buf);
            Ok(())
        }
    }

    #[test]
    fn transfers_are_checked_before_the_driver() {
        let table = BlockDevices::new();
        let h = table.acquire(Ok(Fake(vec![0; 2048]))).expect("acquired");
        assert_eq!(table.info(h).sectors, 4);
        assert_eq!(table.write(h, 512, &[7; 512]), Ok(()));
        let mut buf = [0; 1024];
        assert_eq!(table.read(h, 0, &mut buf), Ok(()));
        assert_eq!((buf[511], buf[512]), (0, 7));
        assert!(table.read(h, 1536, &mut buf).is_err(), "past the end");
        assert!(table.write(h, 100, &[0; 512]).is_err(), "not a sector");
        assert_eq!(table.info(7).sectors, 0);
        assert_eq!(table.read(7, 0, &mut buf), Err(BlockError::OutOfRange));
        assert_eq!(
            table.acquire(Err(AcquireError::Busy)),
            Err(BlockError::Busy)
        );
    }
}
