//! The Solo5 ELF checker: parses an image and checks it as the upstream tenders do.
//!
//! The rules are those of `solo5-abi.md` §1.1 (how `elf_load` accepts an executable),
//! §2.1 (how a Solo5 note is found), §2.2 (the ABI note) and §2.3 (the manifest and
//! `mft_validate`). Every read is bounds-checked and every sum overflow-checked: no input
//! makes [`check`] panic (see the randomized test at the bottom of this file).
//!
//! [`check`] verifies everything that does not depend on the guest memory size, and the
//! size-dependent rules against the largest memory a tender accepts (4 GiB).
//! [`Image::check_memory`] repeats the size-dependent rules for the real `--mem`.

use std::borrow::Cow;
use std::fmt;

pub use crate::{
    AbiTarget, GUEST_MIN_BASE, MAX_MEM_SIZE, MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC,
    MFT_ENTRY_ATTACHED, MFT_ENTRY_B, MFT_ENTRY_SIZE, MFT_ENTRY_TYPE, MFT_ENTRY_U, MFT_HEADER_SIZE,
    MFT_MAX_ENTRIES, MFT_NAME_SIZE, MFT_RESERVED_FIRST, MFT_VERSION, NOTE_TYPE_ABI1,
    NOTE_TYPE_MFT1, PF_R, PF_W, PF_X,
};

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
/// Size of a note header (`namesz`, `descsz`, `type`) plus the 8-byte "Solo5" name.
const SOLO5_NOTE_HEADER: u64 = 20;
const PAGE_SIZE: u64 = 0x1000;
const ABI_DESC_SIZE: usize = 16;
/// Largest manifest descriptor: the 4 pad bytes and a `struct mft` of 64 entries.
const MFT_DESC_MAX: u64 = 4 + MFT_HEADER_SIZE as u64 + MFT_ENTRY_SIZE as u64 * 64;

/// One loadable segment (a `PT_LOAD` with `p_filesz` ≠ 0), as the tender loads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Index of the program header.
    pub index: usize,
    /// `p_offset`: where the bytes are in the file.
    pub offset: u64,
    /// `p_vaddr`: the guest address (= host address on spt).
    pub vaddr: u64,
    /// `p_filesz`: bytes copied from the file.
    pub filesz: u64,
    /// `p_memsz`: bytes in memory (the rest is zero).
    pub memsz: u64,
    /// `p_align` (a power of two).
    pub align: u64,
    /// `p_flags` ([`PF_R`], [`PF_W`], [`PF_X`]).
    pub flags: u32,
}

impl Segment {
    /// Start of the protected range: `p_vaddr` aligned down to `p_align` (4 KiB-aligned).
    pub fn protect_start(&self) -> u64 {
        self.vaddr & !(self.align - 1)
    }

    /// End of the protected range: `align_up(p_vaddr + p_memsz, p_align)` (4 KiB-aligned).
    /// This is the segment's contribution to `kernel_end`.
    pub fn protect_end(&self) -> u64 {
        // `check` verified that this neither overflows nor exceeds the memory size.
        align_up(self.vaddr.saturating_add(self.memsz), self.align).unwrap_or(u64::MAX)
    }
}

/// The ABI note (`.note.solo5.abi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbiNote {
    /// `abi_target`.
    pub target: u32,
    /// `abi_version`.
    pub version: u32,
}

/// The type of a manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceType {
    /// `MFT_RESERVED_FIRST` (entry 0 only).
    Reserved,
    /// `MFT_DEV_BLOCK_BASIC`.
    Block,
    /// `MFT_DEV_NET_BASIC`.
    Net,
}

impl DeviceType {
    /// The name the tenders print (`BLOCK_BASIC`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DeviceType::Reserved => "RESERVED_FIRST",
            DeviceType::Block => "BLOCK_BASIC",
            DeviceType::Net => "NET_BASIC",
        }
    }
}

/// One entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The name, without the NUL (raw bytes: the tender does not require UTF-8).
    pub name: Vec<u8>,
    /// The type.
    pub device_type: DeviceType,
}

impl ManifestEntry {
    /// The name as text (invalid UTF-8 replaced).
    pub fn name_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.name)
    }
}

