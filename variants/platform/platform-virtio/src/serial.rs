//! The console: COM1 (I/O port 0x3F8), 115200 baud 8N1, polled.

use crate::cpu::{inb, outb};

const COM1: u16 = 0x3F8;

/// Programs COM1: 115200 baud, 8 data bits, no parity, one stop bit, FIFOs on, no
/// interrupts.
pub fn init() {
    outb(COM1 + 1, 0x00); // no interrupts
    outb(COM1 + 3, 0x80); // DLAB on
    outb(COM1, 0x01); // divisor 1 = 115200 baud
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); // DLAB off, 8N1
    outb(COM1 + 2, 0xC7); // FIFO on, cleared, 14-byte threshold
    outb(COM1 + 4, 0x03); // DTR, RTS
}

fn put(b: u8) {
    // Wait (boundedly) for the transmit holding register to empty. A missing UART reads
    // 0xFF, which has the bit set, so this never hangs.
    for _ in 0..100_000 {
        if inb(COM1 + 5) & 0x20 != 0 {
            break;
        }
    }
    outb(COM1, b);
}

/// Writes `bytes` to COM1, turning `\n` into `\r\n`.
pub fn write(bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            put(b'\r');
        }
        put(b);
    }
}

/// A [`core::fmt::Write`] over [`write()`], for the runtime's own messages.
pub struct Serial;

impl core::fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write(s.as_bytes());
        Ok(())
    }
}
