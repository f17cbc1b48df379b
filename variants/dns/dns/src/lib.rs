//! Petrel interface: a DNS resolver, the handle of a `type = "dns"` device.
//!
//! ```toml
//! [devices.dns]
//! type = "dns"        # needs a stack (the instance `stack` unless wired otherwise)
//! ```
//!
//! ```text
//! #[petrel::main]
//! pub async fn start(stack: Stack, dns: Resolver) {
//!     let addrs = dns.resolve("example.com").await?;   // IPv4 first, then IPv6
//! }
//! ```
//!
//! Declaring the device installs Petrel's resolver (`petrel-dns-udp`: A and AAAA over UDP)
//! and gives the unikernel mirage's `--dns-servers` boot argument (repeatable:
//! `--dns-servers=10.0.0.1 --dns-servers=udp:[fd00::1]:53`); without it the stack's own
//! servers are asked (the DHCP lease's on the direct stack, `/etc/resolv.conf`'s on the
//! socket stack). Lookups also work as [`petrel_stack::Stack::resolve`] and through the
//! stack's edge-nal and embedded-nal-async `Dns`. A unikernel without the device carries no
//! DNS code: its lookups fail with `DnsError::NotConfigured`.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use core::net::IpAddr;
use petrel_stack::{DnsError, Stack};

/// A DNS resolver on one stack.
#[derive(Debug)]
pub struct Resolver {
    stack: Stack,
}

impl Resolver {
    /// A resolver asking through `stack`.
    pub fn new(stack: Stack) -> Resolver {
        Resolver { stack }
    }

    /// The IPv4 and IPv6 addresses of `name`, IPv4 first (see
    /// [`petrel_stack::Stack::resolve`]).
    pub async fn resolve(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        self.stack.resolve(name).await
    }

    /// The stack it asks through: it also implements edge-nal's and embedded-nal-async's
    /// `Dns`, for crates that take those.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }
}
