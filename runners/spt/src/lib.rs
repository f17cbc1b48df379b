//! Petrel's runner for Solo5 spt images (see README.md).
//!
//! [`elf`] checks an image as the upstream tenders do; the other modules load it into this
//! process and run it under a seccomp filter, as `solo5-spt` does: [`cli`] parses the
//! command line, [`devices`] attaches block files and taps, [`guest`] maps and fills guest
//! memory, [`seccomp`] builds the filter and [`run`] puts it all together.

use std::fmt;

pub mod cli;
pub mod devices;
pub mod elf;
pub mod guest;
pub mod run;
pub mod seccomp;

/// A runner error: a message for the user (one or more lines), exit status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Error {
        Error(msg.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}
