//! Petrel interface: the console. Logs (`log::info!` and friends) go here.
#![no_std]
#![warn(missing_docs)]

/// The console.
#[petrel_macros::interface]
pub trait Console {
    /// Writes bytes to the console. Best effort: a console may drop output.
    fn write(bytes: &[u8]);
}

/// A [`core::fmt::Write`] adapter over [`write`], for `write!` and `writeln!`.
pub struct Writer;

impl core::fmt::Write for Writer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write(s.as_bytes());
        Ok(())
    }
}