/// The manifest (`.note.solo5.manifest`), validated as `mft_validate` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `version` (always [`MFT_VERSION`]).
    pub version: u32,
    /// The entries, index 0 being the reserved one: an entry's index is its handle.
    pub entries: Vec<ManifestEntry>,
    /// The bytes of `struct mft` (`8 + 104·N`), which the runner copies and patches.
    pub raw: Vec<u8>,
}

/// A checked image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `e_entry`.
    pub entry: u64,
    /// The loadable segments in file order (ascending, non-overlapping).
    pub segments: Vec<Segment>,
    /// The highest `align_up(p_vaddr + p_memsz, p_align)` of the loadable segments (0 if none).
    pub kernel_end: u64,
    /// The ABI note.
    pub abi: AbiNote,
    /// The manifest.
    pub manifest: Manifest,
}

impl Image {
    /// Checks the rules that depend on the guest memory size (§1.1 entry and address
    /// limits) for `mem_size` bytes of guest memory.
    pub fn check_memory(&self, mem_size: u64) -> Result<(), ElfError> {
        check_entry(self.entry, mem_size)?;
        for s in &self.segments {
            // Both sums were checked for overflow by `check`.
            if s.vaddr.saturating_add(s.filesz) > mem_size || s.protect_end() > mem_size {
                return Err(ElfError::Segment {
                    index: s.index,
                    problem: SegmentProblem::OutsideMemory { mem_size },
                });
            }
        }
        Ok(())
    }
}

/// What is wrong with a loadable segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentProblem {
    /// `p_vaddr` < 0x100000.
    BelowMinBase {
        /// `p_vaddr`.
        vaddr: u64,
    },
    /// `p_memsz` < `p_filesz`.
    MemszBelowFilesz,
    /// The file bytes lie outside the file.
    OutsideFile,
    /// The segment (or its aligned end) does not fit in guest memory, or a sum overflows.
    OutsideMemory {
        /// The guest memory size checked against.
        mem_size: u64,
    },
    /// `p_align` is not a non-zero power of two.
    BadAlign {
        /// `p_align`.
        align: u64,
    },
    /// The aligned start or end is not 4 KiB-aligned.
    NotPageAligned,
    /// The segment starts below the end of the previous one.
    NotAscending,
    /// Both PF_W and PF_X.
    WriteExec,
}

/// What is wrong with the manifest (`mft_validate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// The descriptor size is not `4 + 8 + 104·N`.
    BadSize {
        /// The descriptor size without the 4 pad bytes.
        size: u64,
        /// N as declared.
        entries: u32,
    },
    /// `version` ≠ 1.
    Version(u32),
    /// N = 0 or N > 64.
    EntryCount(u32),
    /// Entry 0 is not `MFT_RESERVED_FIRST` with an empty name.
    ReservedEntry,
    /// `name[67]` ≠ 0.
    NameNotTerminated(usize),
    /// `attached` ≠ 0 in the file.
    Attached(usize),
    /// An entry after the first has a type other than BLOCK_BASIC or NET_BASIC.
    UnknownType {
        /// Entry index.
        index: usize,
        /// The `type` value.
        device_type: u32,
    },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::BadSize { size, entries } => write!(
                f,
                "size {size} does not match {entries} entries (expected {})",
                MFT_HEADER_SIZE as u64 + MFT_ENTRY_SIZE as u64 * u64::from(*entries)
            ),
            ManifestError::Version(v) => write!(f, "version {v}, expected {MFT_VERSION}"),
            ManifestError::EntryCount(n) => {
                write!(f, "{n} entries, expected 1 to {MFT_MAX_ENTRIES}")
            }
            ManifestError::ReservedEntry => {
                f.write_str("entry 0 is not RESERVED_FIRST with an empty name")
            }
            ManifestError::NameNotTerminated(i) => {
                write!(f, "name of entry {i} is not NUL-terminated")
            }
            ManifestError::Attached(i) => write!(f, "entry {i} is marked attached"),
            ManifestError::UnknownType { index, device_type } => {
                write!(f, "entry {index} has unknown type {device_type:#x}")
            }
        }
    }
}

