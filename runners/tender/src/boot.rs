//! The two inputs every Solo5 guest gets from the command line: the memory size
//! (`--mem`, with Solo5's rounding and limits) and the command line (`solo5-abi.md` §1.2,
//! §1.4).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use petrel_solo5_abi::AbiTarget;
use petrel_solo5_abi::elf::{self, Image};
use petrel_solo5_abi::hvt::{CMDLINE_SIZE, DEFAULT_MEM_MIB, MEM_ALIGN, MEM_MAX, MEM_MIN};

use crate::Error;
use crate::cli::Options;
use crate::devices::{self, Attached};

/// Everything a tender checks and opens before it builds the guest, in the upstream
/// tender's order: the image, the device names, the memory size, the command line, the
/// devices.
pub struct Prepared {
    /// The image file.
    pub file: Vec<u8>,
    /// The checked image (also against `mem_size`).
    pub image: Image,
    /// Guest memory size in bytes.
    pub mem_size: u64,
    /// The guest command line, NUL-terminated.
    pub cmdline: Vec<u8>,
    /// The attached devices (every declared one).
    pub attached: Vec<Attached>,
    /// The guest's copy of the manifest, patched.
    pub manifest: Vec<u8>,
}

/// Checks the image of `o` for `target` and opens its devices; `program` names the tender
/// in the `adjusting memory` warning.
pub fn prepare(o: &Options, target: AbiTarget, program: &str) -> Result<Prepared, Error> {
    let path = o.kernel.display().to_string();
    let file =
        std::fs::read(&o.kernel).map_err(|e| Error::new(format!("{path}: Could not open: {e}")))?;
    let image = elf::check(&file, target).map_err(|e| Error::new(format!("{path}: {e}")))?;
    devices::check_names(&image.manifest, o)?;
    let (mem_size, adjusted) = mem_size(o.mem_mib.unwrap_or(DEFAULT_MEM_MIB))?;
    if adjusted {
        eprintln!("{program}: warning: adjusting memory to {mem_size} bytes");
    }
    image
        .check_memory(mem_size)
        .map_err(|e| Error::new(format!("{path}: {e}")))?;
    let cmdline = cmdline(&o.args)?;
    let attached = devices::attach(&image.manifest, o)?;
    devices::check_all_attached(&image.manifest, &attached)?;
    let manifest = devices::patched_manifest(&image.manifest, &attached);
    Ok(Prepared {
        file,
        image,
        mem_size,
        cmdline,
        attached,
        manifest,
    })
}

/// The guest memory size for `--mem=mib`, and whether it was rounded down (the tender's
/// `adjusting memory` warning). Between 2 MiB and 4 GiB, a multiple of 2 MiB.
pub fn mem_size(mib: u64) -> Result<(u64, bool), Error> {
    let bytes = mib
        .checked_mul(1 << 20)
        .filter(|&b| b <= MEM_MAX)
        .ok_or_else(|| Error::new(format!("--mem={mib}: more than the maximum of 4096 MiB")))?;
    let rounded = bytes & !(MEM_ALIGN - 1);
    if rounded < MEM_MIN {
        return Err(Error::new(format!(
            "--mem={mib}: less than the minimum of 2 MiB"
        )));
    }
    Ok((rounded, rounded != bytes))
}

/// The guest command line: `args` joined by single spaces, NUL-terminated, checked
/// against the 8192-byte buffer. An empty argument is refused: the guest splits the line
/// at spaces, so it could never see it. Both errors exit 64, mirage's status for a bad
/// boot argument.
pub fn cmdline(args: &[OsString]) -> Result<Vec<u8>, Error> {
    if let Some(i) = args.iter().position(|a| a.is_empty()) {
        return Err(Error::boot_argument(format!(
            "Guest argument {} is empty: the guest splits its command line at spaces and cannot see it",
            i + 1
        )));
    }
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(a.as_bytes());
    }
    if out.len() >= CMDLINE_SIZE {
        return Err(Error::boot_argument(format!(
            "Guest command line too long (max={} characters)",
            CMDLINE_SIZE - 1
        )));
    }
    out.push(0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_sizes() {
        assert_eq!(mem_size(512).ok(), Some((512 << 20, false)));
        assert_eq!(mem_size(3).ok(), Some((2 << 20, true)));
        assert_eq!(mem_size(4096).ok(), Some((4 << 30, false)));
        assert_eq!(
            mem_size(1).unwrap_err().to_string(),
            "--mem=1: less than the minimum of 2 MiB"
        );
        assert_eq!(
            mem_size(4097).unwrap_err().to_string(),
            "--mem=4097: more than the maximum of 4096 MiB"
        );
        assert!(mem_size(u64::MAX).is_err());
    }

    #[test]
    fn cmdline_join_and_limit() {
        let a: Vec<OsString> = ["a", "b c"].iter().map(OsString::from).collect();
        assert_eq!(cmdline(&a).ok(), Some(b"a b c\0".to_vec()));
        assert_eq!(cmdline(&[]).ok(), Some(b"\0".to_vec()));
        assert!(cmdline(&[OsString::from("x".repeat(8191))]).is_ok());
        let long = cmdline(&[OsString::from("x".repeat(8192))]).unwrap_err();
        assert_eq!(
            long.to_string(),
            "Guest command line too long (max=8191 characters)"
        );
        assert_eq!(long.code(), 64);
        let empty = cmdline(&["a".into(), "".into()]).unwrap_err();
        assert_eq!(empty.code(), 64);
        assert!(empty.to_string().contains("argument 2 is empty"), "{empty}");
    }
}
