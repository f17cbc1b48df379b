//! Petrel's runner for Solo5 spt images (see README.md).
//!
//! The image checker (`petrel_solo5_abi::elf`) and the command line and devices
//! (`petrel_tender`) are shared with petrel-hvt; the modules here load the image into this
//! process and run it under a seccomp filter, as `solo5-spt` does: [`guest`] maps and fills
//! guest memory, [`seccomp`] builds the filter and [`run`] puts it all together.

pub mod guest;
pub mod run;
pub mod seccomp;

pub use petrel_tender::Error;