/// Why an image is refused. The messages follow the upstream tender's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    /// The ELF header is not one the tender accepts (class, data, version, sizes, type,
    /// machine), or the file is too short for it.
    Header(&'static str),
    /// A structure the header points to lies outside the file.
    Truncated(&'static str),
    /// A PT_NOTE segment is shorter than a note header (12 bytes).
    NoteTooShort {
        /// Program header index.
        index: usize,
    },
    /// A Solo5 note's `n_descsz` is 0, above the maximum, or beyond `p_filesz`.
    NoteSize,
    /// No ABI1 note.
    NoAbiNote,
    /// The ABI note's descriptor is not 16 bytes.
    AbiNoteSize(u64),
    /// The ABI note names another target.
    WrongTarget {
        /// The target wanted.
        expected: AbiTarget,
        /// The note's `abi_target`.
        found: u32,
    },
    /// The ABI note's version is not the one of Solo5 v0.12.1 for the target.
    UnsupportedAbiVersion(u32),
    /// No MFT1 note.
    NoManifest,
    /// The manifest fails `mft_validate`.
    InvalidManifest(ManifestError),
    /// `e_entry` is outside `[0x100000, mem_size)`.
    Entry {
        /// `e_entry`.
        entry: u64,
        /// The guest memory size checked against.
        mem_size: u64,
    },
    /// A loadable segment breaks a rule.
    Segment {
        /// Program header index.
        index: usize,
        /// The rule.
        problem: SegmentProblem,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::Header(why) => write!(f, "invalid or unsupported executable ({why})"),
            ElfError::Truncated(what) => {
                write!(f, "invalid executable: {what} lies outside the file")
            }
            ElfError::NoteTooShort { index } => write!(
                f,
                "invalid executable: PT_NOTE segment {index} is shorter than a note header"
            ),
            ElfError::NoteSize => {
                f.write_str("invalid executable: note does not fall within valid size")
            }
            ElfError::NoAbiNote => f.write_str("No Solo5 ABI information found in executable"),
            ElfError::AbiNoteSize(n) => write!(
                f,
                "invalid executable: ABI note descriptor is {n} bytes, expected {ABI_DESC_SIZE}"
            ),
            ElfError::WrongTarget { expected, found } => {
                write!(f, "Executable is not for the solo5-{expected} target")?;
                match AbiTarget::from_number(*found) {
                    Some(t) => write!(f, " (it is for {t})"),
                    None => write!(f, " (ABI target {found})"),
                }
            }
            ElfError::UnsupportedAbiVersion(v) => {
                write!(f, "Executable requests unsupported ABI version {v}")
            }
            ElfError::NoManifest => f.write_str("No Solo5 manifest found in executable"),
            ElfError::InvalidManifest(e) => write!(f, "Solo5 manifest is invalid: {e}"),
            ElfError::Entry { entry, mem_size } => write!(
                f,
                "invalid executable: entry point {entry:#x} is outside [{GUEST_MIN_BASE:#x}, {mem_size:#x})"
            ),
            ElfError::Segment { index, problem } => {
                write!(f, "invalid executable: segment {index} ")?;
                match problem {
                    SegmentProblem::BelowMinBase { vaddr } => write!(
                        f,
                        "starts at {vaddr:#x}, below the minimum load address {GUEST_MIN_BASE:#x}"
                    ),
                    SegmentProblem::MemszBelowFilesz => f.write_str("has p_memsz < p_filesz"),
                    SegmentProblem::OutsideFile => f.write_str("lies outside the file"),
                    SegmentProblem::OutsideMemory { mem_size } => {
                        write!(f, "does not fit in guest memory ({mem_size:#x} bytes)")
                    }
                    SegmentProblem::BadAlign { align } => {
                        write!(f, "has p_align {align:#x}, not a power of 2")
                    }
                    SegmentProblem::NotPageAligned => {
                        f.write_str("is not 4 KiB-aligned after alignment to p_align")
                    }
                    SegmentProblem::NotAscending => {
                        f.write_str("is not in ascending order or overlaps the previous one")
                    }
                    SegmentProblem::WriteExec => f.write_str("requests WRITE and EXEC permissions"),
                }
            }
        }
    }
}

