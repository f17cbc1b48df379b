//! Which PV device a manifest name is. The image's Solo5-style manifest
//! (`petrel_rt_core::solo5_manifest!`, entries sorted by name) lists its network and block
//! devices; on xen they are found in xenstore **by order within their kind**:
//!
//! - the Nth `NET_BASIC` entry (from 0) is `device/vif/N` (xl's Nth `vif = [...]` item);
//! - the Nth `BLOCK_BASIC` entry is `device/vbd/(51712 + 16 N)`, i.e. `xvda`, `xvdb`, ...
//!   (xl's `vdev=xvd<a+N>`; 51712 is Linux's major 202 << 8 for xvd disks).
//!
//! `petrel build --target xen` writes the `vif` and `disk` lines of `dist/NAME.xl` in that
//! order. Each device can be acquired once.

use core::sync::atomic::{AtomicU64, Ordering};

use petrel_rt_core::solo5::{MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC, MftEntry};

/// The vbd id of `xvda`.
pub const XVDA: u32 = 51712;

pub use petrel_rt_core::devices::AcquireError;

/// The xenstore device id of manifest device `name` of kind `ty` (`MFT_DEV_*`), and its
/// manifest index: see the module docs.
pub fn device_id(manifest: &[MftEntry], name: &str, ty: u32) -> Result<(usize, u32), AcquireError> {
    let (index, entry) = manifest
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, e)| e.name_bytes() == name.as_bytes())
        .ok_or(AcquireError::NotFound)?;
    if entry.ty != ty {
        return Err(AcquireError::WrongType);
    }
    let nth = manifest[1..index].iter().filter(|e| e.ty == ty).count() as u32;
    Ok((
        index,
        if ty == MFT_DEV_NET_BASIC {
            nth
        } else {
            XVDA + 16 * nth
        },
    ))
}

/// Manifest indices already acquired (the manifest has at most 64 entries).
static TAKEN: AtomicU64 = AtomicU64::new(0);

/// The xenstore id of the image's device `name` of kind `ty`, marked as taken.
pub fn acquire(name: &str, ty: u32) -> Result<u32, AcquireError> {
    let (index, id) = device_id(linked_manifest(), name, ty)?;
    let bit = 1u64 << (index % 64);
    if TAKEN.fetch_or(bit, Ordering::SeqCst) & bit != 0 {
        return Err(AcquireError::Busy);
    }
    Ok(id)
}

/// Acquires network device `name`: its `device/vif/N` index.
pub fn acquire_net(name: &str) -> Result<u32, AcquireError> {
    acquire(name, MFT_DEV_NET_BASIC)
}

/// Acquires block device `name`: its `device/vbd/ID` id.
pub fn acquire_block(name: &str) -> Result<u32, AcquireError> {
    acquire(name, MFT_DEV_BLOCK_BASIC)
}

/// The manifest the linker script keeps between `__petrel_manifest_start` and
/// `__petrel_manifest_end` (templates/xen/link.ld.j2); empty if the image declares none.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
fn linked_manifest() -> &'static [MftEntry] {
    unsafe extern "C" {
        static __petrel_manifest_start: u8;
        static __petrel_manifest_end: u8;
    }
    let start = &raw const __petrel_manifest_start;
    let end = &raw const __petrel_manifest_end;
    // The note header (namesz, descsz, type, "Solo5\0\0\0") is 24 bytes; `struct mft` follows.
    if end as usize <= start as usize + 24 {
        return &[];
    }
    // SAFETY: the linker script puts exactly the manifest note between the two symbols, in
    // memory the image owns and nothing writes; the macro built it, so it is well formed
    // (an invalid one reads as no devices).
    unsafe { petrel_rt_core::solo5::boot_manifest(start.wrapping_add(24)) }.unwrap_or(&[])
}

/// Off the bare machine there is no image manifest.
#[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
fn linked_manifest() -> &'static [MftEntry] {
    &[]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, ty: u32) -> MftEntry {
        let mut e = MftEntry {
            name: [0; petrel_rt_core::solo5::MFT_NAME_SIZE],
            ty,
            u: [0; 16],
            b: 0,
            attached: 0,
            pad: [0; 7],
        };
        e.name[..name.len()].copy_from_slice(name.as_bytes());
        e
    }

    #[test]
    fn nth_of_a_kind_is_the_xenstore_id() {
        let m = [
            entry("", petrel_rt_core::solo5::MFT_RESERVED_FIRST),
            entry("backup", MFT_DEV_BLOCK_BASIC),
            entry("service", MFT_DEV_NET_BASIC),
            entry("storage", MFT_DEV_BLOCK_BASIC),
            entry("uplink", MFT_DEV_NET_BASIC),
        ];
        assert_eq!(device_id(&m, "backup", MFT_DEV_BLOCK_BASIC), Ok((1, 51712)));
        assert_eq!(
            device_id(&m, "storage", MFT_DEV_BLOCK_BASIC),
            Ok((3, 51728))
        );
        assert_eq!(device_id(&m, "service", MFT_DEV_NET_BASIC), Ok((2, 0)));
        assert_eq!(device_id(&m, "uplink", MFT_DEV_NET_BASIC), Ok((4, 1)));
        assert_eq!(
            device_id(&m, "uplink", MFT_DEV_BLOCK_BASIC),
            Err(AcquireError::WrongType)
        );
        assert_eq!(
            device_id(&m, "nope", MFT_DEV_NET_BASIC),
            Err(AcquireError::NotFound)
        );
        assert_eq!(
            device_id(&m, "", MFT_DEV_NET_BASIC),
            Err(AcquireError::NotFound)
        );
    }
}
