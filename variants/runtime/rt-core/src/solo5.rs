//! Solo5 ELF note layouts (Solo5 v0.12.1 guest ABI), as `const`-constructible `#[repr(C)]`
//! types, and the macros that emit them.
//!
//! Facts (restated from the ABI, no Solo5 code):
//! - A tender reads only the *first* note of each `PT_NOTE` segment, so each note here must be
//!   alone in its own `PT_NOTE` (the linker script's job).
//! - `ABI1` note: 36 bytes, 4-aligned: header, "Solo5\0\0\0", `abi_target`, `abi_version`,
//!   two reserved words.
//! - `MFT1` note: header, "Solo5\0\0\0", 4 pad bytes, then `struct mft { version = 1,
//!   entries = N, e[N] }` with 104-byte entries, 8-aligned; `N` counts the reserved entry 0,
//!   `1 <= N <= 64`. The whole note is `32 + 104 * N` bytes and `n_descsz = 12 + 104 * N`.
//! - Handles are manifest indices: entry 0 is reserved, the first device is handle 1.

use core::mem::size_of;

/// `n_namesz` of every Solo5 note ("Solo5" and its NUL).
pub const NOTE_NAMESZ: u32 = 6;
/// The note name, padded to 8 bytes.
pub const NOTE_NAME: [u8; 8] = *b"Solo5\0\0\0";
use petrel_solo5_abi::AbiTarget;
pub use petrel_solo5_abi::{NOTE_TYPE_ABI1, NOTE_TYPE_MFT1};

/// `abi_target` of hvt (loaded by `solo5-hvt`).
pub const ABI_TARGET_HVT: u32 = AbiTarget::Hvt.number();
/// `abi_target` of spt (loaded by `solo5-spt`).
pub const ABI_TARGET_SPT: u32 = AbiTarget::Spt.number();
/// `abi_target` of virtio (multiboot).
pub const ABI_TARGET_VIRTIO: u32 = AbiTarget::Virtio.number();
/// `abi_target` of muen.
pub const ABI_TARGET_MUEN: u32 = AbiTarget::Muen.number();
/// `abi_target` of genode.
pub const ABI_TARGET_GENODE: u32 = AbiTarget::Genode.number();
/// `abi_target` of xen (PVH).
pub const ABI_TARGET_XEN: u32 = AbiTarget::Xen.number();
/// `abi_version` of an ABI target (all but genode have one).
const fn version(t: AbiTarget) -> u32 {
    match t.abi_version() {
        Some(v) => v,
        None => 0,
    }
}
/// `abi_version` hvt tenders of Solo5 v0.12.1 accept.
pub const HVT_ABI_VERSION: u32 = version(AbiTarget::Hvt);
/// `abi_version` spt tenders of Solo5 v0.12.1 accept.
pub const SPT_ABI_VERSION: u32 = version(AbiTarget::Spt);
/// `abi_version` of virtio images.
pub const VIRTIO_ABI_VERSION: u32 = version(AbiTarget::Virtio);
/// `abi_version` of xen images.
pub const XEN_ABI_VERSION: u32 = version(AbiTarget::Xen);

/// Section of the ABI note.
pub const ABI_SECTION: &str = ".note.solo5.abi";
/// Section of the manifest note.
pub const MANIFEST_SECTION: &str = ".note.solo5.manifest";
/// Symbol of the static [`solo5_abi_note!`](crate::solo5_abi_note) emits.
pub const ABI_SYMBOL: &str = "__PETREL_SOLO5_ABI_NOTE";
/// Symbol of the static [`solo5_manifest!`](crate::solo5_manifest) emits. A runtime that
/// validates the built-in manifest in place (virtio, xen) finds it through this name.
pub const MANIFEST_SYMBOL: &str = "__PETREL_SOLO5_MANIFEST";

pub use petrel_solo5_abi::{
    MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC, MFT_MAX_DEVICES, MFT_NAME_MAX, MFT_NAME_SIZE,
    MFT_RESERVED_FIRST, MFT_VERSION,
};
/// Most entries in a manifest, the reserved entry 0 included.
pub const MFT_MAX_ENTRIES: usize = petrel_solo5_abi::MFT_MAX_ENTRIES as usize;

