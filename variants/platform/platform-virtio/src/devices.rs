//! Devices: the manifest, binding PCI virtio devices to it, and the handles device crates use.
//!
//! As Solo5's virtio bindings do, the runtime scans PCI at boot and binds virtio devices to
//! the built-in manifest (`.note.solo5.manifest`, written by
//! `petrel_rt_core::solo5_manifest!`) **by PCI order**: the first virtio-net or virtio-blk
//! function found goes to manifest entry 1, the next to entry 2, and so on. Names play no
//! part in binding; the type must match. Every declared device must be attached, otherwise
//! boot stops with "All declared devices must be attached" and exit code 255. Extra PCI
//! devices are left alone. Handles are manifest indices (the first device is handle 1).
//!
//! Only legacy (transitional) virtio-pci devices are driven: QEMU's `virtio-blk-pci` and
//! `virtio-net-pci` on `-M pc` are transitional unless `disable-legacy=on`.

use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use petrel_rt_core::single_core::Global;
use petrel_rt_core::solo5::{MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC, MftEntry};

use crate::serial::Serial;
use crate::virtio::Legacy;
use crate::{block, net, pci};

pub use petrel_rt_core::devices::AcquireError;

/// A driver bound at boot and not yet acquired.
pub(crate) enum Driver {
    /// A virtio-blk device.
    Blk(block::Blk),
    /// A virtio-net device.
    Net(net::Net),
}

/// The manifest entries (index = handle), set once at boot.
static MANIFEST: Global<&'static [MftEntry]> = Global::new(&[]);
/// Drivers by handle, taken out by `acquire`.
static DRIVERS: Global<Vec<Option<Driver>>> = Global::new(Vec::new());

/// Per handle, for the interrupt handler: `valid << 31 | io_base << 8 | irq line`.
static LINES: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];

/// Reads and clears the ISR of every device on `line`; returns the handles that had
/// interrupted, as a bit mask. Called from the interrupt handler.
pub(crate) fn acknowledge_line(line: u8) -> u64 {
    let mut handles = 0;
    for (h, slot) in LINES.iter().enumerate() {
        let v = slot.load(Ordering::Relaxed);
        if v & (1 << 31) != 0 && v as u8 == line {
            let dev = Legacy {
                io: (v >> 8) as u16,
            };
            if dev.isr() != 0 {
                handles |= 1 << h;
            }
        }
    }
    handles
}

fn manifest_from_image() -> &'static [MftEntry] {
    unsafe extern "C" {
        static __petrel_manifest_start: u8;
        static __petrel_manifest_end: u8;
    }
    let start = &raw const __petrel_manifest_start;
    let end = &raw const __petrel_manifest_end;
    if end as usize <= start as usize + 24 {
        return &[];
    }
    // The note header is 24 bytes (namesz, descsz, type, "Solo5\0\0\0", pad); `struct mft`
    // follows.
    // SAFETY: the linker script puts exactly the manifest note between the two symbols, in
    // memory the image owns and nothing writes.
    match unsafe { petrel_rt_core::solo5::boot_manifest(start.wrapping_add(24)) } {
        Ok(e) => e,
        Err(err) => {
            let _ = writeln!(
                Serial,
                "petrel: the built-in Solo5 manifest is invalid ({err:?})"
            );
            crate::exit::exit(255)
        }
    }
}

fn type_name(ty: u32) -> &'static str {
    match ty {
        MFT_DEV_BLOCK_BASIC => "BLOCK_BASIC",
        MFT_DEV_NET_BASIC => "NET_BASIC",
        _ => "?",
    }
}

