//! DNS in the stack interface: [`Stack::resolve`] and its errors. The lookups themselves are
//! done by the resolver a `type = "dns"` device installs ([`set_resolver`]; Petrel's is
//! `petrel-dns-udp`: A and AAAA over UDP, `--dns-servers` or the stack's own servers). A
//! unikernel without such a device carries no DNS code, and `resolve` says how to get one.

use crate::{Stack, StackError};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::net::IpAddr;
use core::pin::Pin;

/// Why [`Stack::resolve`] found no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The unikernel has no resolver: it declares no `type = "dns"` device.
    NotConfigured,
    /// No DNS server is known: no `--dns-servers`, and none from the stack (no DHCP lease
    /// with DNS servers, no host configuration).
    NoServer,
    /// The name does not exist (the server answered NXDOMAIN).
    NxDomain,
    /// The name exists but has no IPv4 or IPv6 address.
    NoAddress,
    /// No server answered in time.
    TimedOut,
    /// The name is not a valid DNS name.
    InvalidName,
    /// Every server that answered failed (SERVFAIL, REFUSED...), or sent a malformed reply.
    ServerFailure,
    /// The stack could not send or receive (no route to any server...).
    Network(StackError),
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::NotConfigured => {
                f.write_str("no DNS resolver (declare a `type = \"dns\"` device in unikernel.toml)")
            }
            DnsError::NoServer => {
                f.write_str("no DNS server (give --dns-servers=IP, or get one from DHCP)")
            }
            DnsError::NxDomain => f.write_str("no such name (NXDOMAIN)"),
            DnsError::NoAddress => f.write_str("the name has no IPv4 or IPv6 address"),
            DnsError::TimedOut => f.write_str("no DNS server answered in time"),
            DnsError::InvalidName => f.write_str("not a valid DNS name"),
            DnsError::ServerFailure => f.write_str("the DNS servers failed to answer"),
            DnsError::Network(e) => write!(f, "cannot reach a DNS server: {e}"),
        }
    }
}

impl core::error::Error for DnsError {}

impl DnsError {
    /// The nearest [`StackError`], for the traits whose error is the stack's (edge-nal's and
    /// embedded-nal-async's `Dns`).
    pub fn into_stack_error(self) -> StackError {
        match self {
            DnsError::NotConfigured
            | DnsError::NoServer
            | DnsError::NxDomain
            | DnsError::NoAddress => StackError::NotFound,
            DnsError::TimedOut => StackError::TimedOut,
            DnsError::InvalidName => StackError::InvalidInput,
            DnsError::ServerFailure => StackError::Io,
            DnsError::Network(e) => e,
        }
    }
}

/// What a resolver returns for one lookup.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = Result<Vec<IpAddr>, DnsError>> + 'a>>;

/// A resolver: looks `name` up through `stack`.
pub type Resolve = for<'a> fn(stack: &'a Stack, name: &'a str) -> Lookup<'a>;

/// The installed resolver.
struct Installed(Cell<Option<Resolve>>);
// SAFETY: the executor and every task run on one thread (as for petrel-time's queue).
unsafe impl Sync for Installed {}
static RESOLVER: Installed = Installed(Cell::new(None));

/// Installs the resolver every [`Stack::resolve`] calls: what a `dns` device's constructor
/// does.
pub fn set_resolver(resolve: Resolve) {
    RESOLVER.0.set(Some(resolve));
}

impl Stack {
    /// The IPv4 and IPv6 addresses of `name`, IPv4 first, from the unikernel's resolver (a
    /// `type = "dns"` device). An IP address is its own answer, resolver or not.
    pub async fn resolve(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Ok(alloc::vec![ip]);
        }
        match RESOLVER.0.get() {
            Some(resolve) => resolve(self, name).await,
            None => Err(DnsError::NotConfigured),
        }
    }

    /// The DNS servers this stack knows by itself (the DHCP lease's on the direct stack, the
    /// host's on the socket stack), written into `out`: how many.
    pub fn own_dns_servers(&self, out: &mut [IpAddr]) -> usize {
        crate::dns_servers(self.handle, out).min(out.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_to_do() {
        use alloc::string::ToString;
        assert_eq!(
            DnsError::NotConfigured.to_string(),
            "no DNS resolver (declare a `type = \"dns\"` device in unikernel.toml)"
        );
        assert_eq!(DnsError::NxDomain.into_stack_error(), StackError::NotFound);
        assert_eq!(DnsError::TimedOut.into_stack_error(), StackError::TimedOut);
    }
}