/// The `ABI1` note (36 bytes). Build it with [`AbiNote::new`].
#[repr(C, align(4))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbiNote {
    /// 6.
    pub namesz: u32,
    /// 16.
    pub descsz: u32,
    /// [`NOTE_TYPE_ABI1`].
    pub ntype: u32,
    /// "Solo5\0\0\0".
    pub name: [u8; 8],
    /// One of the `ABI_TARGET_*` constants.
    pub abi_target: u32,
    /// The target's ABI version.
    pub abi_version: u32,
    /// 0.
    pub reserved0: u32,
    /// 0.
    pub reserved1: u32,
}

impl AbiNote {
    /// The note for `target` (`ABI_TARGET_*`) and `version`.
    pub const fn new(target: u32, version: u32) -> Self {
        Self {
            namesz: NOTE_NAMESZ,
            descsz: 16,
            ntype: NOTE_TYPE_ABI1,
            name: NOTE_NAME,
            abi_target: target,
            abi_version: version,
            reserved0: 0,
            reserved1: 0,
        }
    }
}

const _: () = assert!(size_of::<AbiNote>() == 36);

/// A device type a unikernel can declare. Write [`MftType::NET_BASIC`] or
/// [`MftType::BLOCK_BASIC`] in [`solo5_manifest!`](crate::solo5_manifest).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MftType {
    /// `BLOCK_BASIC`: a disk read and written in whole blocks.
    BlockBasic = MFT_DEV_BLOCK_BASIC,
    /// `NET_BASIC`: an Ethernet interface.
    NetBasic = MFT_DEV_NET_BASIC,
}

#[allow(non_upper_case_globals)]
impl MftType {
    /// Solo5's spelling of [`MftType::NetBasic`].
    pub const NET_BASIC: MftType = MftType::NetBasic;
    /// Solo5's spelling of [`MftType::BlockBasic`].
    pub const BLOCK_BASIC: MftType = MftType::BlockBasic;
}

/// `struct mft_entry` (104 bytes, 8-aligned). In the image every field but `name` and `ty` is
/// zero; the tender fills the rest in its boot copy.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MftEntry {
    /// NUL-terminated name, at most 67 bytes.
    pub name: [u8; MFT_NAME_SIZE],
    /// `MFT_DEV_*` or [`MFT_RESERVED_FIRST`]. Kept raw: a boot copy may hold anything.
    pub ty: u32,
    /// The union `u`: block `{capacity u64 @0, block_size u16 @8}` or net `{mac[6] @0,
    /// mtu u16 @6}`. Read it with [`MftEntry::block`] / [`MftEntry::net`].
    pub u: [u8; 16],
    /// The union `b`: a host fd (spt: the fd the guest uses) or a pointer.
    pub b: u64,
    /// Nonzero once the tender attached the device (a C `bool`, kept as a byte).
    pub attached: u8,
    /// Padding.
    pub pad: [u8; 7],
}

const _: () = assert!(size_of::<MftEntry>() == 104);
const _: () = assert!(core::mem::align_of::<MftEntry>() == 8);

/// Block device facts from a boot manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockFacts {
    /// Capacity in bytes.
    pub capacity: u64,
    /// Block size in bytes.
    pub block_size: u16,
}

/// Network device facts from a boot manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetFacts {
    /// The MAC address.
    pub mac: [u8; 6],
    /// The MTU (without the 14-byte Ethernet header).
    pub mtu: u16,
}

impl MftEntry {
    /// Entry 0 of every manifest.
    pub const RESERVED: MftEntry = MftEntry {
        name: [0; MFT_NAME_SIZE],
        ty: MFT_RESERVED_FIRST,
        u: [0; 16],
        b: 0,
        attached: 0,
        pad: [0; 7],
    };

