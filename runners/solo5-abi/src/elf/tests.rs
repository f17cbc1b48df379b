//! One test per rule, on ELF bytes built here, and a randomized no-panic test.

use super::*;

/// One program header and the bytes it covers.
#[derive(Clone)]
struct Ph {
    p_type: u32,
    flags: u32,
    vaddr: u64,
    memsz: u64,
    align: u64,
    content: Vec<u8>,
    /// Overrides the computed `p_offset`.
    offset: Option<u64>,
    /// Overrides `content.len()` as `p_filesz`.
    filesz: Option<u64>,
}

fn load(flags: u32, vaddr: u64, content: Vec<u8>, memsz: u64) -> Ph {
    Ph {
        p_type: PT_LOAD,
        flags,
        vaddr,
        memsz,
        align: 0x1000,
        content,
        offset: None,
        filesz: None,
    }
}

fn note(content: Vec<u8>) -> Ph {
    Ph {
        p_type: PT_NOTE,
        flags: PF_R,
        vaddr: 0,
        memsz: 0,
        align: 4,
        content,
        offset: None,
        filesz: None,
    }
}

fn abi_note(target: u32, version: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [6, 16, NOTE_TYPE_ABI1] {
        v.extend_from_slice(&u32::to_le_bytes(x));
    }
    v.extend_from_slice(b"Solo5\0\0\0");
    for x in [target, version, 0, 0] {
        v.extend_from_slice(&u32::to_le_bytes(x));
    }
    v
}

fn mft_entry(name: &str, ty: u32) -> Vec<u8> {
    let mut e = vec![0u8; MFT_ENTRY_SIZE];
    e[..name.len()].copy_from_slice(name.as_bytes());
    e[MFT_ENTRY_TYPE..MFT_ENTRY_TYPE + 4].copy_from_slice(&ty.to_le_bytes());
    e
}

/// A `struct mft` with the reserved entry and `devices`.
fn mft_desc(devices: &[(&str, u32)]) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&MFT_VERSION.to_le_bytes());
    d.extend_from_slice(&(devices.len() as u32 + 1).to_le_bytes());
    d.extend(mft_entry("", MFT_RESERVED_FIRST));
    for (n, t) in devices {
        d.extend(mft_entry(n, *t));
    }
    d
}

/// The whole MFT1 note around a `struct mft`.
fn mft_note(desc: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [6, desc.len() as u32 + 4, NOTE_TYPE_MFT1] {
        v.extend_from_slice(&u32::to_le_bytes(x));
    }
    v.extend_from_slice(b"Solo5\0\0\0");
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(desc);
    v
}

struct Builder {
    e_type: u16,
    machine: u16,
    entry: u64,
    phdrs: Vec<Ph>,
}

impl Builder {
    /// A valid spt image: text R+X, data RW with BSS, the ABI note, a manifest with one
    /// block and one net device.
    fn valid() -> Builder {
        Builder {
            e_type: ET_EXEC,
            machine: EM_X86_64,
            entry: 0x100000,
            phdrs: vec![
                load(PF_R | PF_X, 0x100000, vec![0xcc; 0x20], 0x20),
                load(PF_R | PF_W, 0x102000, vec![1; 0x10], 0x3000),
                note(abi_note(2, 2)),
                note(mft_note(&mft_desc(&[
                    ("disk", MFT_DEV_BLOCK_BASIC),
                    ("net0", MFT_DEV_NET_BASIC),
                ]))),
            ],
        }
    }

