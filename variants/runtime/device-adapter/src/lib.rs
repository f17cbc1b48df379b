//! The adapter between a freestanding target's device drivers and the `net` and `block`
//! interfaces, written once for every target whose platform binds drivers to the image's
//! manifest (virtio's PCI devices, xen's netfront and blkfront).
//!
//! An implementation crate wraps its driver in a type that implements [`net::NetDriver`] or
//! [`block::BlockDriver`], keeps one `static` table of the acquired devices
//! ([`net::NetDevices`], [`block::BlockDevices`]; a backend handle is an index in it), and
//! re-exports the constructor the generated crate calls ([`net::connect`],
//! [`block::connect`]).
#![no_std]
#![warn(missing_docs)]

pub mod block;
pub mod net;

pub use petrel_rt_core::devices::AcquireError;