/// Scans PCI and binds virtio devices to the manifest. Exits 255 if a declared device is left
/// unattached.
pub(crate) fn init() {
    let manifest = manifest_from_image();
    let mut drivers: Vec<Option<Driver>> = (0..manifest.len()).map(|_| None).collect();
    let mut next = 1;
    for f in pci::scan() {
        if f.vendor != 0x1AF4 {
            continue;
        }
        let b = f.bdf;
        let kind = match (f.device, f.subsystem) {
            (0x1000..=0x103F, 1) => MFT_DEV_NET_BASIC,
            (0x1000..=0x103F, 2) => MFT_DEV_BLOCK_BASIC,
            (0x1041 | 0x1042, _) => {
                let _ = writeln!(
                    Serial,
                    "petrel: PCI {:02x}:{:02x}.{} is a modern-only virtio device; only legacy (transitional) devices are supported",
                    b.bus, b.device, b.function
                );
                continue;
            }
            _ => continue,
        };
        if next >= manifest.len() {
            break;
        }
        let entry = &manifest[next];
        if entry.ty != kind {
            let _ = writeln!(
                Serial,
                "petrel: PCI {:02x}:{:02x}.{} is {}, but manifest entry {next} ({:?}) is {}",
                b.bus,
                b.device,
                b.function,
                type_name(kind),
                core::str::from_utf8(entry.name_bytes()).unwrap_or("?"),
                type_name(entry.ty)
            );
            next += 1;
            continue;
        }
        if f.bar0 & 1 == 0 {
            next += 1;
            continue;
        }
        f.enable();
        let dev = Legacy {
            io: (f.bar0 & 0xFFFC) as u16,
        };
        let driver = if kind == MFT_DEV_BLOCK_BASIC {
            block::Blk::new(dev).map(Driver::Blk)
        } else {
            net::Net::new(dev, next).map(Driver::Net)
        };
        match driver {
            Some(d) => {
                if f.irq < 16 {
                    // Every device is acknowledged on its line (a disk may share a line with a
                    // NIC), but only NICs unmask theirs: disk requests are polled.
                    LINES[next].store(
                        1 << 31 | u32::from(dev.io) << 8 | u32::from(f.irq),
                        Ordering::SeqCst,
                    );
                    if matches!(d, Driver::Net(_)) {
                        crate::trap::enable_device_line(f.irq);
                    }
                }
                drivers[next] = Some(d);
            }
            None => {
                dev.fail();
                let _ = writeln!(
                    Serial,
                    "petrel: PCI {:02x}:{:02x}.{}: virtio device setup failed",
                    b.bus, b.device, b.function
                );
            }
        }
        next += 1;
    }
    if drivers.iter().skip(1).any(Option::is_none) {
        for (h, e) in manifest.iter().enumerate().skip(1) {
            if drivers[h].is_none() {
                let _ = writeln!(
                    Serial,
                    "petrel: manifest device {h} {:?} ({}) is not attached",
                    core::str::from_utf8(e.name_bytes()).unwrap_or("?"),
                    type_name(e.ty)
                );
            }
        }
        let _ = writeln!(
            Serial,
            "petrel: All declared devices must be attached. Aborting."
        );
        crate::exit::exit(255);
    }
    MANIFEST.with(|m| *m = manifest);
    DRIVERS.with(|d| *d = drivers);
}

/// The manifest's device names and types, by handle (entry 0 is the reserved entry).
pub fn manifest() -> &'static [MftEntry] {
    MANIFEST.with(|m| *m)
}

/// The handle of the device named `name` of manifest type `ty`.
pub fn handle_of(name: &str, ty: u32) -> Result<usize, AcquireError> {
    let m = manifest();
    let (h, e) = m
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, e)| e.name_bytes() == name.as_bytes())
        .ok_or(AcquireError::NotFound)?;
    if e.ty != ty {
        Err(AcquireError::WrongType)
    } else {
        Ok(h)
    }
}

/// Takes the driver of `handle` out of the table.
pub(crate) fn take(handle: usize) -> Result<Driver, AcquireError> {
    DRIVERS.with(|d| {
        let slot = d
            .get_mut(handle)
            .filter(|_| handle > 0)
            .ok_or(AcquireError::NotFound)?;
        slot.take().ok_or(AcquireError::Busy)
    })
}

/// Puts a driver back (after a wrong-type `take`).
pub(crate) fn put_back(handle: usize, driver: Driver) {
    DRIVERS.with(|d| d[handle] = Some(driver));
}
