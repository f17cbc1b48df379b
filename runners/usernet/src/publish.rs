//! `--publish [ADDR:]HOST:GUEST[/tcp|/udp]`: one host port that leads to a port of the guest,
//! with the same syntax on every target (QEMU's `hostfwd` on virtio, libslirp elsewhere).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};

/// The transport protocol of a forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// `tcp` or `udp`, as QEMU's `hostfwd` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// The protocol.
    pub proto: Proto,
    /// The host address it listens on (default 127.0.0.1).
    pub host_addr: Ipv4Addr,
    /// The host port (1 to 65535).
    pub host_port: u16,
    /// The guest port (1 to 65535).
    pub guest_port: u16,
}

impl Forward {
    /// Parses `[ADDR:]HOST:GUEST[/tcp|/udp]`; the error is one line naming the problem.
    pub fn parse(spec: &str) -> Result<Forward, String> {
        let bad = |why: &str| {
            format!(
                "--publish {spec}: {why} (expected [ADDR:]HOST:GUEST[/tcp|/udp], like 8080:80 or 127.0.0.1:5353:53/udp)"
            )
        };
        let (ports, proto) = match spec.rsplit_once('/') {
            Some((p, "tcp")) => (p, Proto::Tcp),
            Some((p, "udp")) => (p, Proto::Udp),
            Some((_, other)) => return Err(bad(&format!("unknown protocol `{other}`"))),
            None => (spec, Proto::Tcp),
        };
        let parts: Vec<&str> = ports.split(':').collect();
        let (addr, host, guest) = match parts[..] {
            [host, guest] => (None, host, guest),
            [addr, host, guest] => (Some(addr), host, guest),
            _ => return Err(bad("wrong number of `:`-separated parts")),
        };
        let host_addr = match addr {
            None => Ipv4Addr::LOCALHOST,
            Some(a) => a
                .parse()
                .map_err(|_| bad(&format!("`{a}` is not an IPv4 address")))?,
        };
        let port = |what: &str, p: &str| {
            p.parse::<u16>().ok().filter(|&n| n != 0).ok_or_else(|| {
                bad(&format!(
                    "{what} port `{p}` is not a number from 1 to 65535"
                ))
            })
        };
        Ok(Forward {
            proto,
            host_addr,
            host_port: port("host", host)?,
            guest_port: port("guest", guest)?,
        })
    }

    /// The host socket address.
    pub fn host(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.host_addr, self.host_port)
    }

    /// Checks that the host port can be bound now, so that a port already in use is one
    /// clear line before anything starts (the network binds it again when it starts).
    pub fn check_free(&self) -> Result<(), String> {
        let result = match self.proto {
            Proto::Tcp => TcpListener::bind(self.host()).map(drop),
            Proto::Udp => UdpSocket::bind(self.host()).map(drop),
        };
        result.map_err(|e| {
            format!(
                "--publish {self}: cannot use host port {} {}: {e}",
                self.proto.name(),
                self.host()
            )
        })
    }

    /// QEMU's `hostfwd=` value for it (guest address left to QEMU: the DHCP address).
    pub fn qemu_hostfwd(&self) -> String {
        format!(
            "{}:{}:{}-:{}",
            self.proto.name(),
            self.host_addr,
            self.host_port,
            self.guest_port
        )
    }
}

impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}/{}",
            self.host_addr,
            self.host_port,
            self.guest_port,
            self.proto.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let f = Forward::parse("8080:80").expect("plain");
        assert_eq!(
            f,
            Forward {
                proto: Proto::Tcp,
                host_addr: Ipv4Addr::LOCALHOST,
                host_port: 8080,
                guest_port: 80
            }
        );
        let f = Forward::parse("0.0.0.0:5353:53/udp").expect("full");
        assert_eq!(f.proto, Proto::Udp);
        assert_eq!(f.host_addr, Ipv4Addr::UNSPECIFIED);
        assert_eq!((f.host_port, f.guest_port), (5353, 53));
        assert_eq!(Forward::parse("1:2/tcp").expect("tcp").proto, Proto::Tcp);
        assert_eq!(f.to_string(), "0.0.0.0:5353:53/udp");
        assert_eq!(f.qemu_hostfwd(), "udp:0.0.0.0:5353-:53");
    }

    #[test]
    fn refuses_bad_specs_in_one_line() {
        for (spec, why) in [
            ("8080", "wrong number"),
            ("1:2:3:4", "wrong number"),
            ("8080:0", "guest port `0`"),
            ("8080:70000", "guest port `70000`"),
            ("x:80", "host port `x`"),
            ("localhost:1:2", "not an IPv4 address"),
            ("1:2/sctp", "unknown protocol `sctp`"),
            ("", "wrong number"),
        ] {
            let err = Forward::parse(spec).expect_err(spec);
            assert!(err.contains(why), "{spec}: {err}");
            assert!(err.starts_with(&format!("--publish {spec}: ")), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn a_port_in_use_is_refused() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = taken.local_addr().expect("addr").port();
        let f = Forward::parse(&format!("{port}:80")).expect("parse");
        let err = f.check_free().expect_err("in use");
        assert!(err.contains("cannot use host port tcp 127.0.0.1:"), "{err}");
        drop(taken);
        f.check_free().expect("free again");
    }
}
