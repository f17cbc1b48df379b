//! [`petrel_block`] on unix: a host file, named by the boot argument `--disk=FILE`, read and
//! written in place with `pread`/`pwrite`, in 512-byte sectors.
//!
//! With several block devices, each one's argument carries its instance's prefix
//! (`--storage-disk`, `--backup-disk`; see [`petrel_bootvar::instance_prefix`]). The file's size
//! is rounded down to whole sectors; it is opened read-only (writes fail with
//! [`BlockError::ReadOnly`]) when it cannot be opened for writing.

use petrel_block::{Block, BlockError, BlockInfo};
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

/// Bytes per sector.
pub const SECTOR: u64 = 512;

/// The boot argument naming the file.
const ARG: &str = "disk";

/// The device constructor the generated crate calls for the `type = "block"` instance: opens
/// the file `--disk` names, or prints why it cannot and exits 255.
pub async fn connect(
    name: &'static str,
    params: &[(&str, &str)],
    args: &'static petrel_bootvar::Values,
) -> Block {
    let prefix = petrel_bootvar::instance_prefix(params);
    let path: String = args.get(ARG);
    match open(&path) {
        Ok(disk) => lock().push(Disk {
            name,
            disk,
            acquired: false,
        }),
        Err(e) => {
            eprintln!("block device `{name}`: cannot open --{prefix}{ARG}={path}: {e}");
            std::process::exit(255)
        }
    }
    Block::acquire_or_exit(name)
}

/// An open disk file.
#[derive(Debug)]
struct DiskFile {
    file: File,
    read_only: bool,
    sectors: u64,
}

/// Opens `path` for reading and writing, or else read-only.
fn open(path: &str) -> std::io::Result<DiskFile> {
    let (file, read_only) = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => (f, false),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => (File::open(path)?, true),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(DiskFile {
        file,
        read_only,
        sectors: meta.len() / SECTOR,
    })
}

/// A registered disk: a backend handle is its index in the table.
#[derive(Debug)]
struct Disk {
    name: &'static str,
    disk: DiskFile,
    acquired: bool,
}

static DISKS: Mutex<Vec<Disk>> = Mutex::new(Vec::new());

/// The table, even after a panic elsewhere poisoned it (its entries stay consistent).
fn lock() -> std::sync::MutexGuard<'static, Vec<Disk>> {
    DISKS.lock().unwrap_or_else(|e| e.into_inner())
}

impl DiskFile {
    fn info(&self) -> BlockInfo {
        BlockInfo {
            sector_size: SECTOR,
            sectors: self.sectors,
        }
    }

    fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.info().check_offset(offset, buf.len())?;
        self.file
            .read_exact_at(buf, offset)
            .map_err(|_| BlockError::Io)
    }

    fn write(&self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.info().check_offset(offset, buf.len())?;
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        self.file
            .write_all_at(buf, offset)
            .map_err(|_| BlockError::Io)
    }
}

/// Runs `f` on the disk of `handle`; an unknown handle is out of range.
fn with_disk<T>(
    handle: u64,
    f: impl FnOnce(&DiskFile) -> Result<T, BlockError>,
) -> Result<T, BlockError> {
    let disks = lock();
    let d = usize::try_from(handle)
        .ok()
        .and_then(|i| disks.get(i))
        .ok_or(BlockError::OutOfRange)?;
    f(&d.disk)
}

/// The unix block backend.
pub struct UnixBlock;

#[petrel_macros::implements]
impl petrel_block::BlockBackend for UnixBlock {
    fn acquire(name: &str) -> Result<u64, BlockError> {
        let mut disks = lock();
        let (i, d) = disks
            .iter_mut()
            .enumerate()
            .find(|(_, d)| d.name == name)
            .ok_or(BlockError::NotFound)?;
        if d.acquired {
            return Err(BlockError::Busy);
        }
        d.acquired = true;
        Ok(i as u64)
    }

    fn info(handle: u64) -> BlockInfo {
        with_disk(handle, |d| Ok(d.info())).unwrap_or(BlockInfo {
            sector_size: SECTOR,
            sectors: 0,
        })
    }

    fn read(handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        with_disk(handle, |d| d.read(offset, buf))
    }

    fn write(handle: u64, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        with_disk(handle, |d| d.write(offset, buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A scratch file of `len` bytes, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str, len: u64) -> Scratch {
            let path = std::env::temp_dir().join(format!(
                "petrel-block-unix-{}-{tag}.img",
                std::process::id()
            ));
            File::create(&path).unwrap().set_len(len).unwrap();
            Scratch(path)
        }
        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn size_is_rounded_down_to_sectors() {
        let s = Scratch::new("round", 4 * SECTOR + 100);
        assert_eq!(open(s.path()).unwrap().sectors, 4);
    }

    #[test]
    fn writes_read_back_and_ranges_are_checked() {
        let s = Scratch::new("rw", 8 * SECTOR);
        let d = open(s.path()).unwrap();
        let data: Vec<u8> = (0..2 * SECTOR as usize).map(|i| i as u8).collect();
        d.write(6 * SECTOR, &data).unwrap();
        let mut back = vec![0; data.len()];
        d.read(6 * SECTOR, &mut back).unwrap();
        assert_eq!(back, data);
        let mut one = [0; SECTOR as usize];
        assert_eq!(d.read(8 * SECTOR, &mut one), Err(BlockError::OutOfRange));
        assert_eq!(d.write(7 * SECTOR, &data), Err(BlockError::OutOfRange));
        assert_eq!(d.read(1, &mut one), Err(BlockError::Misaligned));
        assert_eq!(d.write(0, &one[..10]), Err(BlockError::Misaligned));
        // The file did not grow.
        assert_eq!(std::fs::metadata(&s.0).unwrap().len(), 8 * SECTOR);
    }

    #[test]
    fn missing_files_and_directories_are_refused() {
        assert!(open("/nonexistent/petrel-block-unix.img").is_err());
        assert!(open(std::env::temp_dir().to_str().unwrap()).is_err());
    }

    #[test]
    fn acquire_once_by_name() {
        let s = Scratch::new("acquire", 2 * SECTOR);
        lock().push(Disk {
            name: "unit-test-disk",
            disk: open(s.path()).unwrap(),
            acquired: false,
        });
        let h = <UnixBlock as petrel_block::BlockBackend>::acquire("unit-test-disk").unwrap();
        assert_eq!(
            <UnixBlock as petrel_block::BlockBackend>::acquire("unit-test-disk"),
            Err(BlockError::Busy)
        );
        assert_eq!(
            <UnixBlock as petrel_block::BlockBackend>::acquire("nope"),
            Err(BlockError::NotFound)
        );
        assert_eq!(
            <UnixBlock as petrel_block::BlockBackend>::info(h).sectors,
            2
        );
        assert_eq!(
            <UnixBlock as petrel_block::BlockBackend>::info(999).sectors,
            0
        );
    }
}
