//! Writes patterned sectors (the first, one in the middle, the last) to its disk, reads them
//! back and checks them, checks that transfers off the disk or not a whole number of sectors
//! are refused, then logs `block: OK` (or `block: FAILED ...` and panics: exit 255).
//!
//! The disk's previous contents are overwritten.
#![no_std]

use petrel::block::{Block, BlockError};
use petrel::log::{error, info};
use petrel::prelude::*;

/// The byte at `index` of sector `sector` in the test pattern: differs from sector to sector
/// and from byte to byte, so that a misplaced or shifted sector does not compare equal.
fn pattern(sector: u64, index: usize) -> u8 {
    (sector as u8)
        .wrapping_mul(31)
        .wrapping_add(index as u8)
        .wrapping_add((index >> 8) as u8)
        ^ 0xA5
}

/// Runs every check; the first failure, as text.
async fn check(disk: &Block) -> Result<(), String> {
    let info = disk.info();
    info!(
        "block: {} sectors of {} bytes ({} bytes)",
        info.sectors,
        info.sector_size,
        info.capacity()
    );
    if info.sectors < 3 {
        return Err(format!("the disk has {} sectors, 3 needed", info.sectors));
    }
    let size = info.sector_size as usize;
    let last = info.sectors - 1;
    let sectors = [0, info.sectors / 2, last];

    for &s in &sectors {
        let data: Vec<u8> = (0..size).map(|i| pattern(s, i)).collect();
        disk.write(s, &data)
            .await
            .map_err(|e| format!("write of sector {s}: {e}"))?;
    }
    for &s in &sectors {
        let mut buf = vec![0u8; size];
        disk.read(s, &mut buf)
            .await
            .map_err(|e| format!("read of sector {s}: {e}"))?;
        if let Some(i) = (0..size).find(|&i| buf[i] != pattern(s, i)) {
            return Err(format!(
                "sector {s}, byte {i}: read {:#04x}, wrote {:#04x}",
                buf[i],
                pattern(s, i)
            ));
        }
    }

    // Two sectors at once, ending on the last one.
    let mut two = vec![0u8; 2 * size];
    disk.read(last - 1, &mut two)
        .await
        .map_err(|e| format!("read of sectors {}..={last}: {e}", last - 1))?;
    if (0..size).any(|i| two[size + i] != pattern(last, i)) {
        return Err("a two-sector read does not end with the last sector".into());
    }

    let mut one = vec![0u8; size];
    let refused = [
        (
            "a read past the end",
            disk.read(info.sectors, &mut one).await,
            BlockError::OutOfRange,
        ),
        (
            "a write past the end",
            disk.write(info.sectors, &one).await,
            BlockError::OutOfRange,
        ),
        (
            "a read over the end",
            disk.read(last, &mut two).await,
            BlockError::OutOfRange,
        ),
        (
            "a write of half a sector",
            disk.write(0, &one[..size / 2]).await,
            BlockError::Misaligned,
        ),
        (
            "an empty read",
            disk.read(0, &mut []).await,
            BlockError::Misaligned,
        ),
    ];
    for (what, got, want) in refused {
        if got != Err(want) {
            return Err(format!("{what} returned {got:?}, expected Err({want:?})"));
        }
    }
    Ok(())
}

/// Checks the disk `storage` and reports.
#[petrel::main]
pub async fn start(storage: Block) {
    match check(&storage).await {
        Ok(()) => info!("block: OK"),
        Err(e) => {
            error!("block: FAILED {e}");
            panic!("the block device check failed");
        }
    }
}