    /// A device entry. Panics (a compile error in a `static` initializer) unless `name` is
    /// 1 to 67 bytes of `[A-Za-z0-9]`.
    pub const fn new(name: &str, ty: MftType) -> Self {
        let bytes = name.as_bytes();
        assert!(!bytes.is_empty(), "Solo5 device name must not be empty");
        assert!(
            bytes.len() <= MFT_NAME_MAX,
            "Solo5 device name longer than 67 bytes"
        );
        let mut out = [0u8; MFT_NAME_SIZE];
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                bytes[i].is_ascii_alphanumeric(),
                "Solo5 device name is not alphanumeric"
            );
            out[i] = bytes[i];
            i += 1;
        }
        MftEntry {
            name: out,
            ty: ty as u32,
            u: [0; 16],
            b: 0,
            attached: 0,
            pad: [0; 7],
        }
    }

    /// The name without its NUL (at most 67 bytes, even if the NUL is missing).
    pub fn name_bytes(&self) -> &[u8] {
        let n = self.name[..MFT_NAME_MAX]
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(MFT_NAME_MAX);
        &self.name[..n]
    }

    /// The block facts, if this is a `BLOCK_BASIC` entry.
    pub fn block(&self) -> Option<BlockFacts> {
        if self.ty != MFT_DEV_BLOCK_BASIC {
            return None;
        }
        let mut cap = [0u8; 8];
        cap.copy_from_slice(&self.u[0..8]);
        Some(BlockFacts {
            capacity: u64::from_le_bytes(cap),
            block_size: u16::from_le_bytes([self.u[8], self.u[9]]),
        })
    }

    /// The network facts, if this is a `NET_BASIC` entry.
    pub fn net(&self) -> Option<NetFacts> {
        if self.ty != MFT_DEV_NET_BASIC {
            return None;
        }
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&self.u[0..6]);
        Some(NetFacts {
            mac,
            mtu: u16::from_le_bytes([self.u[6], self.u[7]]),
        })
    }

    /// Whether the tender attached the device.
    pub fn is_attached(&self) -> bool {
        self.attached != 0
    }
}

/// The `MFT1` note with `N` entries (the reserved entry 0 included): `32 + 104 * N` bytes.
/// Build it with [`MftNote::new`], or let [`solo5_manifest!`](crate::solo5_manifest) do it.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MftNote<const N: usize> {
    /// 6.
    pub namesz: u32,
    /// `12 + 104 * N` (the pad, `version`, `entries` and the entries).
    pub descsz: u32,
    /// [`NOTE_TYPE_MFT1`].
    pub ntype: u32,
    /// "Solo5\0\0\0".
    pub name: [u8; 8],
    /// Aligns `struct mft` to 8 (offset 24 in the note).
    pub pad: u32,
    /// [`MFT_VERSION`].
    pub version: u32,
    /// `N`.
    pub entries: u32,
    /// Entry 0 is [`MftEntry::RESERVED`].
    pub e: [MftEntry; N],
}

impl<const N: usize> MftNote<N> {
    /// The note over `e`. Panics (a compile error in a `static` initializer) unless
    /// `1 <= N <= 64`, `e[0]` is [`MftEntry::RESERVED`], every other entry is a device with a
    /// valid name, and no two names are equal.
    pub const fn new(e: [MftEntry; N]) -> Self {
        assert!(N >= 1, "a Solo5 manifest has at least the reserved entry");
        assert!(N <= MFT_MAX_ENTRIES, "too many Solo5 devices (at most 63)");
        assert!(
            e[0].ty == MFT_RESERVED_FIRST && e[0].name[0] == 0,
            "entry 0 must be the reserved entry"
        );
        let mut i = 1;
        while i < N {
            assert!(
                e[i].ty == MFT_DEV_BLOCK_BASIC || e[i].ty == MFT_DEV_NET_BASIC,
                "Solo5 device type must be NET_BASIC or BLOCK_BASIC"
            );
            assert!(
                e[i].name[0] != 0 && e[i].name[MFT_NAME_MAX] == 0,
                "bad Solo5 device name"
            );
            let mut j = 1;
            while j < i {
                assert!(
                    !name_eq(&e[i].name, &e[j].name),
                    "duplicate Solo5 device name"
                );
                j += 1;
            }
            i += 1;
        }
        MftNote {
            namesz: NOTE_NAMESZ,
            descsz: (12 + 104 * N) as u32,
            ntype: NOTE_TYPE_MFT1,
            name: NOTE_NAME,
            pad: 0,
            version: MFT_VERSION,
            entries: N as u32,
            e,
        }
    }
}

