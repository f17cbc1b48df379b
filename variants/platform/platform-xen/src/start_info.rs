//! What Xen hands a PVH guest at entry (`struct hvm_start_info`, EBX at `_start32`) and the
//! RAM map (`XENMEM_memory_map`).

use crate::hypercall;

/// `hvm_start_info.magic`.
pub const MAGIC: u32 = 0x336E_C578;

/// `hvm_start_info.cmdline_paddr`: offset in the structure.
const CMDLINE_PADDR: usize = 24;

/// The command line at `start_info` (empty if there is none).
///
/// # Safety
///
/// `start_info` must be the address Xen passed in EBX, with the structure and the string it
/// points to still intact.
pub unsafe fn cmdline(start_info: usize) -> &'static [u8] {
    // SAFETY: the caller's contract; Xen places the structure in identity-mapped low memory.
    let p = unsafe { core::ptr::read_unaligned((start_info + CMDLINE_PADDR) as *const u64) };
    if p == 0 || p >= 1 << 32 {
        return &[];
    }
    // SAFETY: Xen guarantees a NUL-terminated string at `p`, which we never write.
    unsafe { core::ffi::CStr::from_ptr(p as *const core::ffi::c_char) }.to_bytes()
}

/// One e820 entry, as `XENMEM_memory_map` returns them (20 bytes, packed).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
#[repr(C, packed)]
pub struct E820 {
    /// Start address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// 1 = RAM.
    pub ty: u32,
}

/// `struct xen_memory_map`.
#[repr(C)]
struct MemoryMap {
    nr_entries: u32,
    buffer: u64,
}

/// How many entries are asked for (a PVH guest gets a handful).
const MAX_ENTRIES: usize = 32;

/// The end (exclusive) of the RAM entry that holds `addr`, from `entries`; 0 if none does.
pub fn ram_end_containing(entries: &[E820], addr: u64) -> u64 {
    entries
        .iter()
        .filter(|e| e.ty == 1)
        .map(|e| (e.addr, e.addr.saturating_add(e.size)))
        .find(|&(start, end)| start <= addr && addr < end)
        .map_or(0, |(_, end)| end)
}

/// Asks Xen for the RAM map; returns the end of the RAM region that holds `addr` (0 when
/// the call fails or no region holds it).
pub fn ram_end(addr: u64) -> u64 {
    let mut entries = [E820::default(); MAX_ENTRIES];
    let mut map = MemoryMap {
        nr_entries: MAX_ENTRIES as u32,
        buffer: entries.as_mut_ptr() as u64,
    };
    // SAFETY: XENMEM_memory_map (9) takes a `struct xen_memory_map` whose buffer holds
    // `nr_entries` e820 entries; Xen writes at most that many and sets `nr_entries`.
    let rc = unsafe { hypercall::call_ptr(hypercall::MEMORY_OP, 9, &mut map) };
    if rc < 0 {
        return 0;
    }
    let n = (map.nr_entries as usize).min(MAX_ENTRIES);
    ram_end_containing(&entries[..n], addr)
}

#[cfg(test)]
mod tests {
    use super::{E820, ram_end_containing};

    #[test]
    fn finds_the_region_holding_the_image() {
        let map = [
            E820 {
                addr: 0,
                size: 0xA0000,
                ty: 1,
            },
            E820 {
                addr: 0xFC00_0000,
                size: 0x400_0000,
                ty: 2,
            },
            E820 {
                addr: 0x10_0000,
                size: 0x1F0_0000,
                ty: 1,
            },
        ];
        assert_eq!(ram_end_containing(&map, 0x10_0000), 0x200_0000);
        assert_eq!(ram_end_containing(&map, 0x1FF_FFFF), 0x200_0000);
        assert_eq!(ram_end_containing(&map, 0x200_0000), 0);
        // Reserved regions do not count.
        assert_eq!(ram_end_containing(&map, 0xFC00_0000), 0);
        assert_eq!(core::mem::size_of::<E820>(), 20);
    }
}
