//! Petrel's runner for Solo5 spt images (see README.md).
//!
//! [`elf`] checks an image as the upstream tenders do; the other modules load it into this
//! process and run it under a seccomp filter, as `solo5-spt` does.

pub mod elf;