const fn name_eq(a: &[u8; MFT_NAME_SIZE], b: &[u8; MFT_NAME_SIZE]) -> bool {
    let mut i = 0;
    while i < MFT_NAME_SIZE {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(size_of::<MftNote<1>>() == 32 + 104);
const _: () = assert!(size_of::<MftNote<3>>() == 32 + 3 * 104);

/// The header of `struct mft` (the descriptor of the manifest note, and the tender's boot copy).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MftHeader {
    /// [`MFT_VERSION`].
    pub version: u32,
    /// Number of entries, the reserved one included.
    pub entries: u32,
}

/// Why [`boot_manifest`] refused a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MftError {
    /// The pointer is null or not 8-aligned.
    BadPointer,
    /// `version` is not 1.
    BadVersion,
    /// `entries` is 0 or above 64.
    BadCount,
    /// Entry 0 is not the reserved entry.
    NoReservedEntry,
}

/// The entries of the `struct mft` at `mft` (a tender's boot copy, or the descriptor of the
/// built-in note), after checking its header. Index = handle; entry 0 is the reserved one.
///
/// # Safety
///
/// If `mft` is non-null and 8-aligned, it must point to readable memory holding a
/// `struct mft` whose `entries` entries all lie in readable memory that is not written for
/// the returned lifetime.
pub unsafe fn boot_manifest<'a>(mft: *const u8) -> Result<&'a [MftEntry], MftError> {
    if mft.is_null() || !(mft as usize).is_multiple_of(8) {
        return Err(MftError::BadPointer);
    }
    // SAFETY: non-null and aligned (checked); readable per the caller's contract.
    let head = unsafe { *(mft as *const MftHeader) };
    if head.version != MFT_VERSION {
        return Err(MftError::BadVersion);
    }
    let n = head.entries as usize;
    if n == 0 || n > MFT_MAX_ENTRIES {
        return Err(MftError::BadCount);
    }
    // SAFETY: the entries follow the 8-byte header at an 8-aligned address; the caller
    // guarantees `n` of them are readable and unchanging for 'a.
    let e = unsafe {
        core::slice::from_raw_parts(mft.add(size_of::<MftHeader>()) as *const MftEntry, n)
    };
    if e[0].ty != MFT_RESERVED_FIRST {
        return Err(MftError::NoReservedEntry);
    }
    Ok(e)
}

/// Why [`lookup`] found no device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// No entry has that name.
    NotFound,
    /// The entry has another type.
    WrongType,
    /// The tender did not attach it.
    NotAttached,
}

/// The handle (manifest index) of the attached device `name` of type `ty` (`MFT_DEV_*`).
pub fn lookup(entries: &[MftEntry], name: &[u8], ty: u32) -> Result<usize, LookupError> {
    let (i, e) = entries
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, e)| e.name_bytes() == name)
        .ok_or(LookupError::NotFound)?;
    if e.ty != ty {
        return Err(LookupError::WrongType);
    }
    if !e.is_attached() {
        return Err(LookupError::NotAttached);
    }
    Ok(i)
}

/// Counts token trees (internal to the macros).
#[doc(hidden)]
#[macro_export]
macro_rules! __petrel_count {
    () => { 0usize };
    ($head:tt $($rest:tt)*) => { 1usize + $crate::__petrel_count!($($rest)*) };
}

/// Emits the Solo5 `ABI1` note as `#[no_mangle] static __PETREL_SOLO5_ABI_NOTE` in section
/// `.note.solo5.abi`. Write `EXTERN(__PETREL_SOLO5_ABI_NOTE)` and `KEEP` in the linker script
/// so that it is linked even from a library crate.
///
/// ```
/// petrel_rt_core::solo5_abi_note!(ABI_TARGET_HVT, HVT_ABI_VERSION);
/// assert_eq!(__PETREL_SOLO5_ABI_NOTE.abi_target, 1);
/// ```
#[macro_export]
macro_rules! solo5_abi_note {
    ($target:ident, $version:ident) => {
        /// The Solo5 ABI note of this image.
        #[used]
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".note.solo5.abi")]
        pub static __PETREL_SOLO5_ABI_NOTE: $crate::solo5::AbiNote =
            $crate::solo5::AbiNote::new($crate::solo5::$target, $crate::solo5::$version);
    };
}