impl std::error::Error for ElfError {}

fn bytes_at(b: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(off).ok()?;
    let len = usize::try_from(len).ok()?;
    b.get(start..start.checked_add(len)?)
}

fn u16_at(b: &[u8], off: u64) -> Option<u16> {
    bytes_at(b, off, 2)
        .and_then(|s| s.try_into().ok())
        .map(u16::from_le_bytes)
}

fn u32_at(b: &[u8], off: u64) -> Option<u32> {
    bytes_at(b, off, 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
}

fn u64_at(b: &[u8], off: u64) -> Option<u64> {
    bytes_at(b, off, 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
}

/// `align_up(v, a)` for a power-of-two `a`; `None` on overflow.
fn align_up(v: u64, a: u64) -> Option<u64> {
    Some(v.checked_add(a - 1)? & !(a - 1))
}

struct Phdr {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

struct Elf<'a> {
    bytes: &'a [u8],
    e_type: u16,
    entry: u64,
    phdrs: Vec<Phdr>,
}

fn parse_header(b: &[u8]) -> Result<Elf<'_>, ElfError> {
    let elf = parse_any_header(b)?;
    if elf.e_type != ET_EXEC {
        return Err(ElfError::Header(
            "not ET_EXEC: static-PIE and shared objects are refused; link with -C relocation-model=static",
        ));
    }
    Ok(elf)
}

/// The ELF header and program headers of any little-endian x86-64 ELF64 file, executable or
/// position-independent.
fn parse_any_header(b: &[u8]) -> Result<Elf<'_>, ElfError> {
    let field = |r: Option<u64>| r.ok_or(ElfError::Header("file too short for an ELF header"));
    if b.len() < EHDR_SIZE {
        return Err(ElfError::Header("file too short for an ELF header"));
    }
    if b[0..4] != [0x7f, b'E', b'L', b'F'] {
        return Err(ElfError::Header("not an ELF file"));
    }
    if b[4] != 2 {
        return Err(ElfError::Header("not ELFCLASS64"));
    }
    if b[5] != 1 {
        return Err(ElfError::Header("not ELFDATA2LSB"));
    }
    if b[6] != 1 {
        return Err(ElfError::Header("e_ident version is not EV_CURRENT"));
    }
    let e_type = field(u16_at(b, 16).map(u64::from))?;
    let e_machine = field(u16_at(b, 18).map(u64::from))?;
    let e_version = field(u32_at(b, 20).map(u64::from))?;
    let e_entry = field(u64_at(b, 24))?;
    let e_phoff = field(u64_at(b, 32))?;
    let e_ehsize = field(u16_at(b, 52).map(u64::from))?;
    let e_phentsize = field(u16_at(b, 54).map(u64::from))?;
    let e_phnum = field(u16_at(b, 56).map(u64::from))?;
    if e_version != 1 {
        return Err(ElfError::Header("e_version is not EV_CURRENT"));
    }
    if e_ehsize != EHDR_SIZE as u64 {
        return Err(ElfError::Header("e_ehsize is not 64"));
    }
    if e_phentsize != PHDR_SIZE as u64 {
        return Err(ElfError::Header("e_phentsize is not 56"));
    }
    if e_phnum < 1 {
        return Err(ElfError::Header("no program headers"));
    }
    if e_machine != u64::from(EM_X86_64) {
        return Err(ElfError::Header("not EM_X86_64"));
    }
    let table = bytes_at(b, e_phoff, e_phnum * PHDR_SIZE as u64)
        .ok_or(ElfError::Truncated("the program header table"))?;
    let phdrs = table
        .chunks_exact(PHDR_SIZE)
        .map(|p| {
            // The chunk is exactly PHDR_SIZE bytes, so every read below is in bounds.
            let r32 = |o| u32_at(p, o).unwrap_or(0);
            let r64 = |o| u64_at(p, o).unwrap_or(0);
            Phdr {
                p_type: r32(0),
                flags: r32(4),
                offset: r64(8),
                vaddr: r64(16),
                filesz: r64(32),
                memsz: r64(40),
                align: r64(48),
            }
        })
        .collect();
    Ok(Elf {
        bytes: b,
        e_type: e_type as u16,
        entry: e_entry,
        phdrs,
    })
}

