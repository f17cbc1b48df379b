//! The stack's addresses: from DHCP, or static from the boot arguments (mirage's names).

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use petrel_bootvar::{Ipv4Prefix, Ipv6Prefix};

/// `--ipv4` when neither it nor DHCP gives an address (mirage's static default).
pub const DEFAULT_IPV4: Ipv4Prefix = Ipv4Prefix {
    addr: Ipv4Addr::new(10, 0, 0, 2),
    len: 24,
};

/// How the stack gets its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addressing {
    /// The IPv4 address and network; `None` while DHCP has not given one.
    pub ipv4: Option<Ipv4Prefix>,
    /// The IPv4 default gateway.
    pub ipv4_gateway: Option<Ipv4Addr>,
    /// A global IPv6 address (a link-local one, from the MAC address, is always there).
    pub ipv6: Option<Ipv6Prefix>,
    /// The IPv6 default gateway.
    pub ipv6_gateway: Option<Ipv6Addr>,
    /// Whether IPv4 comes from DHCP.
    pub dhcp: bool,
}

/// Boot arguments that contradict each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressingError {
    /// `--ipv4-gateway` is not in the `--ipv4` network.
    Ipv4GatewayOutside(Ipv4Prefix, Ipv4Addr),
    /// `--ipv6-gateway` is neither link-local nor in the `--ipv6` network.
    Ipv6GatewayOutside(Ipv6Addr),
    /// `--ipv4-gateway` without `--ipv4` while addresses come from DHCP.
    GatewayWithoutAddress,
}

impl fmt::Display for AddressingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.named("").fmt(f)
    }
}

impl AddressingError {
    /// The message with the boot arguments named as the user types them: `prefix` is the
    /// instance's (`public-` gives `--public-ipv4`; see `petrel_bootvar::instance_prefix`).
    pub fn named<'a>(&'a self, prefix: &'a str) -> impl fmt::Display + 'a {
        Named(self, prefix)
    }
}

/// An [`AddressingError`] with its arguments' prefix.
struct Named<'a>(&'a AddressingError, &'a str);

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.1;
        match self.0 {
            AddressingError::Ipv4GatewayOutside(net, gw) => {
                write!(
                    f,
                    "--{p}ipv4-gateway={gw} is not in the network --{p}ipv4={net}"
                )
            }
            AddressingError::Ipv6GatewayOutside(gw) => write!(
                f,
                "--{p}ipv6-gateway={gw} is neither link-local (fe80::/10) nor in the --{p}ipv6 network"
            ),
            AddressingError::GatewayWithoutAddress => write!(
                f,
                "--{p}ipv4-gateway needs --{p}ipv4 (with DHCP the gateway comes from the lease)"
            ),
        }
    }
}

impl Addressing {
    /// The addressing the boot arguments ask for. With `dhcp` (the configure key), IPv4
    /// comes from DHCP unless `--ipv4` is given; without it `--ipv4` defaults to
    /// [`DEFAULT_IPV4`].
    pub fn new(
        dhcp: bool,
        ipv4: Option<Ipv4Prefix>,
        ipv4_gateway: Option<Ipv4Addr>,
        ipv6: Option<Ipv6Prefix>,
        ipv6_gateway: Option<Ipv6Addr>,
    ) -> Result<Addressing, AddressingError> {
        let dhcp = dhcp && ipv4.is_none();
        let ipv4 = match ipv4 {
            Some(p) => Some(p),
            None if dhcp => None,
            None => Some(DEFAULT_IPV4),
        };
        match (ipv4, ipv4_gateway) {
            (Some(net), Some(gw)) if !net.contains(gw) => {
                return Err(AddressingError::Ipv4GatewayOutside(net, gw));
            }
            (None, Some(_)) => return Err(AddressingError::GatewayWithoutAddress),
            _ => {}
        }
        if let Some(gw) = ipv6_gateway {
            let link_local = gw.segments()[0] & 0xffc0 == 0xfe80;
            if !link_local && !ipv6.is_some_and(|net| net.contains(gw)) {
                return Err(AddressingError::Ipv6GatewayOutside(gw));
            }
        }
        Ok(Addressing {
            ipv4,
            ipv4_gateway,
            ipv6,
            ipv6_gateway,
            dhcp,
        })
    }
}

/// The link-local IPv6 address of `mac` (modified EUI-64, RFC 4291 appendix A).
pub fn link_local(mac: [u8; 6]) -> Ipv6Addr {
    let [a, b, c, d, e, f] = mac;
    Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        a ^ 0x02,
        b,
        c,
        0xff,
        0xfe,
        d,
        e,
        f,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate alloc;
    use alloc::string::ToString;

    fn v4(s: &str) -> Ipv4Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn static_default_and_dhcp() {
        let a = Addressing::new(false, None, None, None, None).unwrap();
        assert_eq!(a.ipv4, Some(DEFAULT_IPV4));
        assert!(!a.dhcp);
        let a = Addressing::new(true, None, None, None, None).unwrap();
        assert_eq!(a.ipv4, None);
        assert!(a.dhcp);
        // An explicit address wins over DHCP.
        let a = Addressing::new(true, Some(v4("192.168.1.9/16")), None, None, None).unwrap();
        assert_eq!(a.ipv4, Some(v4("192.168.1.9/16")));
        assert!(!a.dhcp);
    }

    #[test]
    fn messages_name_the_instance_arguments() {
        let e = AddressingError::GatewayWithoutAddress;
        assert_eq!(
            e.named("public-").to_string(),
            "--public-ipv4-gateway needs --public-ipv4 (with DHCP the gateway comes from the lease)"
        );
        assert_eq!(e.named("").to_string(), e.to_string());
    }

    #[test]
    fn gateways_are_checked() {
        let gw: Ipv4Addr = "10.0.1.1".parse().unwrap();
        let e = Addressing::new(false, Some(v4("10.0.0.2/24")), Some(gw), None, None);
        assert_eq!(
            e.unwrap_err().to_string(),
            "--ipv4-gateway=10.0.1.1 is not in the network --ipv4=10.0.0.2/24"
        );
        let e = Addressing::new(true, None, Some(gw), None, None);
        assert_eq!(e, Err(AddressingError::GatewayWithoutAddress));
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        assert!(Addressing::new(true, None, None, None, Some(ll)).is_ok());
        let far: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert!(Addressing::new(true, None, None, None, Some(far)).is_err());
        let net: Ipv6Prefix = "2001:db8::2/64".parse().unwrap();
        assert!(Addressing::new(true, None, None, Some(net), Some(far)).is_ok());
    }

    #[test]
    fn link_local_from_mac() {
        assert_eq!(
            link_local([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            "fe80::5054:ff:fe12:3456".parse::<Ipv6Addr>().unwrap()
        );
    }
}