    fn build(&self) -> Vec<u8> {
        let phoff = EHDR_SIZE as u64;
        let mut data_off = phoff + (PHDR_SIZE * self.phdrs.len()) as u64;
        let mut out = vec![0u8; data_off as usize];
        out[0..4].copy_from_slice(b"\x7fELF");
        out[4] = 2;
        out[5] = 1;
        out[6] = 1;
        out[16..18].copy_from_slice(&self.e_type.to_le_bytes());
        out[18..20].copy_from_slice(&self.machine.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[24..32].copy_from_slice(&self.entry.to_le_bytes());
        out[32..40].copy_from_slice(&phoff.to_le_bytes());
        out[52..54].copy_from_slice(&(EHDR_SIZE as u16).to_le_bytes());
        out[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        out[56..58].copy_from_slice(&(self.phdrs.len() as u16).to_le_bytes());
        for (i, ph) in self.phdrs.iter().enumerate() {
            data_off = data_off.next_multiple_of(8);
            let mut h = Vec::new();
            h.extend_from_slice(&ph.p_type.to_le_bytes());
            h.extend_from_slice(&ph.flags.to_le_bytes());
            h.extend_from_slice(&ph.offset.unwrap_or(data_off).to_le_bytes());
            h.extend_from_slice(&ph.vaddr.to_le_bytes());
            h.extend_from_slice(&ph.vaddr.to_le_bytes());
            let filesz = ph.filesz.unwrap_or(ph.content.len() as u64);
            h.extend_from_slice(&filesz.to_le_bytes());
            h.extend_from_slice(&ph.memsz.to_le_bytes());
            h.extend_from_slice(&ph.align.to_le_bytes());
            let at = EHDR_SIZE + i * PHDR_SIZE;
            out[at..at + PHDR_SIZE].copy_from_slice(&h);
            out.resize(data_off as usize, 0);
            out.extend_from_slice(&ph.content);
            data_off += ph.content.len() as u64;
        }
        out
    }

    fn check(&self) -> Result<Image, ElfError> {
        check(&self.build(), AbiTarget::Spt)
    }

    fn with(mut self, f: impl FnOnce(&mut Builder)) -> Builder {
        f(&mut self);
        self
    }
}

fn seg_err(index: usize, problem: SegmentProblem) -> Result<Image, ElfError> {
    Err(ElfError::Segment { index, problem })
}

#[test]
fn valid_image_parses() {
    let img = Builder::valid().check().expect("valid image");
    assert_eq!(img.entry, 0x100000);
    assert_eq!(img.segments.len(), 2);
    assert_eq!(img.segments[0].vaddr, 0x100000);
    assert_eq!(img.segments[1].memsz, 0x3000);
    assert_eq!(img.kernel_end, 0x105000);
    assert_eq!(
        img.abi,
        AbiNote {
            target: 2,
            version: 2
        }
    );
    let names: Vec<_> = img
        .manifest
        .entries
        .iter()
        .map(|e| e.name_str().into_owned())
        .collect();
    assert_eq!(names, ["", "disk", "net0"]);
    assert_eq!(img.manifest.entries[1].device_type, DeviceType::Block);
    assert_eq!(img.manifest.entries[2].device_type, DeviceType::Net);
    assert_eq!(img.manifest.raw.len(), 8 + 3 * 104);
    assert_eq!(img.check_memory(2 << 20), Ok(()));
}

#[test]
fn header_too_short() {
    assert_eq!(
        check(&[0x7f, b'E', b'L', b'F'], AbiTarget::Spt),
        Err(ElfError::Header("file too short for an ELF header"))
    );
}

#[test]
fn header_fields() {
    let cases: [(usize, u8, &str); 6] = [
        (0, 0, "not an ELF file"),
        (4, 1, "not ELFCLASS64"),
        (5, 2, "not ELFDATA2LSB"),
        (6, 0, "e_ident version is not EV_CURRENT"),
        (20, 2, "e_version is not EV_CURRENT"),
        (52, 63, "e_ehsize is not 64"),
    ];
    for (off, val, msg) in cases {
        let mut b = Builder::valid().build();
        b[off] = val;
        assert_eq!(
            check(&b, AbiTarget::Spt),
            Err(ElfError::Header(msg)),
            "{msg}"
        );
    }
    let mut b = Builder::valid().build();
    b[54] = 64;
    assert_eq!(
        check(&b, AbiTarget::Spt),
        Err(ElfError::Header("e_phentsize is not 56"))
    );
    let mut b = Builder::valid().build();
    b[56] = 0;
    assert_eq!(
        check(&b, AbiTarget::Spt),
        Err(ElfError::Header("no program headers"))
    );
}

#[test]
fn osabi_is_not_checked() {
    let mut b = Builder::valid().build();
    b[7] = 9; // ELFOSABI_FREEBSD
    assert!(check(&b, AbiTarget::Spt).is_ok());
}

#[test]
fn et_dyn_is_refused() {
    let r = Builder::valid().with(|b| b.e_type = 3).check();
    assert!(matches!(r, Err(ElfError::Header(m)) if m.starts_with("not ET_EXEC")));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.starts_with("invalid or unsupported executable (not ET_EXEC"),
        "{msg}"
    );
}

#[test]
fn machine_must_be_x86_64() {
    let r = Builder::valid().with(|b| b.machine = 183).check();
    assert_eq!(r, Err(ElfError::Header("not EM_X86_64")));
}

#[test]
fn program_headers_outside_file() {
    let mut b = Builder::valid().build();
    b[56] = 200;
    assert_eq!(
        check(&b, AbiTarget::Spt),
        Err(ElfError::Truncated("the program header table"))
    );
}

#[test]
fn entry_range() {
    let r = Builder::valid().with(|b| b.entry = 0xfffff).check();
    assert_eq!(
        r,
        Err(ElfError::Entry {
            entry: 0xfffff,
            mem_size: MAX_MEM_SIZE
        })
    );
    let r = Builder::valid().with(|b| b.entry = MAX_MEM_SIZE).check();
    assert!(matches!(r, Err(ElfError::Entry { .. })));
    let img = Builder::valid()
        .with(|b| b.entry = 0x200000)
        .check()
        .expect("entry < 4 GiB");
    assert_eq!(
        img.check_memory(0x200000),
        Err(ElfError::Entry {
            entry: 0x200000,
            mem_size: 0x200000
        })
    );
    assert_eq!(img.check_memory(0x400000), Ok(()));
}

#[test]
fn only_load_with_filesz_counts() {
    // A BSS-only PT_LOAD (filesz 0) is skipped even below the minimum address, and is not
    // counted in kernel_end.
    let img = Builder::valid()
        .with(|b| {
            b.phdrs
                .push(load(PF_R | PF_W, 0x1000, vec![], 0x10_0000_0000))
        })
        .check()
        .expect("filesz-0 segment ignored");
    assert_eq!(img.segments.len(), 2);
    assert_eq!(img.kernel_end, 0x105000);
    // Other program header types are ignored too.
    let img = Builder::valid()
        .with(|b| {
            let mut p = load(PF_R | PF_W | PF_X, 0, vec![1, 2, 3], 3);
            p.p_type = 7; // PT_TLS
            b.phdrs.push(p);
        })
        .check()
        .expect("PT_TLS ignored");
    assert_eq!(img.segments.len(), 2);
}

#[test]
fn vaddr_below_min_base() {
    let r = Builder::valid()
        .with(|b| b.phdrs[0].vaddr = 0xff000)
        .check();
    assert_eq!(
        r,
        seg_err(0, SegmentProblem::BelowMinBase { vaddr: 0xff000 })
    );
}

#[test]
fn memsz_below_filesz() {
    let r = Builder::valid().with(|b| b.phdrs[1].memsz = 8).check();
    assert_eq!(r, seg_err(1, SegmentProblem::MemszBelowFilesz));
}

#[test]
fn segment_outside_file() {
    let r = Builder::valid()
        .with(|b| b.phdrs[1].filesz = Some(0x10_0000))
        .with(|b| b.phdrs[1].memsz = 0x10_0000)
        .check();
    assert_eq!(r, seg_err(1, SegmentProblem::OutsideFile));
    let r = Builder::valid()
        .with(|b| b.phdrs[1].offset = Some(u64::MAX - 4))
        .check();
    assert_eq!(r, seg_err(1, SegmentProblem::OutsideFile));
}

#[test]
fn segment_outside_memory() {
    let oom = SegmentProblem::OutsideMemory {
        mem_size: MAX_MEM_SIZE,
    };
    // vaddr + filesz beyond memory (or overflowing).
    let r = Builder::valid()
        .with(|b| b.phdrs[1].vaddr = MAX_MEM_SIZE - 8)
        .check();
    assert_eq!(r, seg_err(1, oom.clone()));
    let r = Builder::valid()
        .with(|b| b.phdrs[1].vaddr = u64::MAX - 8)
        .check();
    assert_eq!(r, seg_err(1, oom.clone()));
    // align_up(vaddr + memsz) beyond memory (or overflowing).
    let r = Builder::valid()
        .with(|b| b.phdrs[1].memsz = MAX_MEM_SIZE)
        .check();
    assert_eq!(r, seg_err(1, oom.clone()));
    let r = Builder::valid()
        .with(|b| b.phdrs[1].memsz = u64::MAX)
        .check();
    assert_eq!(r, seg_err(1, oom));
    // And against the real memory size.
    let img = Builder::valid()
        .with(|b| b.phdrs[1].memsz = 0x200000)
        .check()
        .expect("fits in 4 GiB");
    assert_eq!(
        img.check_memory(0x200000),
        Err(ElfError::Segment {
            index: 1,
            problem: SegmentProblem::OutsideMemory { mem_size: 0x200000 }
        })
    );
}

#[test]
fn align_must_be_power_of_two() {
    for align in [0, 3, 0x1800] {
        let r = Builder::valid().with(|b| b.phdrs[0].align = align).check();
        assert_eq!(r, seg_err(0, SegmentProblem::BadAlign { align }));
    }
}

#[test]
fn aligned_range_must_be_page_aligned() {
    // p_align 16: start 0x100010 stays unaligned to 4 KiB.
    let r = Builder::valid()
        .with(|b| {
            b.phdrs[0].align = 16;
            b.phdrs[0].vaddr = 0x100010;
        })
        .check();
    assert_eq!(r, seg_err(0, SegmentProblem::NotPageAligned));
    // p_align 0x200000 rounds everything to 2 MiB, which is fine...
    let img = Builder::valid()
        .with(|b| {
            b.phdrs[1].align = 0x200000;
            b.phdrs[1].vaddr = 0x200000;
        })
        .check()
        .expect("2 MiB alignment");
    assert_eq!(img.kernel_end, 0x400000);
}

#[test]
fn segments_ascending_without_overlap() {
    // Descending.
    let r = Builder::valid().with(|b| b.phdrs.swap(0, 1)).check();
    assert_eq!(r, seg_err(1, SegmentProblem::NotAscending));
    // Overlapping: the data segment starts inside the (page-rounded) text segment.
    let r = Builder::valid().with(|b| b.phdrs[0].memsz = 0x2001).check();
    assert_eq!(r, seg_err(1, SegmentProblem::NotAscending));
    // Touching is fine.
    assert!(
        Builder::valid()
            .with(|b| b.phdrs[0].memsz = 0x2000)
            .check()
            .is_ok()
    );
}

#[test]
fn write_and_exec_is_refused() {
    let r = Builder::valid()
        .with(|b| b.phdrs[1].flags = PF_R | PF_W | PF_X)
        .check();
    assert_eq!(r, seg_err(1, SegmentProblem::WriteExec));
    assert_eq!(
        r.unwrap_err().to_string(),
        "invalid executable: segment 1 requests WRITE and EXEC permissions"
    );
}

#[test]
fn no_abi_note() {
    let r = Builder::valid()
        .with(|b| {
            b.phdrs.remove(2);
        })
        .check();
    assert_eq!(r, Err(ElfError::NoAbiNote));
    assert_eq!(
        r.unwrap_err().to_string(),
        "No Solo5 ABI information found in executable"
    );
}

#[test]
fn only_the_first_note_of_a_pt_note_counts() {
    // The ABI note placed second in a PT_NOTE (after an OpenBSD note) is not found.
    let r = Builder::valid()
        .with(|b| {
            let mut c = Vec::new();
            for x in [8u32, 4, 1] {
                c.extend_from_slice(&x.to_le_bytes());
            }
            c.extend_from_slice(b"OpenBSD\0\0\0\0\0");
            c.extend(abi_note(2, 2));
            b.phdrs[2] = note(c);
        })
        .check();
    assert_eq!(r, Err(ElfError::NoAbiNote));
}

#[test]
fn note_name_and_size_rules() {
    // Wrong name: not a Solo5 note.
    let r = Builder::valid()
        .with(|b| b.phdrs[2].content[12..18].copy_from_slice(b"Solo6\0"))
        .check();
    assert_eq!(r, Err(ElfError::NoAbiNote));
    // Wrong namesz.
    let r = Builder::valid().with(|b| b.phdrs[2].content[0] = 5).check();
    assert_eq!(r, Err(ElfError::NoAbiNote));
    // p_filesz < 12 is fatal.
    let r = Builder::valid()
        .with(|b| b.phdrs[2].filesz = Some(11))
        .check();
    assert_eq!(r, Err(ElfError::NoteTooShort { index: 2 }));
    // 12 ≤ p_filesz < 20 is skipped.
    let r = Builder::valid()
        .with(|b| b.phdrs[2].filesz = Some(19))
        .check();
    assert_eq!(r, Err(ElfError::NoAbiNote));
    // n_descsz 0.
    let r = Builder::valid().with(|b| b.phdrs[2].content[4] = 0).check();
    assert_eq!(r, Err(ElfError::NoteSize));
    assert_eq!(
        r.unwrap_err().to_string(),
        "invalid executable: note does not fall within valid size"
    );
    // n_descsz above the maximum.
    let r = Builder::valid()
        .with(|b| b.phdrs[2].content[4] = 17)
        .check();
    assert_eq!(r, Err(ElfError::NoteSize));
    // n_descsz beyond p_filesz (upstream's buggyelf).
    let r = Builder::valid()
        .with(|b| b.phdrs[2].filesz = Some(35))
        .check();
    assert_eq!(r, Err(ElfError::NoteSize));
    // A short but in-range ABI descriptor.
    let r = Builder::valid().with(|b| b.phdrs[2].content[4] = 8).check();
    assert_eq!(r, Err(ElfError::AbiNoteSize(8)));
    // The segment itself outside the file.
    let r = Builder::valid()
        .with(|b| b.phdrs[2].offset = Some(1 << 40))
        .check();
    assert_eq!(r, Err(ElfError::Truncated("a PT_NOTE segment")));
}

#[test]
fn abi_target_and_version() {
    let r = Builder::valid()
        .with(|b| b.phdrs[2] = note(abi_note(1, 2)))
        .check();
    assert_eq!(
        r,
        Err(ElfError::WrongTarget {
            expected: AbiTarget::Spt,
            found: 1
        })
    );
    assert_eq!(
        r.unwrap_err().to_string(),
        "Executable is not for the solo5-spt target (it is for hvt)"
    );
    let r = Builder::valid()
        .with(|b| b.phdrs[2] = note(abi_note(2, 1)))
        .check();
    assert_eq!(r, Err(ElfError::UnsupportedAbiVersion(1)));
    assert_eq!(
        r.unwrap_err().to_string(),
        "Executable requests unsupported ABI version 1"
    );
    // The same image checked for hvt.
    let b = Builder::valid()
        .with(|b| b.phdrs[2] = note(abi_note(1, 2)))
        .build();
    assert!(check(&b, AbiTarget::Hvt).is_ok());
}

#[test]
fn no_manifest() {
    let r = Builder::valid()
        .with(|b| {
            b.phdrs.remove(3);
        })
        .check();
    assert_eq!(r, Err(ElfError::NoManifest));
    assert_eq!(
        r.unwrap_err().to_string(),
        "No Solo5 manifest found in executable"
    );
}

fn with_mft(desc: Vec<u8>) -> Result<Image, ElfError> {
    Builder::valid()
        .with(|b| b.phdrs[3] = note(mft_note(&desc)))
        .check()
}

fn mft_err(e: ManifestError) -> Result<Image, ElfError> {
    Err(ElfError::InvalidManifest(e))
}

#[test]
fn manifest_size_must_match_entries() {
    let mut d = mft_desc(&[("a", MFT_DEV_NET_BASIC)]);
    d.extend_from_slice(&[0; 8]);
    assert_eq!(
        with_mft(d),
        mft_err(ManifestError::BadSize {
            size: 8 + 2 * 104 + 8,
            entries: 2
        })
    );
    let mut d = mft_desc(&[("a", MFT_DEV_NET_BASIC)]);
    d[4] = 3;
    assert_eq!(
        with_mft(d),
        mft_err(ManifestError::BadSize {
            size: 8 + 2 * 104,
            entries: 3
        })
    );
    assert_eq!(
        with_mft(vec![1, 0, 0, 0]),
        mft_err(ManifestError::BadSize {
            size: 4,
            entries: 0
        })
    );
}

#[test]
fn manifest_version() {
    let mut d = mft_desc(&[]);
    d[0] = 2;
    let r = with_mft(d);
    assert_eq!(r, mft_err(ManifestError::Version(2)));
    assert_eq!(
        r.unwrap_err().to_string(),
        "Solo5 manifest is invalid: version 2, expected 1"
    );
}

#[test]
fn manifest_entry_count() {
    let mut d = mft_desc(&[]);
    d.truncate(8);
    d[4] = 0;
    assert_eq!(with_mft(d), mft_err(ManifestError::EntryCount(0)));
    // 64 entries are fine, 65 are not (the note then exceeds the maximum descriptor).
    let devs: Vec<(String, u32)> = (1..64)
        .map(|i| (format!("d{i}"), MFT_DEV_NET_BASIC))
        .collect();
    let devs: Vec<(&str, u32)> = devs.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    let img = with_mft(mft_desc(&devs)).expect("64 entries");
    assert_eq!(img.manifest.entries.len(), 64);
    let mut d = mft_desc(&devs);
    d.extend(mft_entry("x", MFT_DEV_NET_BASIC));
    d[4] = 65;
    assert_eq!(with_mft(d), Err(ElfError::NoteSize));
    assert_eq!(
        parse_manifest(&{
            let mut d = mft_desc(&devs);
            d.extend(mft_entry("x", MFT_DEV_NET_BASIC));
            d[4] = 65;
            d
        }),
        Err(ManifestError::EntryCount(65))
    );
}

#[test]
fn manifest_reserved_entry() {
    let mut d = mft_desc(&[]);
    d[8] = b'x';
    assert_eq!(with_mft(d), mft_err(ManifestError::ReservedEntry));
    let mut d = mft_desc(&[]);
    d[8 + MFT_ENTRY_TYPE..8 + MFT_ENTRY_TYPE + 4].copy_from_slice(&MFT_DEV_NET_BASIC.to_le_bytes());
    assert_eq!(with_mft(d), mft_err(ManifestError::ReservedEntry));
}

#[test]
fn manifest_names_nul_terminated() {
    let mut d = mft_desc(&[("a", MFT_DEV_BLOCK_BASIC)]);
    d[8 + 104 + 67] = b'z';
    assert_eq!(with_mft(d), mft_err(ManifestError::NameNotTerminated(1)));
    // 67 characters are fine.
    let long = "n".repeat(67);
    let img = with_mft(mft_desc(&[(&long, MFT_DEV_BLOCK_BASIC)])).expect("67-char name");
    assert_eq!(img.manifest.entries[1].name.len(), 67);
}

#[test]
fn manifest_attached_must_be_zero() {
    let mut d = mft_desc(&[("a", MFT_DEV_BLOCK_BASIC)]);
    d[8 + 104 + MFT_ENTRY_ATTACHED] = 1;
    assert_eq!(with_mft(d), mft_err(ManifestError::Attached(1)));
}

#[test]
fn manifest_types() {
    let d = mft_desc(&[("a", 3)]);
    assert_eq!(
        with_mft(d),
        mft_err(ManifestError::UnknownType {
            index: 1,
            device_type: 3
        })
    );
    let d = mft_desc(&[("a", MFT_RESERVED_FIRST)]);
    assert_eq!(
        with_mft(d),
        mft_err(ManifestError::UnknownType {
            index: 1,
            device_type: MFT_RESERVED_FIRST
        })
    );
}

#[test]
fn manifest_note_descsz_below_pad() {
    let r = Builder::valid()
        .with(|b| b.phdrs[3].content[4..8].copy_from_slice(&2u32.to_le_bytes()))
        .check();
    assert_eq!(r, Err(ElfError::NoteSize));
}

/// xorshift64*: a small deterministic generator, so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const INTERESTING: [u64; 12] = [
    0,
    1,
    11,
    12,
    19,
    20,
    0xfff,
    0x1000,
    0x100000,
    MAX_MEM_SIZE,
    u64::MAX,
    u64::MAX / 2 + 1,
];

