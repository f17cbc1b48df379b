//! ELF sections by name, read from an untrusted file: every offset and size is checked
//! against the file, every sum against overflow, and a malformed table is an error saying
//! what is wrong, never a panic (fuzzed in `tests`).

/// `SHT_NOBITS`: a section with no bytes in the file (`.bss`).
const SHT_NOBITS: u32 = 8;
/// Size of an ELF64 section header.
const SHDR_SIZE: u64 = 64;

/// Why the section table cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectionError {
    /// The ELF header's section fields are wrong.
    #[error("the section header table is malformed ({0})")]
    Table(&'static str),
    /// A section table entry or section lies outside the file.
    #[error("the section table points outside the file ({0})")]
    Truncated(&'static str),
}

/// The bytes of the first section named `name`, if the file has one. `bytes` is an ELF64
/// little-endian file whose ELF header is already checked (`elf::read_notes`); a file with no
/// section table has no sections.
pub fn find<'a>(bytes: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, SectionError> {
    let shoff = u64_at(bytes, 0x28).ok_or(SectionError::Table("no ELF header"))?;
    let shentsize = u16_at(bytes, 0x3a).ok_or(SectionError::Table("no ELF header"))?;
    let shnum = u16_at(bytes, 0x3c).ok_or(SectionError::Table("no ELF header"))?;
    let shstrndx = u16_at(bytes, 0x3e).ok_or(SectionError::Table("no ELF header"))?;
    if shoff == 0 || shnum == 0 {
        // No table, or more than 0xff00 sections (counted in entry 0): none Petrel writes.
        return Ok(None);
    }
    if u64::from(shentsize) != SHDR_SIZE {
        return Err(SectionError::Table("e_shentsize is not 64"));
    }
    let header = |index: u16| -> Result<Header, SectionError> {
        let at = u64::from(index)
            .checked_mul(SHDR_SIZE)
            .and_then(|o| o.checked_add(shoff))
            .ok_or(SectionError::Truncated("section header"))?;
        let field32 = |o: u64| at.checked_add(o).and_then(|a| u32_at(bytes, a));
        let field64 = |o: u64| at.checked_add(o).and_then(|a| u64_at(bytes, a));
        match (field32(0), field32(4), field64(24), field64(32)) {
            (Some(name), Some(kind), Some(offset), Some(size)) => Ok(Header {
                name,
                kind,
                offset,
                size,
            }),
            _ => Err(SectionError::Truncated("section header")),
        }
    };
    if shstrndx >= shnum {
        return Err(SectionError::Table("e_shstrndx is past the table"));
    }
    let names = header(shstrndx)?
        .data(bytes)
        .ok_or(SectionError::Truncated("section names"))?;
    for index in 0..shnum {
        let h = header(index)?;
        let Some(rest) = names.get(h.name as usize..) else {
            return Err(SectionError::Truncated("a section name"));
        };
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(SectionError::Table("a section name is not terminated"))?;
        if &rest[..end] == name.as_bytes() {
            return h
                .data(bytes)
                .map(Some)
                .ok_or(SectionError::Truncated("a section's bytes"));
        }
    }
    Ok(None)
}

/// The fields of a section header that finding a section needs.
struct Header {
    name: u32,
    kind: u32,
    offset: u64,
    size: u64,
}

impl Header {
    /// The section's bytes in the file; empty for `SHT_NOBITS`, `None` if outside the file.
    fn data<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        if self.kind == SHT_NOBITS {
            return Some(&[]);
        }
        let start = usize::try_from(self.offset).ok()?;
        let end = start.checked_add(usize::try_from(self.size).ok()?)?;
        bytes.get(start..end)
    }
}

fn u16_at(bytes: &[u8], at: u64) -> Option<u16> {
    let at = usize::try_from(at).ok()?;
    Some(u16::from_le_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(bytes: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    Some(u32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(bytes: &[u8], at: u64) -> Option<u64> {
    let at = usize::try_from(at).ok()?;
    Some(u64::from_le_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}
