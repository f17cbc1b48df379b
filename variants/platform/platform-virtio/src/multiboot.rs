//! The multiboot v1 information structure: the command line and the memory map.

/// Flag bit: `mem_lower`/`mem_upper` are valid.
const MB_MEM: u32 = 1 << 0;
/// Flag bit: `cmdline` is valid.
const MB_CMDLINE: u32 = 1 << 2;
/// Flag bit: `mmap_length`/`mmap_addr` are valid.
const MB_MMAP: u32 = 1 << 6;

/// What the runtime takes from the multiboot information.
pub struct BootInfo {
    /// The command line, as the loader gave it (the kernel file name first), or empty.
    pub cmdline: &'static [u8],
    /// The end (exclusive) of the RAM region that contains 0x100000.
    pub ram_end: u64,
}

fn read_u32(addr: usize) -> u32 {
    // SAFETY: the callers only read inside the multiboot structures the loader left in
    // identity-mapped low memory; unaligned reads are fine on x86.
    unsafe { core::ptr::read_unaligned(addr as *const u32) }
}

fn read_u64(addr: usize) -> u64 {
    // SAFETY: as in `read_u32`.
    unsafe { core::ptr::read_unaligned(addr as *const u64) }
}

/// Reads the multiboot information at physical address `mbi`.
///
/// # Safety
///
/// `mbi` must be the address the multiboot loader passed in EBX, with the structures it
/// points to still intact.
pub unsafe fn parse(mbi: usize) -> BootInfo {
    let flags = read_u32(mbi);
    let cmdline: &'static [u8] = if flags & MB_CMDLINE != 0 {
        let p = read_u32(mbi + 16) as usize;
        // SAFETY: the loader guarantees a NUL-terminated string at `p`, which we never write.
        unsafe { core::ffi::CStr::from_ptr(p as *const core::ffi::c_char) }.to_bytes()
    } else {
        &[]
    };
    let mut ram_end = 0u64;
    if flags & MB_MMAP != 0 {
        let mut p = read_u32(mbi + 48) as usize;
        let end = p + read_u32(mbi + 44) as usize;
        while p + 24 <= end {
            let size = read_u32(p) as usize;
            let base = read_u64(p + 4);
            let len = read_u64(p + 12);
            let ty = read_u32(p + 20);
            if ty == 1 && base <= 0x100000 && base + len > 0x100000 {
                ram_end = base + len;
            }
            p += size + 4;
        }
    }
    if ram_end == 0 && flags & MB_MEM != 0 {
        // mem_upper: KiB of RAM from 1 MiB.
        ram_end = 0x100000 + u64::from(read_u32(mbi + 8)) * 1024;
    }
    BootInfo { cmdline, ram_end }
}

/// `cmdline` without its first word (the loader's kernel file name) and the blanks after it.
pub fn skip_first_word(cmdline: &[u8]) -> &[u8] {
    let s = cmdline.trim_ascii_start();
    let rest = match s.iter().position(|b| b.is_ascii_whitespace()) {
        Some(i) => &s[i..],
        None => &[],
    };
    rest.trim_ascii_start()
}

#[cfg(test)]
mod tests {
    use super::skip_first_word;

    #[test]
    fn skips_the_kernel_name() {
        assert_eq!(skip_first_word(b"/tmp/hello.virtio a b"), b"a b");
        assert_eq!(skip_first_word(b"hello"), b"");
        assert_eq!(skip_first_word(b""), b"");
        assert_eq!(skip_first_word(b"  k   --x=1  "), b"--x=1  ");
    }
}
