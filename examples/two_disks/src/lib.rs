//! Writes a pattern over its `storage` disk, copies that disk sector by sector to its
//! `backup` disk, reads the copy back and compares it with the original, then logs
//! `two_disks: OK copied N sectors` (or `two_disks: FAILED ...` and panics: exit 255).
//!
//! Both disks' previous contents are overwritten; `backup` must be at least as large as
//! `storage`.
#![no_std]

use petrel::block::Block;
use petrel::log::{error, info};
use petrel::prelude::*;

/// Sectors per read or write of the copy.
const CHUNK: u64 = 8;

/// The byte at `index` of sector `sector` of the pattern: differs from sector to sector and
/// from byte to byte, so that a misplaced sector does not compare equal.
fn pattern(sector: u64, index: usize) -> u8 {
    (sector as u8).wrapping_mul(37).wrapping_add(index as u8) ^ 0x5A
}

/// Runs the copy and its checks; the first failure, as text.
async fn copy(storage: &Block, backup: &Block) -> Result<u64, String> {
    let (from, to) = (storage.info(), backup.info());
    if from.sector_size != to.sector_size {
        return Err(format!(
            "sector sizes differ: storage {}, backup {}",
            from.sector_size, to.sector_size
        ));
    }
    if to.sectors < from.sectors {
        return Err(format!(
            "backup has {} sectors, storage {}",
            to.sectors, from.sectors
        ));
    }
    let size = from.sector_size as usize;
    for s in 0..from.sectors {
        let data: Vec<u8> = (0..size).map(|i| pattern(s, i)).collect();
        storage
            .write(s, &data)
            .await
            .map_err(|e| format!("write of storage sector {s}: {e}"))?;
    }
    let mut buf = vec![0u8; CHUNK as usize * size];
    let mut s = 0;
    while s < from.sectors {
        let n = CHUNK.min(from.sectors - s) as usize;
        let chunk = &mut buf[..n * size];
        storage
            .read(s, chunk)
            .await
            .map_err(|e| format!("read of storage sectors from {s}: {e}"))?;
        backup
            .write(s, chunk)
            .await
            .map_err(|e| format!("write of backup sectors from {s}: {e}"))?;
        s += n as u64;
    }
    let mut copied = vec![0u8; size];
    for s in 0..from.sectors {
        backup
            .read(s, &mut copied)
            .await
            .map_err(|e| format!("read of backup sector {s}: {e}"))?;
        if let Some(i) = (0..size).find(|&i| copied[i] != pattern(s, i)) {
            return Err(format!(
                "backup sector {s}, byte {i}: read {:#04x}, expected {:#04x}",
                copied[i],
                pattern(s, i)
            ));
        }
    }
    Ok(from.sectors)
}

/// Copies `storage` to `backup` and reports.
#[petrel::main]
pub async fn start(storage: Block, backup: Block) {
    match copy(&storage, &backup).await {
        Ok(n) => info!("two_disks: OK copied {n} sectors"),
        Err(e) => {
            error!("two_disks: FAILED {e}");
            panic!("the copy check failed");
        }
    }
}
