//! The Solo5 guest ABI of v0.12.1, in one place (`solo5-abi.md` in the project's reference
//! notes): the constants and structure layouts the tenders and the guest agree on. This
//! part is `no_std` and allocation-free. With the `std` feature (the default), [`elf`]
//! checks an image as the upstream tenders do before they run it.
//!
//! Structures are given as byte offsets, because both sides read them from raw guest
//! memory or from an ELF file, never as Rust structs shared by address.

#![cfg_attr(not(feature = "std"), no_std)]

use core::fmt;

#[cfg(feature = "std")]
pub mod elf;
pub mod hvt;

/// Lowest guest address a loadable segment or the entry point may have (`HVT_GUEST_MIN_BASE`).
pub const GUEST_MIN_BASE: u64 = 0x10_0000;
/// Largest guest memory a tender accepts (4 GiB); `elf::check` checks the size rules against it.
pub const MAX_MEM_SIZE: u64 = 1 << 32;
/// `n_type` of the ABI note: "ABI1" as little-endian bytes.
pub const NOTE_TYPE_ABI1: u32 = 0x3149_4241;
/// `n_type` of the manifest note: "MFT1" as little-endian bytes.
pub const NOTE_TYPE_MFT1: u32 = 0x3154_464D;
/// The manifest format version the tenders accept (`MFT_VERSION`).
pub const MFT_VERSION: u32 = 1;
/// Most entries a manifest may have, the reserved one included (`MFT_MAX_ENTRIES`).
pub const MFT_MAX_ENTRIES: u32 = 64;
/// Size of one `struct mft_entry`.
pub const MFT_ENTRY_SIZE: usize = 104;
/// Size of the `struct mft` header (`version`, `entries`) before the entries.
pub const MFT_HEADER_SIZE: usize = 8;
/// Offset of `type` in a `struct mft_entry`.
pub const MFT_ENTRY_TYPE: usize = 68;
/// Offset of the `u` union (block `capacity`/`block_size`, net `mac`/`mtu`) in an entry.
pub const MFT_ENTRY_U: usize = 72;
/// Offset of the `b` union (`hostfd`) in an entry.
pub const MFT_ENTRY_B: usize = 88;
/// Offset of `attached` in an entry.
pub const MFT_ENTRY_ATTACHED: usize = 96;
/// Size of the `name` field of an entry (67 characters and the NUL).
pub const MFT_NAME_SIZE: usize = 68;
/// Manifest entry type `MFT_DEV_BLOCK_BASIC`.
pub const MFT_DEV_BLOCK_BASIC: u32 = 1;
/// Manifest entry type `MFT_DEV_NET_BASIC`.
pub const MFT_DEV_NET_BASIC: u32 = 2;
/// Manifest entry type `MFT_RESERVED_FIRST`.
pub const MFT_RESERVED_FIRST: u32 = 1 << 30;

/// Program header flag: executable.
pub const PF_X: u32 = 1;
/// Program header flag: writable.
pub const PF_W: u32 = 2;
/// Program header flag: readable.
pub const PF_R: u32 = 4;

/// A Solo5 target, as numbered in the ABI note's `abi_target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiTarget {
    /// `solo5-hvt` (target 1, ABI version 2).
    Hvt,
    /// `solo5-spt` (target 2, ABI version 2).
    Spt,
    /// virtio, multiboot (target 3, ABI version 1).
    Virtio,
    /// Muen (target 4, ABI version 4).
    Muen,
    /// Genode (target 5, version unused).
    Genode,
    /// Xen PVH (target 6, ABI version 1).
    Xen,
}

impl AbiTarget {
    /// The `abi_target` number of the ABI note.
    pub fn number(self) -> u32 {
        match self {
            AbiTarget::Hvt => 1,
            AbiTarget::Spt => 2,
            AbiTarget::Virtio => 3,
            AbiTarget::Muen => 4,
            AbiTarget::Genode => 5,
            AbiTarget::Xen => 6,
        }
    }

    /// The target with this `abi_target` number, if any.
    pub fn from_number(n: u32) -> Option<AbiTarget> {
        Some(match n {
            1 => AbiTarget::Hvt,
            2 => AbiTarget::Spt,
            3 => AbiTarget::Virtio,
            4 => AbiTarget::Muen,
            5 => AbiTarget::Genode,
            6 => AbiTarget::Xen,
            _ => return None,
        })
    }

    /// The ABI version Solo5 v0.12.1 uses for this target (`None`: not checked).
    pub fn abi_version(self) -> Option<u32> {
        match self {
            AbiTarget::Hvt | AbiTarget::Spt => Some(2),
            AbiTarget::Virtio | AbiTarget::Xen => Some(1),
            AbiTarget::Muen => Some(4),
            AbiTarget::Genode => None,
        }
    }

    /// The target's name as Solo5 writes it (`hvt`, `spt`, ...).
    pub fn name(self) -> &'static str {
        match self {
            AbiTarget::Hvt => "hvt",
            AbiTarget::Spt => "spt",
            AbiTarget::Virtio => "virtio",
            AbiTarget::Muen => "muen",
            AbiTarget::Genode => "genode",
            AbiTarget::Xen => "xen",
        }
    }
}

impl fmt::Display for AbiTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
