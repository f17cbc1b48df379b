//! Petrel's Solo5 hvt tender (see README.md): runs hvt images on KVM as `solo5-hvt` does.
//!
//! The image checker (`petrel_solo5_abi::elf`) and the command line and devices
//! (`petrel_tender`) are shared with petrel-spt. Here: [`memory`] fills guest memory (the
//! segments, page tables, boot information), [`vcpu`] creates the VM and its vCPU,
//! [`hypercall`] answers the guest's hypercalls against any [`hypercall::Host`], [`host`]
//! is the real one, [`seccomp`] the filter and [`run`] puts it all together.

pub mod host;
pub mod hypercall;
pub mod memory;
pub mod run;
pub mod seccomp;
pub mod vcpu;

pub use petrel_tender::Error;
