//! Net and block devices: manifest lookup, argument checks, input wake-ups.

use crate::boot::manifest;
use crate::{Error, Handle, sys};
use core::task::Waker;
use petrel_rt_core::single_core::{ClaimError, Claims, DeviceWakers};
use petrel_rt_core::solo5::{LookupError, MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC, MftEntry};

/// Ethernet header length, added to the MTU for the largest frame.
const ETHERNET_HEADER: u64 = 14;

/// A device type in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// `NET_BASIC`.
    Net,
    /// `BLOCK_BASIC`.
    Block,
}

impl DeviceKind {
    fn mft_type(self) -> u32 {
        match self {
            DeviceKind::Net => MFT_DEV_NET_BASIC,
            DeviceKind::Block => MFT_DEV_BLOCK_BASIC,
        }
    }
}

/// The handle of the attached device `name` of type `kind` in the boot manifest.
pub fn lookup(name: &str, kind: DeviceKind) -> Result<Handle, LookupError> {
    petrel_rt_core::solo5::lookup(manifest(), name.as_bytes(), kind.mft_type()).map(|i| i as Handle)
}

/// A NIC's facts, from its manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetInfo {
    /// Its MAC address.
    pub mac: [u8; 6],
    /// Its MTU, without the 14-byte Ethernet header: frames are at most `mtu + 14` bytes.
    pub mtu: u64,
}

/// A disk's facts, from its manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Capacity in bytes (a multiple of `block_size`).
    pub capacity: u64,
    /// Block size in bytes (a power of 2, at least 512).
    pub block_size: u64,
}

fn entry(handle: Handle, ty: u32) -> Result<&'static MftEntry, Error> {
    let e = usize::try_from(handle)
        .ok()
        .filter(|&i| i > 0)
        .and_then(|i| manifest().get(i));
    match e {
        Some(e) if e.ty == ty && e.is_attached() => Ok(e),
        _ => Err(Error::Invalid),
    }
}

/// The facts of NIC `handle`.
pub fn net_info(handle: Handle) -> Result<NetInfo, Error> {
    let n = entry(handle, MFT_DEV_NET_BASIC)?
        .net()
        .ok_or(Error::Invalid)?;
    Ok(NetInfo {
        mac: n.mac,
        mtu: u64::from(n.mtu),
    })
}

/// The handle and facts of the NIC named `name` in the manifest.
pub fn net_acquire(name: &str) -> Result<(Handle, NetInfo), Error> {
    let h = lookup(name, DeviceKind::Net).map_err(|_| Error::Invalid)?;
    let info = net_info(h)?;
    claim(h)?;
    Ok((h, info))
}

/// Sends one Ethernet frame of at most `mtu + 14` bytes. Non-blocking; the host may drop it.
pub fn net_write(handle: Handle, frame: &[u8]) -> Result<(), Error> {
    let info = net_info(handle)?;
    if frame.is_empty() || frame.len() as u64 > info.mtu + ETHERNET_HEADER {
        return Err(Error::Invalid);
    }
    sys::net_write(handle, frame)
}

/// Receives one frame into `buf`, which must hold at least `mtu + 14` bytes; returns its
/// length, or [`Error::Again`] if nothing is pending (see [`wake_on_input`]).
pub fn net_read(handle: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    let info = net_info(handle)?;
    if (buf.len() as u64) < info.mtu + ETHERNET_HEADER {
        return Err(Error::Invalid);
    }
    sys::net_read(handle, buf)
}

/// The facts of disk `handle`.
pub fn block_info(handle: Handle) -> Result<BlockInfo, Error> {
    let b = entry(handle, MFT_DEV_BLOCK_BASIC)?
        .block()
        .ok_or(Error::Invalid)?;
    if b.block_size == 0 {
        return Err(Error::Invalid);
    }
    Ok(BlockInfo {
        capacity: b.capacity,
        block_size: u64::from(b.block_size),
    })
}

/// The handle and facts of the disk named `name` in the manifest.
pub fn block_acquire(name: &str) -> Result<(Handle, BlockInfo), Error> {
    let h = lookup(name, DeviceKind::Block).map_err(|_| Error::Invalid)?;
    let info = block_info(h)?;
    claim(h)?;
    Ok((h, info))
}

/// Checks a block transfer: `len` a nonzero multiple of the block size, `offset` aligned,
/// the range within the capacity.
fn check_block(info: &BlockInfo, offset: u64, len: usize) -> Result<(), Error> {
    let len = len as u64;
    let aligned =
        len != 0 && len.is_multiple_of(info.block_size) && offset.is_multiple_of(info.block_size);
    let end = offset.checked_add(len).ok_or(Error::Invalid)?;
    if !aligned || end > info.capacity {
        return Err(Error::Invalid);
    }
    Ok(())
}

/// Writes `data` (whole blocks) at byte `offset` (block-aligned) of disk `handle`.
pub fn block_write(handle: Handle, offset: u64, data: &[u8]) -> Result<(), Error> {
    let info = block_info(handle)?;
    check_block(&info, offset, data.len())?;
    sys::block_write(handle, info.block_size, offset, data)
}

/// Reads whole blocks into `buf` from byte `offset` (block-aligned) of disk `handle`.
pub fn block_read(handle: Handle, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
    let info = block_info(handle)?;
    check_block(&info, offset, buf.len())?;
    sys::block_read(handle, info.block_size, offset, buf)
}

/// The task waiting for each NIC's input.
static WAITERS: DeviceWakers = DeviceWakers::new();

/// Wakes `waker` the next time the executor idles and NIC `handle` has input. One-shot:
/// register again after each wake-up. An invalid handle is ignored.
pub fn wake_on_input(handle: Handle, waker: &Waker) {
    WAITERS.register(handle, waker);
}

/// Wakes the waiters of the handles in `ready`.
pub(crate) fn wake_ready(ready: u64) {
    WAITERS.wake(ready);
}

/// The handles already acquired.
static ACQUIRED: Claims = Claims::new();

/// Marks `handle` acquired: Solo5 hands out each device once, so a second acquire of the same
/// device is [`Error::Busy`].
fn claim(handle: Handle) -> Result<(), Error> {
    ACQUIRED.claim(handle).map_err(|e| match e {
        ClaimError::Invalid => Error::Invalid,
        ClaimError::Busy => Error::Busy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_checks() {
        let info = BlockInfo {
            capacity: 4096,
            block_size: 512,
        };
        assert_eq!(check_block(&info, 0, 512), Ok(()));
        assert_eq!(check_block(&info, 3584, 512), Ok(()));
        assert_eq!(check_block(&info, 0, 4096), Ok(()));
        assert_eq!(check_block(&info, 4096, 512), Err(Error::Invalid));
        assert_eq!(check_block(&info, 3584, 1024), Err(Error::Invalid));
        assert_eq!(check_block(&info, 1, 512), Err(Error::Invalid));
        assert_eq!(check_block(&info, 0, 0), Err(Error::Invalid));
        assert_eq!(check_block(&info, 0, 100), Err(Error::Invalid));
        assert_eq!(check_block(&info, u64::MAX - 511, 512), Err(Error::Invalid));
    }

    #[test]
    fn no_manifest_before_boot() {
        assert_eq!(net_info(1), Err(Error::Invalid));
        assert_eq!(block_info(0), Err(Error::Invalid));
        assert_eq!(block_write(1, 0, &[0; 512]), Err(Error::Invalid));
        assert_eq!(
            lookup("disk", DeviceKind::Block),
            Err(LookupError::NotFound)
        );
    }
}
