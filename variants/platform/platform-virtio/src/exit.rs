//! Leaving the unikernel through QEMU's `isa-debug-exit` device.
//!
//! With `-device isa-debug-exit,iobase=0xf4,iosize=0x04`, writing `V` to port 0xF4 makes QEMU
//! exit with status `(V << 1) | 1`. The host sees only the low 8 bits, i.e. 128 odd values, so
//! not every guest code can survive. The encoding (see [`encode`] and
//! `templates/virtio/README.md`):
//!
//! | guest code `c` | `V` written | QEMU status `s` | the runner reports |
//! |---|---|---|---|
//! | 0 ..= 125 | `c + 1` | `2c + 3` (3 ..= 253) | `(s - 3) / 2` = `c` |
//! | 126 ..= 255 (and anything else) | 127 | 255 | 255 |
//!
//! Status 1 is left to QEMU's own errors (it exits 1 on a bad command line), and status 0
//! means the guest stopped without writing the port (a triple fault with `-no-reboot`, or a
//! shutdown): both are runner errors, never guest codes. Petrel's codes 0, 63, 64 and 255 are
//! all exact.
//!
//! Without the device (another hypervisor) the write does nothing; the runtime then halts
//! with interrupts off after printing the code.

use crate::cpu::{halt_forever, outl};

/// The `isa-debug-exit` I/O port.
pub const DEBUG_EXIT_PORT: u16 = 0xF4;

/// The value written to [`DEBUG_EXIT_PORT`] for guest exit code `code`.
pub const fn encode(code: i32) -> u32 {
    if code >= 0 && code <= 125 {
        code as u32 + 1
    } else {
        127
    }
}

/// The guest exit code for QEMU's exit status `status` (what a runner does), or `None` if
/// the status is not one the guest can produce (0: no exit through the port; 1 and even
/// values: QEMU's own errors or signals).
pub const fn decode(status: i32) -> Option<i32> {
    match status {
        255 => Some(255),
        3..=253 if status % 2 == 1 => Some((status - 3) / 2),
        _ => None,
    }
}

/// Exits QEMU with `code` (encoded as above). If QEMU has no `isa-debug-exit`, halts.
pub fn exit(code: i32) -> ! {
    outl(DEBUG_EXIT_PORT, encode(code));
    let mut out = crate::serial::Serial;
    let _ = core::fmt::Write::write_fmt(
        &mut out,
        format_args!("\npetrel: exit {code}: no isa-debug-exit device, halting\n"),
    );
    halt_forever()
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn round_trip() {
        for code in 0..=125 {
            let status = ((encode(code) << 1) | 1) as i32 & 0xFF;
            assert_eq!(decode(status), Some(code));
        }
        for code in [126, 200, 255, -1, 1000] {
            let status = ((encode(code) << 1) | 1) as i32 & 0xFF;
            assert_eq!(decode(status), Some(255));
        }
        assert_eq!(decode(0), None);
        assert_eq!(decode(1), None);
        assert_eq!(decode(124), None);
    }
}
