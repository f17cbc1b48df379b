//! Guest memory: one anonymous mapping of `mem_size` bytes, guest-physical address 0 at
//! its start, and what the tender writes into it before the guest runs (`solo5-abi.md`
//! §1.1, §1.2, §1.4): the segments, the page tables, the boot GDT and the boot information.
//!
//! Everything but the mapping itself works on a plain byte slice, so it is tested without
//! KVM.

use std::io;
use std::ops::Range;

use petrel_solo5_abi::elf::{Image, PF_W};
use petrel_solo5_abi::hvt::{
    BOOT_INFO_ADDR, CMDLINE_SIZE, GDT, GDT_ADDR, LOW_UNMAPPED_END, MFT_ADDR, PD_ADDR, PDE_HUGE,
    PDPT_ADDR, PML4_ADDR, PT0_ADDR, PTE_PRESENT, PTE_WRITABLE, boot_info,
};

use crate::Error;

/// Guest memory: `mem_size` bytes of fresh zeroed host memory.
pub struct GuestRam {
    ptr: *mut u8,
    len: usize,
}

impl GuestRam {
    /// Maps `mem_size` bytes of anonymous memory (not reserved up front: a 512 MiB guest
    /// costs only the pages it touches).
    pub fn new(mem_size: u64) -> Result<GuestRam, Error> {
        let len = usize::try_from(mem_size).map_err(|_| Error::new("guest memory too large"))?;
        // SAFETY: a fresh private anonymous mapping; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::new(format!(
                "could not allocate {mem_size} bytes of guest memory: {}",
                io::Error::last_os_error()
            )));
        }
        Ok(GuestRam {
            ptr: ptr.cast(),
            len,
        })
    }

    /// The host address of guest-physical address 0, for KVM's memory slot.
    pub fn host_address(&self) -> u64 {
        self.ptr as u64
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the size is 0 (never: at least 2 MiB).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes the image's segments without PF_W read-only in the host mapping, as the
    /// upstream tender does: KVM then refuses guest writes to them (its text and read-only
    /// data). Returns those ranges, which the host must not write either.
    pub fn protect(&mut self, image: &Image) -> Result<Vec<Range<u64>>, Error> {
        let mut read_only = Vec::new();
        for s in image.segments.iter().filter(|s| s.flags & PF_W == 0) {
            let (start, end) = (s.protect_start(), s.protect_end());
            if end > self.len as u64 || start >= end {
                return Err(Error::new("segment outside guest memory"));
            }
            // SAFETY: [start, end) is page-aligned (checked by `elf::check`) and inside this
            // mapping (checked just above); only its protection changes.
            let rc = unsafe {
                libc::mprotect(
                    self.ptr.add(start as usize).cast(),
                    (end - start) as usize,
                    libc::PROT_READ,
                )
            };
            if rc != 0 {
                return Err(Error::new(format!(
                    "mprotect {start:#x}..{end:#x}: {}",
                    io::Error::last_os_error()
                )));
            }
            read_only.push(start..end);
        }
        Ok(read_only)
    }

    /// The memory as bytes. The guest changes it only inside `KVM_RUN` on this same
    /// thread, which cannot happen while this borrow lives. After [`GuestRam::protect`],
    /// writing to a read-only range faults: go through `hypercall::GuestMem`, which
    /// refuses it.
    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` is a live read-write mapping of `len` bytes owned by `self`; the
        // `&mut self` borrow makes this the only Rust reference to it.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for GuestRam {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn put(mem: &mut [u8], at: u64, bytes: &[u8]) -> Result<(), Error> {
    let start = usize::try_from(at).map_err(|_| Error::new("address out of range"))?;
    mem.get_mut(start..start.saturating_add(bytes.len()))
        .ok_or_else(|| Error::new(format!("{at:#x}: outside guest memory")))?
        .copy_from_slice(bytes);
    Ok(())
}

fn put_u64(mem: &mut [u8], at: u64, v: u64) -> Result<(), Error> {
    put(mem, at, &v.to_le_bytes())
}

/// Copies the loadable segments of `image` (checked against this memory size) from
/// `file`; the rest of each segment is already zero.
pub fn load(mem: &mut [u8], image: &Image, file: &[u8]) -> Result<(), Error> {
    image
        .check_memory(mem.len() as u64)
        .map_err(|e| Error::new(e.to_string()))?;
    for s in &image.segments {
        let bytes = usize::try_from(s.offset)
            .ok()
            .zip(usize::try_from(s.filesz).ok())
            .and_then(|(off, len)| file.get(off..off.checked_add(len)?))
            .ok_or_else(|| Error::new("segment outside the file"))?;
        put(mem, s.vaddr, bytes)?;
    }
    Ok(())
}

/// Writes the identity-mapped page tables (§1.2) for `mem.len()` bytes: the first 64 KiB
/// not present, 64 KiB–1 MiB read-only, 1–2 MiB read-write in 4 KiB pages, the rest in
/// 2 MiB read-write pages; and the boot GDT.
pub fn write_page_tables(mem: &mut [u8]) -> Result<(), Error> {
    let mem_size = mem.len() as u64;
    put_u64(mem, PML4_ADDR, PDPT_ADDR | PTE_PRESENT | PTE_WRITABLE)?;
    for i in 0..4 {
        let pd = PD_ADDR + i * 0x1000;
        put_u64(mem, PDPT_ADDR + i * 8, pd | PTE_PRESENT | PTE_WRITABLE)?;
    }
    put_u64(mem, PD_ADDR, PT0_ADDR | PTE_PRESENT | PTE_WRITABLE)?;
    for page in 0..512u64 {
        let addr = page << 12;
        let entry = if addr < LOW_UNMAPPED_END {
            0
        } else if addr < 0x10_0000 {
            addr | PTE_PRESENT
        } else {
            addr | PTE_PRESENT | PTE_WRITABLE
        };
        put_u64(mem, PT0_ADDR + page * 8, entry)?;
    }
    // The four page directories are contiguous: entry i maps [i·2 MiB, (i+1)·2 MiB).
    let mut addr = 2 << 20;
    while addr < mem_size {
        let entry = addr | PTE_PRESENT | PTE_WRITABLE | PDE_HUGE;
        put_u64(mem, PD_ADDR + (addr >> 21) * 8, entry)?;
        addr += 2 << 20;
    }
    for (i, d) in GDT.iter().enumerate() {
        put_u64(mem, GDT_ADDR + i as u64 * 8, *d)?;
    }
    Ok(())
}

/// What `struct hvt_boot_info` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootInfo {
    /// `mem_size`.
    pub mem_size: u64,
    /// `kernel_end`.
    pub kernel_end: u64,
    /// `cpu_cycle_freq`: TSC Hz.
    pub tsc_hz: u64,
}

/// Writes `struct hvt_boot_info` at 0x10000, the patched manifest right after it and the
/// command line (NUL-terminated, < 8192 bytes) after that. No net ring is offered.
pub fn write_boot_info(
    mem: &mut [u8],
    bi: BootInfo,
    mft: &[u8],
    cmdline: &[u8],
) -> Result<(), Error> {
    if cmdline.len() > CMDLINE_SIZE {
        return Err(Error::new("command line over the buffer size"));
    }
    let cmdline_addr = MFT_ADDR + mft.len() as u64;
    let at = |off: usize| BOOT_INFO_ADDR + off as u64;
    put_u64(mem, at(boot_info::MEM_SIZE), bi.mem_size)?;
    put_u64(mem, at(boot_info::KERNEL_END), bi.kernel_end)?;
    put_u64(mem, at(boot_info::CPU_CYCLE_FREQ), bi.tsc_hz)?;
    put_u64(mem, at(boot_info::CMDLINE), cmdline_addr)?;
    put_u64(mem, at(boot_info::MFT), MFT_ADDR)?;
    put(mem, at(boot_info::HOST_FEATURES), &0u32.to_le_bytes())?;
    put(mem, at(boot_info::GUEST_FEATURES), &0u32.to_le_bytes())?;
    put_u64(mem, at(boot_info::NET_RING), 0)?;
    put(mem, MFT_ADDR, mft)?;
    put(mem, cmdline_addr, cmdline)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u64_at(mem: &[u8], at: u64) -> u64 {
        let at = at as usize;
        u64::from_le_bytes(mem[at..at + 8].try_into().expect("8 bytes"))
    }

    #[test]
    fn page_tables_map_what_the_abi_says() {
        let mut mem = vec![0u8; 6 << 20];
        write_page_tables(&mut mem).expect("fits");
        assert_eq!(u64_at(&mem, PML4_ADDR), PDPT_ADDR | 3);
        assert_eq!(u64_at(&mem, PDPT_ADDR + 3 * 8), (PD_ADDR + 0x3000) | 3);
        assert_eq!(u64_at(&mem, PD_ADDR), PT0_ADDR | 3);
        // Zero page and the tender's tables: not present.
        assert_eq!(u64_at(&mem, PT0_ADDR), 0);
        assert_eq!(u64_at(&mem, PT0_ADDR + 0xF * 8), 0);
        // Boot info page: read-only.
        assert_eq!(u64_at(&mem, PT0_ADDR + 0x10 * 8), 0x10000 | 1);
        assert_eq!(u64_at(&mem, PT0_ADDR + 0xFF * 8), 0xFF000 | 1);
        // The image: read-write.
        assert_eq!(u64_at(&mem, PT0_ADDR + 0x100 * 8), 0x100000 | 3);
        // 2 MiB pages up to the end of memory, nothing beyond.
        assert_eq!(u64_at(&mem, PD_ADDR + 8), (2 << 20) | 0x83);
        assert_eq!(u64_at(&mem, PD_ADDR + 16), (4 << 20) | 0x83);
        assert_eq!(u64_at(&mem, PD_ADDR + 24), 0);
        assert_eq!(u64_at(&mem, GDT_ADDR + 8), GDT[1]);
    }

    #[test]
    fn boot_info_layout() {
        let mut mem = vec![0u8; 2 << 20];
        let bi = BootInfo {
            mem_size: 2 << 20,
            kernel_end: 0x123000,
            tsc_hz: 2_000_000_000,
        };
        write_boot_info(&mut mem, bi, &[7u8; 112], b"a b\0").expect("fits");
        assert_eq!(u64_at(&mem, 0x10000), 2 << 20);
        assert_eq!(u64_at(&mem, 0x10008), 0x123000);
        assert_eq!(u64_at(&mem, 0x10010), 2_000_000_000);
        assert_eq!(u64_at(&mem, 0x10018), 0x10038 + 112);
        assert_eq!(u64_at(&mem, 0x10020), 0x10038);
        assert_eq!(mem[0x10038], 7);
        assert_eq!(&mem[0x10038 + 112..0x10038 + 116], b"a b\0");
    }
}