/// Emits the Solo5 `MFT1` manifest note as `#[no_mangle] static __PETREL_SOLO5_MANIFEST` in
/// section `.note.solo5.manifest`, at the call site (the generated crate, once per image).
///
/// ```
/// petrel_rt_core::solo5_manifest!(("service0", NET_BASIC), ("storage", BLOCK_BASIC));
/// assert_eq!(core::mem::size_of_val(&__PETREL_SOLO5_MANIFEST), 32 + 3 * 104);
/// ```
///
/// With no device, only the reserved entry: `petrel_rt_core::solo5_manifest!();`.
/// A bad name does not compile:
///
/// ```compile_fail
/// petrel_rt_core::solo5_manifest!(("net-0", NET_BASIC));
/// ```
///
/// The first device listed is handle 1. Names are checked at compile time (non-empty,
/// `[A-Za-z0-9]`, at most 67 bytes, no duplicates), as is the count (at most 63): a violation
/// is a compile error "evaluation of static initializer failed ... Solo5 device name is not
/// alphanumeric". A second manifest in one image is a duplicate-symbol error.
#[macro_export]
macro_rules! solo5_manifest {
    ($(($name:expr, $ty:ident)),* $(,)?) => {
        /// The Solo5 manifest of this image.
        #[used]
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".note.solo5.manifest")]
        pub static __PETREL_SOLO5_MANIFEST:
            $crate::solo5::MftNote<{ 1 + $crate::__petrel_count!($($ty)*) }> =
            $crate::solo5::MftNote::new([
                $crate::solo5::MftEntry::RESERVED,
                $($crate::solo5::MftEntry::new($name, $crate::solo5::MftType::$ty),)*
            ]);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::solo5_manifest!(("service0", NET_BASIC), ("storage1", BLOCK_BASIC));

    fn bytes_of<T>(t: &T) -> &[u8] {
        // SAFETY: reading the bytes of a padding-free repr(C) value we borrow.
        unsafe { core::slice::from_raw_parts(t as *const T as *const u8, size_of::<T>()) }
    }

    #[test]
    fn abi_note_layout() {
        let n = AbiNote::new(ABI_TARGET_HVT, HVT_ABI_VERSION);
        let b = bytes_of(&n);
        assert_eq!(b.len(), 36);
        assert_eq!(
            &b[0..12],
            &[6, 0, 0, 0, 16, 0, 0, 0, 0x41, 0x42, 0x49, 0x31]
        );
        assert_eq!(&b[12..20], b"Solo5\0\0\0");
        assert_eq!(&b[20..28], &[1, 0, 0, 0, 2, 0, 0, 0]);
    }

    #[test]
    fn manifest_layout() {
        let m = &__PETREL_SOLO5_MANIFEST;
        let b = bytes_of(m);
        assert_eq!(b.len(), 32 + 3 * 104);
        assert_eq!(m.descsz, 0xDC + 104);
        assert_eq!(&b[8..12], b"MFT1");
        assert_eq!(&b[24..32], &[1, 0, 0, 0, 3, 0, 0, 0]);
        // Entry 1 at 32 + 104: its name, then the type at +68.
        assert_eq!(&b[136..145], b"service0\0");
        assert_eq!(&b[136 + 68..136 + 72], &[2, 0, 0, 0]);
        assert_eq!(&b[240 + 68..240 + 72], &[1, 0, 0, 0]);
        // SAFETY: the descriptor starts at offset 24, 8-aligned, and lives forever.
        let e = unsafe { boot_manifest(b[24..].as_ptr()) }.unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[2].name_bytes(), b"storage1");
        assert_eq!(
            lookup(e, b"storage1", MFT_DEV_BLOCK_BASIC),
            Err(LookupError::NotAttached)
        );
        assert_eq!(
            lookup(e, b"service0", MFT_DEV_BLOCK_BASIC),
            Err(LookupError::WrongType)
        );
        assert_eq!(
            lookup(e, b"nope", MFT_DEV_BLOCK_BASIC),
            Err(LookupError::NotFound)
        );
    }

    #[test]
    fn empty_manifest() {
        const M: MftNote<1> = MftNote::new([MftEntry::RESERVED]);
        assert_eq!(size_of::<MftNote<1>>(), 136);
        assert_eq!(M.descsz, 116);
    }
}
