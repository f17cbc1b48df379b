//! Guest memory: mapped in this process at the image's own addresses (guest address =
//! host address, `solo5-abi.md` §4.1), the segments loaded and protected, and the boot
//! information written.

use std::io;

use crate::Error;
use petrel_solo5_abi::elf::{GUEST_MIN_BASE, Image, PF_R, PF_W, PF_X};

/// Lowest address of guest memory (page 0 is never mappable).
pub const MEM_BASE: u64 = 0x10000;
/// Address of `struct spt_boot_info`.
pub const BOOT_INFO_ADDR: u64 = 0x11000;
/// Size of `struct spt_boot_info`.
pub const BOOT_INFO_SIZE: u64 = 40;
/// The values written into `struct spt_boot_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootInfo {
    /// `mem_size`.
    pub mem_size: u64,
    /// `kernel_end`.
    pub kernel_end: u64,
    /// `epollfd`.
    pub epollfd: i32,
    /// `timerfd`.
    pub timerfd: i32,
}

/// Guest memory `[MEM_BASE, mem_size)`, mapped in this process. It is never unmapped: the
/// guest runs in it until the process exits.
#[derive(Debug)]
pub struct GuestMemory {
    mem_size: u64,
}

impl GuestMemory {
    /// Maps `[MEM_BASE, mem_size)` read-write at exactly those addresses. Fails, rather
    /// than replace anything, if part of the range is already mapped.
    pub fn map(mem_size: u64) -> Result<GuestMemory, Error> {
        let len = (mem_size - MEM_BASE) as usize;
        let want = MEM_BASE as *mut libc::c_void;
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping; the result is
        // checked below, and on an old kernel that ignores the flag a mapping elsewhere is
        // unmapped again.
        let got = unsafe {
            libc::mmap(
                want,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE
                    | libc::MAP_ANONYMOUS
                    | libc::MAP_NORESERVE
                    | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if got == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            let why = if e.raw_os_error() == Some(libc::EEXIST) {
                "the address range is already in use in this process".to_string()
            } else {
                e.to_string()
            };
            return Err(Error::new(format!(
                "could not map guest memory at {MEM_BASE:#x}..{mem_size:#x}: {why}"
            )));
        }
        if got != want {
            // SAFETY: `got` is the mapping just created, of `len` bytes, used by no one.
            unsafe { libc::munmap(got, len) };
            return Err(Error::new(format!(
                "could not map guest memory at {MEM_BASE:#x}..{mem_size:#x}: the address range is in use (kernel without MAP_FIXED_NOREPLACE?)"
            )));
        }
        Ok(GuestMemory { mem_size })
    }

    /// The size (the top of guest memory).
    pub fn mem_size(&self) -> u64 {
        self.mem_size
    }

    /// Copies `data` to guest address `addr`.
    fn write(&mut self, addr: u64, data: &[u8]) {
        let end = addr.checked_add(data.len() as u64);
        assert!(
            addr >= MEM_BASE && end.is_some_and(|e| e <= self.mem_size),
            "guest write out of range"
        );
        // SAFETY: [addr, addr+len) lies inside the read-write mapping made by `map` (checked
        // just above) and does not overlap `data`, which is host heap or stack memory.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len());
        }
    }

    /// Loads the segments of `image` (checked against this memory size by
    /// `Image::check_memory`) and applies their protections: the file bytes are copied,
    /// the rest up to `p_memsz` is zero (fresh anonymous memory), and each range is made
    /// readable, writable, executable as its flags say.
    pub fn load(&mut self, image: &Image, file: &[u8]) -> Result<(), Error> {
        image
            .check_memory(self.mem_size)
            .map_err(|e| Error::new(e.to_string()))?;
        for s in &image.segments {
            let (Ok(off), Ok(len)) = (usize::try_from(s.offset), usize::try_from(s.filesz)) else {
                return Err(Error::new("segment outside the file".to_string()));
            };
            let bytes = off
                .checked_add(len)
                .and_then(|end| file.get(off..end))
                .ok_or_else(|| Error::new("segment outside the file".to_string()))?;
            self.write(s.vaddr, bytes);
        }
        for s in &image.segments {
            let mut prot = libc::PROT_NONE;
            if s.flags & PF_R != 0 {
                prot |= libc::PROT_READ;
            }
            if s.flags & PF_W != 0 {
                prot |= libc::PROT_WRITE;
            }
            if s.flags & PF_X != 0 {
                prot |= libc::PROT_EXEC;
            }
            let (start, end) = (s.protect_start(), s.protect_end());
            debug_assert!(start >= GUEST_MIN_BASE && end <= self.mem_size);
            // SAFETY: [start, end) is page-aligned and inside guest memory (checked by
            // `check_memory`); only guest memory changes protection.
            let rc =
                unsafe { libc::mprotect(start as *mut libc::c_void, (end - start) as usize, prot) };
            if rc != 0 {
                return Err(Error::new(format!(
                    "mprotect {start:#x}..{end:#x}: {}",
                    io::Error::last_os_error()
                )));
            }
        }
        Ok(())
    }

    /// Writes `struct spt_boot_info` at 0x11000, the patched manifest right after it and
    /// the command line after that. Returns the boot-info address (the entry's argument).
    pub fn write_boot_info(&mut self, bi: BootInfo, mft: &[u8], cmdline: &[u8]) -> u64 {
        let mft_addr = BOOT_INFO_ADDR + BOOT_INFO_SIZE;
        let cmdline_addr = (mft_addr + mft.len() as u64).next_multiple_of(8);
        let mut b = Vec::with_capacity(BOOT_INFO_SIZE as usize);
        b.extend_from_slice(&bi.mem_size.to_le_bytes());
        b.extend_from_slice(&bi.kernel_end.to_le_bytes());
        b.extend_from_slice(&cmdline_addr.to_le_bytes());
        b.extend_from_slice(&mft_addr.to_le_bytes());
        b.extend_from_slice(&bi.epollfd.to_le_bytes());
        b.extend_from_slice(&bi.timerfd.to_le_bytes());
        self.write(BOOT_INFO_ADDR, &b);
        self.write(mft_addr, mft);
        self.write(cmdline_addr, cmdline);
        BOOT_INFO_ADDR
    }
}
