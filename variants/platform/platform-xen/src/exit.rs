//! Leaving the unikernel: the exit status on the console, then `SCHEDOP_shutdown`.
//!
//! Xen keeps only the shutdown *reason* (xl prints `reason code 0` for poweroff, `3` for
//! crash), not a number. So the runtime first prints the status as the console's last line,
//! [`STATUS_LINE`] followed by the number (`petrel: exit status 64`), waits until dom0 has
//! read it, and then shuts down with poweroff for status 0 and crash for anything else. A
//! runner maps back: the printed number when it agrees with the reason, else 0 for poweroff
//! and 255 for crash (`scripts/xen-testbed.sh` does exactly this).

use core::fmt::Write;

use crate::console::{self, Console};
use crate::cpu::halt_forever;
use crate::hypercall::{self, ShutdownReason};

/// What the last console line starts with; the exit status follows.
pub const STATUS_LINE: &str = "petrel: exit status ";

/// The shutdown reason for exit status `code`.
pub const fn reason(code: i32) -> ShutdownReason {
    if code == 0 {
        ShutdownReason::Poweroff
    } else {
        ShutdownReason::Crash
    }
}

/// Prints the status, flushes the console and ends the domain.
pub fn exit(code: i32) -> ! {
    let _ = writeln!(Console, "{STATUS_LINE}{code}");
    console::flush();
    if hypercall::ready() {
        hypercall::shutdown(reason(code));
    }
    halt_forever()
}

#[cfg(test)]
mod tests {
    use super::reason;
    use crate::hypercall::ShutdownReason;

    #[test]
    fn only_zero_powers_off() {
        assert_eq!(reason(0), ShutdownReason::Poweroff);
        for code in [1, 63, 64, 255, -1] {
            assert_eq!(reason(code), ShutdownReason::Crash);
        }
    }
}