/// Finds the first Solo5 note of type `n_type` as `elf_load_note` does (§2.1): only the
/// first note of each PT_NOTE segment is looked at. Returns the descriptor read at
/// `align_up(20, note_align)`, so without the pad bytes.
fn find_note<'a>(
    elf: &Elf<'a>,
    n_type: u32,
    note_align: u64,
    max_desc: u64,
) -> Result<Option<&'a [u8]>, ElfError> {
    for (index, ph) in elf.phdrs.iter().enumerate() {
        if ph.p_type != PT_NOTE {
            continue;
        }
        if ph.filesz < 12 {
            return Err(ElfError::NoteTooShort { index });
        }
        let seg = bytes_at(elf.bytes, ph.offset, ph.filesz)
            .ok_or(ElfError::Truncated("a PT_NOTE segment"))?;
        if ph.filesz < SOLO5_NOTE_HEADER {
            continue;
        }
        let namesz = u32_at(seg, 0).unwrap_or(0);
        let descsz = u64::from(u32_at(seg, 4).unwrap_or(0));
        let ty = u32_at(seg, 8).unwrap_or(0);
        if namesz != 6 || ty != n_type || seg.get(12..18) != Some(b"Solo5\0".as_slice()) {
            continue;
        }
        if descsz < 1 || descsz > max_desc || ph.filesz < SOLO5_NOTE_HEADER + descsz {
            return Err(ElfError::NoteSize);
        }
        let desc_off = align_up(SOLO5_NOTE_HEADER, note_align).unwrap_or(SOLO5_NOTE_HEADER);
        let pad = desc_off - SOLO5_NOTE_HEADER;
        if descsz < pad {
            return Err(ElfError::NoteSize);
        }
        // desc_off + descsz - pad = 20 + descsz ≤ p_filesz, so this is in bounds.
        return bytes_at(seg, desc_off, descsz - pad)
            .map(Some)
            .ok_or(ElfError::NoteSize);
    }
    Ok(None)
}

fn parse_abi(elf: &Elf<'_>, target: AbiTarget) -> Result<AbiNote, ElfError> {
    let desc =
        find_note(elf, NOTE_TYPE_ABI1, 4, ABI_DESC_SIZE as u64)?.ok_or(ElfError::NoAbiNote)?;
    if desc.len() != ABI_DESC_SIZE {
        return Err(ElfError::AbiNoteSize(desc.len() as u64));
    }
    let abi = AbiNote {
        target: u32_at(desc, 0).unwrap_or(0),
        version: u32_at(desc, 4).unwrap_or(0),
    };
    if abi.target != target.number() {
        return Err(ElfError::WrongTarget {
            expected: target,
            found: abi.target,
        });
    }
    if let Some(v) = target.abi_version()
        && abi.version != v
    {
        return Err(ElfError::UnsupportedAbiVersion(abi.version));
    }
    Ok(abi)
}

