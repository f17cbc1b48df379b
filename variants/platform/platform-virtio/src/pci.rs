//! PCI configuration space through the legacy ports 0xCF8 (address) and 0xCFC (data), and a
//! brute-force scan of every bus, device and function.

use alloc::vec::Vec;

use crate::cpu::{inl, outl};

/// One PCI function's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bdf {
    /// Bus number.
    pub bus: u8,
    /// Device number (0-31).
    pub device: u8,
    /// Function number (0-7).
    pub function: u8,
}

impl Bdf {
    fn address(self, offset: u8) -> u32 {
        0x8000_0000
            | (u32::from(self.bus) << 16)
            | (u32::from(self.device) << 11)
            | (u32::from(self.function) << 8)
            | u32::from(offset & 0xFC)
    }

    /// Reads the aligned 32-bit configuration register holding `offset`.
    pub fn read32(self, offset: u8) -> u32 {
        outl(0xCF8, self.address(offset));
        inl(0xCFC)
    }

    /// Reads a 16-bit configuration register (`offset` 2-aligned).
    pub fn read16(self, offset: u8) -> u16 {
        (self.read32(offset) >> ((offset & 2) * 8)) as u16
    }

    /// Reads an 8-bit configuration register.
    pub fn read8(self, offset: u8) -> u8 {
        (self.read32(offset) >> ((offset & 3) * 8)) as u8
    }

    /// Writes a 32-bit configuration register.
    pub fn write32(self, offset: u8, value: u32) {
        outl(0xCF8, self.address(offset));
        outl(0xCFC, value);
    }
}

/// What the scan found about one function.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// Where it is.
    pub bdf: Bdf,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Subsystem ID (for a legacy virtio device: the virtio device type).
    pub subsystem: u16,
    /// BAR 0, raw.
    pub bar0: u32,
    /// The interrupt line the firmware routed INTx to (0xFF: none).
    pub irq: u8,
}

impl Function {
    /// Sets the command register's I/O space, memory space and bus-master bits.
    pub fn enable(&self) {
        let cmd = self.bdf.read32(0x04);
        self.bdf.write32(0x04, (cmd & 0xFFFF) | 0x7);
    }
}

/// Every present function, in bus/device/function order.
pub fn scan() -> Vec<Function> {
    let mut found = Vec::new();
    for bus in 0..=255u8 {
        for device in 0..32u8 {
            for function in 0..8u8 {
                let bdf = Bdf {
                    bus,
                    device,
                    function,
                };
                let id = bdf.read32(0x00);
                let vendor = id as u16;
                if vendor == 0xFFFF {
                    if function == 0 {
                        break;
                    }
                    continue;
                }
                found.push(Function {
                    bdf,
                    vendor,
                    device: (id >> 16) as u16,
                    subsystem: bdf.read16(0x2E),
                    bar0: bdf.read32(0x10),
                    irq: bdf.read8(0x3C),
                });
                // Header type bit 7: multi-function device.
                if function == 0 && bdf.read8(0x0E) & 0x80 == 0 {
                    break;
                }
            }
        }
    }
    found
}