/// Mutates a valid image at random (bit flips, random bytes, interesting 16/32/64-bit
/// values in the header and program headers, truncation, extension) and checks that
/// `check` and `check_memory` never panic. `PETREL_SPT_FUZZ_ITERS` sets the count
/// (default 20 000; see the README for a 1e6 run), `PETREL_SPT_FUZZ_SEED` the seed.
#[test]
fn randomized_mutations_never_panic() {
    let iters: u64 = std::env::var("PETREL_SPT_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("PETREL_SPT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_abcd_0001);
    let base = Builder::valid().build();
    let mut rng = Rng(seed | 1);
    let mut accepted = 0u64;
    for _ in 0..iters {
        let mut b = base.clone();
        for _ in 0..1 + rng.below(4) {
            match rng.below(6) {
                0 => {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
                2 | 3 => {
                    // An interesting value at a field-aligned offset in the headers.
                    let width = [2usize, 4, 8][rng.below(3)];
                    let limit = (EHDR_SIZE + 4 * PHDR_SIZE).min(b.len()) - width;
                    let at = rng.below(limit / width + 1) * width;
                    let v = INTERESTING[rng.below(INTERESTING.len())];
                    let bytes = v.to_le_bytes();
                    if at + width <= b.len() {
                        b[at..at + width].copy_from_slice(&bytes[..width]);
                    }
                }
                4 => {
                    let n = rng.below(b.len() + 1);
                    b.truncate(n);
                }
                _ => {
                    let n = rng.below(64);
                    b.extend((0..n).map(|_| rng.next() as u8));
                }
            }
            if b.len() < EHDR_SIZE + 8 {
                break;
            }
        }
        for target in [AbiTarget::Spt, AbiTarget::Hvt] {
            if let Ok(img) = check(&b, target) {
                accepted += 1;
                let _ = img.check_memory(rng.next() % (MAX_MEM_SIZE * 2));
                for s in &img.segments {
                    assert!(s.protect_start() <= s.vaddr && s.protect_end() <= MAX_MEM_SIZE);
                }
            }
        }
    }
    eprintln!("{iters} mutations, {accepted} accepted");
}

/// A PT_NOTE segment holding a Xen note of `ty` with a 4-byte descriptor.
fn xen_note(ty: u32, value: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [4u32, 4, ty] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(b"Xen\0");
    v.extend_from_slice(&value.to_le_bytes());
    v
}

#[test]
fn read_notes_says_what_an_image_is() {
    let n = read_notes(&Builder::valid().build()).expect("valid spt image");
    assert_eq!(
        n.abi,
        Some(AbiNote {
            target: 2,
            version: 2
        })
    );
    let m = n.manifest.expect("manifest note").expect("valid manifest");
    assert_eq!(m.entries[1].name_str(), "disk");
    assert_eq!(n.xen_pvh_entry, None);
    // A PVH image: the Xen note (after an unrelated one in the same segment), no Solo5 note.
    let mut notes = xen_note(1, 7);
    notes.extend(xen_note(18, 0x100040));
    let pvh = Builder::valid()
        .with(|b| b.phdrs.truncate(2))
        .with(|b| b.phdrs.push(note(notes)));
    let n = read_notes(&pvh.build()).expect("valid PVH image");
    assert_eq!((n.abi, n.xen_pvh_entry), (None, Some(0x100040)));
    // A position-independent executable is read, not refused.
    let pie = Builder::valid().with(|b| b.e_type = 3);
    assert_eq!(read_notes(&pie.build()).map(|n| n.e_type).ok(), Some(3));
    assert!(read_notes(b"#!/bin/sh\n").is_err());
}

/// `petrel inspect` reads images it cannot trust: any bytes, and any mutation of a valid
/// image (truncated, flipped, grown), give a result or an error, never a panic. Run longer
/// with `BOLERO_RANDOM_ITERATIONS=1000000 cargo test --release -p petrel-solo5-abi
/// read_notes_never_panics`.
#[test]
fn read_notes_never_panics() {
    let valid = Builder::valid().build();
    bolero::check!()
        .with_type::<(Vec<u8>, Vec<(u16, u8)>, u16, bool)>()
        .for_each(|(raw, flips, cut, use_raw)| {
            let mut bytes = if *use_raw { raw.clone() } else { valid.clone() };
            for (at, value) in flips {
                if let Some(b) = bytes.get_mut(usize::from(*at) % valid.len()) {
                    *b = *value;
                }
            }
            bytes.truncate(usize::from(*cut).max(1));
            let _ = read_notes(&bytes);
        });
}