/// Validates a `struct mft` (the manifest descriptor without its pad) as `mft_validate`
/// does, plus the entry types.
pub fn parse_manifest(desc: &[u8]) -> Result<Manifest, ManifestError> {
    let size = desc.len() as u64;
    let (Some(version), Some(n)) = (u32_at(desc, 0), u32_at(desc, 4)) else {
        return Err(ManifestError::BadSize { size, entries: 0 });
    };
    if size != MFT_HEADER_SIZE as u64 + MFT_ENTRY_SIZE as u64 * u64::from(n) {
        return Err(ManifestError::BadSize { size, entries: n });
    }
    if version != MFT_VERSION {
        return Err(ManifestError::Version(version));
    }
    if !(1..=MFT_MAX_ENTRIES).contains(&n) {
        return Err(ManifestError::EntryCount(n));
    }
    let mut entries = Vec::new();
    for (i, e) in desc[MFT_HEADER_SIZE..]
        .chunks_exact(MFT_ENTRY_SIZE)
        .enumerate()
    {
        let ty = u32_at(e, MFT_ENTRY_TYPE as u64).unwrap_or(0);
        if i == 0 && (ty != MFT_RESERVED_FIRST || e[0] != 0) {
            return Err(ManifestError::ReservedEntry);
        }
        if e[MFT_NAME_SIZE - 1] != 0 {
            return Err(ManifestError::NameNotTerminated(i));
        }
        if e[MFT_ENTRY_ATTACHED] != 0 {
            return Err(ManifestError::Attached(i));
        }
        let device_type = match ty {
            MFT_RESERVED_FIRST if i == 0 => DeviceType::Reserved,
            MFT_DEV_BLOCK_BASIC if i > 0 => DeviceType::Block,
            MFT_DEV_NET_BASIC if i > 0 => DeviceType::Net,
            _ => {
                return Err(ManifestError::UnknownType {
                    index: i,
                    device_type: ty,
                });
            }
        };
        let name_len = e[..MFT_NAME_SIZE]
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(MFT_NAME_SIZE - 1);
        entries.push(ManifestEntry {
            name: e[..name_len].to_vec(),
            device_type,
        });
    }
    Ok(Manifest {
        version,
        entries,
        raw: desc.to_vec(),
    })
}

fn check_entry(entry: u64, mem_size: u64) -> Result<(), ElfError> {
    if entry < GUEST_MIN_BASE || entry >= mem_size {
        return Err(ElfError::Entry { entry, mem_size });
    }
    Ok(())
}

fn check_segments(elf: &Elf<'_>, mem_size: u64) -> Result<(Vec<Segment>, u64), ElfError> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut kernel_end = 0;
    for (index, ph) in elf.phdrs.iter().enumerate() {
        if ph.p_type != PT_LOAD || ph.filesz == 0 {
            continue;
        }
        let fail = |problem| ElfError::Segment { index, problem };
        if ph.vaddr < GUEST_MIN_BASE {
            return Err(fail(SegmentProblem::BelowMinBase { vaddr: ph.vaddr }));
        }
        if ph.memsz < ph.filesz {
            return Err(fail(SegmentProblem::MemszBelowFilesz));
        }
        if bytes_at(elf.bytes, ph.offset, ph.filesz).is_none() {
            return Err(fail(SegmentProblem::OutsideFile));
        }
        let outside = || fail(SegmentProblem::OutsideMemory { mem_size });
        match ph.vaddr.checked_add(ph.filesz) {
            Some(end) if end <= mem_size => {}
            _ => return Err(outside()),
        }
        if ph.align == 0 || !ph.align.is_power_of_two() {
            return Err(fail(SegmentProblem::BadAlign { align: ph.align }));
        }
        let end = ph
            .vaddr
            .checked_add(ph.memsz)
            .and_then(|e| align_up(e, ph.align))
            .ok_or_else(outside)?;
        if end > mem_size {
            return Err(outside());
        }
        let start = ph.vaddr & !(ph.align - 1);
        if start % PAGE_SIZE != 0 || end % PAGE_SIZE != 0 {
            return Err(fail(SegmentProblem::NotPageAligned));
        }
        if let Some(prev) = segments.last()
            && start < prev.protect_end()
        {
            return Err(fail(SegmentProblem::NotAscending));
        }
        if ph.flags & PF_W != 0 && ph.flags & PF_X != 0 {
            return Err(fail(SegmentProblem::WriteExec));
        }
        kernel_end = kernel_end.max(end);
        segments.push(Segment {
            index,
            offset: ph.offset,
            vaddr: ph.vaddr,
            filesz: ph.filesz,
            memsz: ph.memsz,
            align: ph.align,
            flags: ph.flags,
        });
    }
    Ok((segments, kernel_end))
}

