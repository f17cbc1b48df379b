//! The panic report, shared by every freestanding target's `#[panic_handler]`.
//!
//! ```text
//! #[panic_handler]
//! fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
//!     petrel_rt_core::panic::report(info, console_write);
//!     exit(255)
//! }
//! ```

use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

/// Size of the buffer [`report`] formats into (on the stack).
pub const REPORT_SIZE: usize = 1024;

/// A fixed-size [`fmt::Write`] buffer. Text that does not fit is dropped and the buffer
/// remembers it was cut ([`FixedBuf::truncated`]); the cut happens on a UTF-8 boundary.
pub struct FixedBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> FixedBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Whether some text did not fit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Ends the text with `tail` (e.g. `"...\n"`), overwriting the end of the text if needed
    /// so that `tail` is always there in full (when `tail` itself fits in `N`).
    pub fn finish_with(&mut self, tail: &str) {
        let tail = tail.as_bytes();
        if tail.len() > N {
            return;
        }
        let mut at = self.len.min(N - tail.len());
        // Do not leave half a UTF-8 sequence before the tail.
        while at > 0 && at < self.len && (self.buf[at] & 0xC0) == 0x80 {
            at -= 1;
        }
        self.buf[at..at + tail.len()].copy_from_slice(tail);
        self.len = at + tail.len();
    }
}

impl<const N: usize> Default for FixedBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Write for FixedBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() {
            self.truncated = true;
            // Stop formatting: nothing more fits.
            return Err(fmt::Error);
        }
        Ok(())
    }
}

/// Set while a report is being formatted, to catch a panic inside a `Display` impl.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Formats the panic as
///
/// ```text
/// panicked at src/main.rs:12:5:
/// the message
/// ```
///
/// into a [`REPORT_SIZE`]-byte stack buffer and passes it to `console` in one call. Never
/// allocates. A message that does not fit ends in `...`. If the message's formatting itself
/// panics, the nested call prints only `panicked while reporting a panic` and returns, so the
/// caller goes on to exit.
pub fn report(info: &PanicInfo<'_>, console: fn(&[u8])) {
    if REPORTING.swap(true, Ordering::AcqRel) {
        console(b"\npanicked while reporting a panic\n");
        return;
    }
    let mut buf = FixedBuf::<REPORT_SIZE>::new();
    let _ = format(info, &mut buf);
    if buf.truncated() {
        buf.finish_with("...\n");
    } else if buf.as_bytes().last() != Some(&b'\n') {
        let _ = buf.write_str("\n");
        if buf.truncated() {
            buf.finish_with("...\n");
        }
    }
    console(buf.as_bytes());
    REPORTING.store(false, Ordering::Release);
}

fn format(info: &PanicInfo<'_>, out: &mut impl Write) -> fmt::Result {
    out.write_str("panicked")?;
    if let Some(loc) = info.location() {
        write!(out, " at {}:{}:{}", loc.file(), loc.line(), loc.column())?;
    }
    write!(out, ":\n{}", info.message())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn fixed_buf_truncates_on_char_boundary() {
        let mut b = FixedBuf::<5>::new();
        assert!(write!(b, "ab\u{e9}\u{e9}").is_err());
        assert_eq!(b.as_bytes(), "ab\u{e9}".as_bytes());
        assert!(b.truncated());
        b.finish_with("..");
        assert_eq!(b.as_bytes(), b"ab..");
    }

    #[test]
    fn fixed_buf_fits() {
        let mut b = FixedBuf::<8>::new();
        write!(b, "{}-{}", 12, 34).unwrap();
        assert_eq!(b.as_bytes(), b"12-34");
        assert!(!b.truncated());
    }
}