/// Parses `bytes` and checks it as the upstream `solo5-<target>` tender does before it runs
/// an image: the ELF header, the ABI note (present, this target, this version), the
/// manifest (present, valid), the entry point and every loadable segment. The rules that
/// depend on the memory size are checked against [`MAX_MEM_SIZE`]; see
/// [`Image::check_memory`].
///
/// Never panics, whatever the input.
pub fn check(bytes: &[u8], target: AbiTarget) -> Result<Image, ElfError> {
    let elf = parse_header(bytes)?;
    let abi = parse_abi(&elf, target)?;
    let mft = find_note(&elf, NOTE_TYPE_MFT1, 8, MFT_DESC_MAX)?.ok_or(ElfError::NoManifest)?;
    let manifest = parse_manifest(mft).map_err(ElfError::InvalidManifest)?;
    check_entry(elf.entry, MAX_MEM_SIZE)?;
    let (segments, kernel_end) = check_segments(&elf, MAX_MEM_SIZE)?;
    Ok(Image {
        entry: elf.entry,
        segments,
        kernel_end,
        abi,
        manifest,
    })
}

/// `p_type` of the program interpreter (a dynamically linked executable).
const PT_INTERP: u32 = 3;
/// `XEN_ELFNOTE_PHYS32_ENTRY`: the 32-bit PVH entry point.
const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;

/// What an ELF file says about itself, read for `petrel inspect`: any x86-64 ELF64
/// executable (a unix binary too), with the Solo5 notes read by the tenders' rules and the
/// Xen PVH entry note where present. Nothing in the file is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notes {
    /// `e_type`: 2 for a fixed-address executable, 3 for a position-independent one.
    pub e_type: u16,
    /// `e_entry`.
    pub entry: u64,
    /// Whether the file names a program interpreter (a dynamically linked executable).
    pub interpreter: bool,
    /// The Solo5 ABI note, if any.
    pub abi: Option<AbiNote>,
    /// The Solo5 manifest note, if any, validated as `mft_validate` does.
    pub manifest: Option<Result<Manifest, ManifestError>>,
    /// The PVH entry of a Xen note (`XEN_ELFNOTE_PHYS32_ENTRY`), if any.
    pub xen_pvh_entry: Option<u32>,
}

/// Reads the header and notes of `bytes`. Never panics, whatever the input; a file that is
/// not a readable x86-64 ELF64 is an error saying why.
pub fn read_notes(bytes: &[u8]) -> Result<Notes, ElfError> {
    let elf = parse_any_header(bytes)?;
    let abi = match find_note(&elf, NOTE_TYPE_ABI1, 4, ABI_DESC_SIZE as u64)? {
        Some(desc) if desc.len() == ABI_DESC_SIZE => Some(AbiNote {
            target: u32_at(desc, 0).unwrap_or(0),
            version: u32_at(desc, 4).unwrap_or(0),
        }),
        Some(desc) => return Err(ElfError::AbiNoteSize(desc.len() as u64)),
        None => None,
    };
    let manifest = find_note(&elf, NOTE_TYPE_MFT1, 8, MFT_DESC_MAX)?.map(parse_manifest);
    Ok(Notes {
        e_type: elf.e_type,
        entry: elf.entry,
        interpreter: elf.phdrs.iter().any(|p| p.p_type == PT_INTERP),
        abi,
        manifest,
        xen_pvh_entry: xen_pvh_entry(&elf),
    })
}

/// The PVH entry from a `Xen` note of type 18 in any PT_NOTE segment (every note of a
/// segment is looked at, each bounded by the segment).
fn xen_pvh_entry(elf: &Elf<'_>) -> Option<u32> {
    for ph in elf.phdrs.iter().filter(|p| p.p_type == PT_NOTE) {
        let Some(seg) = bytes_at(elf.bytes, ph.offset, ph.filesz) else {
            continue;
        };
        let mut at = 0u64;
        while let (Some(namesz), Some(descsz), Some(ty)) =
            (u32_at(seg, at), u32_at(seg, at + 4), u32_at(seg, at + 8))
        {
            let name_at = at + 12;
            let desc_at = align_up(name_at + u64::from(namesz), 4)?;
            let next = align_up(desc_at.checked_add(u64::from(descsz))?, 4)?;
            let name = bytes_at(seg, name_at, u64::from(namesz))?;
            if name == b"Xen\0" && ty == XEN_ELFNOTE_PHYS32_ENTRY {
                return u32_at(seg, desc_at);
            }
            if next <= at {
                break;
            }
            at = next;
        }
    }
    None
}

#[cfg(test)]
mod tests;
