//! The network-abstraction traits of the embedded Rust ecosystem on Petrel's handles:
//! edge-nal 0.7 (what edge-http, edge-dhcp, edge-mdns take) and embedded-nal-async 0.9
//! (what reqwless takes).
//!
//! - [`Stack`]: edge-nal `TcpConnect`, `TcpBind`, `UdpBind` and `Dns`; embedded-nal-async
//!   `TcpConnect` and `Dns`. Name lookups go through [`Stack::resolve`].
//! - [`TcpListener`]: edge-nal `TcpAccept`.
//! - [`TcpStream`]: edge-nal `Readable`, `TcpSplit` and `TcpShutdown` (beside the
//!   `embedded-io-async` traits of the `io` module).
//! - [`UdpSocket`]: edge-nal `UdpSend`, `UdpReceive`, `Readable`, `UdpSplit`; multicast is
//!   not supported (`join_v4`... fail with `Unsupported`).

use crate::io::{TcpReader, TcpWriter};
use crate::{Stack, StackError, TcpListener, TcpStream, UdpSocket};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use edge_nal::{AddrType, Close};
use embedded_io_async::ErrorType;

impl edge_nal::TcpConnect for Stack {
    type Error = StackError;
    type Socket<'a> = TcpStream;

    async fn connect(&self, remote: SocketAddr) -> Result<TcpStream, StackError> {
        Stack::connect(self, remote).await
    }
}

impl edge_nal::TcpBind for Stack {
    type Error = StackError;
    type Accept<'a> = TcpListener;

    async fn bind(&self, local: SocketAddr) -> Result<TcpListener, StackError> {
        self.listen(local).await
    }
}

impl edge_nal::TcpAccept for TcpListener {
    type Error = StackError;
    type Socket<'a> = TcpStream;

    async fn accept(&self) -> Result<(SocketAddr, TcpStream), StackError> {
        let (stream, peer) = TcpListener::accept(self).await?;
        Ok((peer, stream))
    }
}

impl edge_nal::TcpSplit for TcpStream {
    type Read<'a> = TcpReader<'a>;
    type Write<'a> = TcpWriter<'a>;

    fn split(&mut self) -> (TcpReader<'_>, TcpWriter<'_>) {
        TcpStream::split(self)
    }
}

impl edge_nal::TcpShutdown for TcpStream {
    async fn close(&mut self, what: Close) -> Result<(), StackError> {
        match what {
            // Nothing to send the peer: received bytes are simply not read.
            Close::Read => Ok(()),
            Close::Write | Close::Both => self.shutdown().await,
        }
    }

    async fn abort(&mut self) -> Result<(), StackError> {
        TcpStream::abort(self)
    }
}

impl edge_nal::UdpBind for Stack {
    type Error = StackError;
    type Socket<'a> = UdpSocket;

    async fn bind(&self, local: SocketAddr) -> Result<UdpSocket, StackError> {
        self.bind_udp(local).await
    }
}

impl ErrorType for UdpSocket {
    type Error = StackError;
}

impl edge_nal::UdpReceive for UdpSocket {
    async fn receive(&mut self, buffer: &mut [u8]) -> Result<(usize, SocketAddr), StackError> {
        self.recv_from(buffer).await
    }
}

impl edge_nal::UdpSend for UdpSocket {
    async fn send(&mut self, remote: SocketAddr, data: &[u8]) -> Result<(), StackError> {
        self.send_to(data, remote).await.map(|_| ())
    }
}

impl edge_nal::Readable for UdpSocket {
    async fn readable(&mut self) -> Result<(), StackError> {
        UdpSocket::readable(self).await
    }
}

/// A UDP socket's halves: both are the socket itself (its calls take `&self`).
#[derive(Debug, Clone, Copy)]
pub struct UdpHalf<'a>(&'a UdpSocket);

impl ErrorType for UdpHalf<'_> {
    type Error = StackError;
}

impl edge_nal::UdpReceive for UdpHalf<'_> {
    async fn receive(&mut self, buffer: &mut [u8]) -> Result<(usize, SocketAddr), StackError> {
        self.0.recv_from(buffer).await
    }
}

impl edge_nal::UdpSend for UdpHalf<'_> {
    async fn send(&mut self, remote: SocketAddr, data: &[u8]) -> Result<(), StackError> {
        self.0.send_to(data, remote).await.map(|_| ())
    }
}

impl edge_nal::Readable for UdpHalf<'_> {
    async fn readable(&mut self) -> Result<(), StackError> {
        self.0.readable().await
    }
}

impl edge_nal::UdpSplit for UdpSocket {
    type Receive<'a> = UdpHalf<'a>;
    type Send<'a> = UdpHalf<'a>;

    fn split(&mut self) -> (UdpHalf<'_>, UdpHalf<'_>) {
        (UdpHalf(self), UdpHalf(self))
    }
}

impl edge_nal::UdpSplitMulticast for UdpSocket {
    type MulticastV4<'a> = UdpHalf<'a>;
    type MulticastV6<'a> = UdpHalf<'a>;

    fn split_multicast(&mut self) -> (UdpHalf<'_>, UdpHalf<'_>, UdpHalf<'_>, UdpHalf<'_>) {
        (UdpHalf(self), UdpHalf(self), UdpHalf(self), UdpHalf(self))
    }
}

/// Multicast is not supported by Petrel's stacks: joining and leaving fail.
macro_rules! no_multicast {
    ($($t:ty),*) => {$(
        impl edge_nal::MulticastV4 for $t {
            async fn join_v4(&mut self, _group: Ipv4Addr, _iface: Ipv4Addr) -> Result<(), StackError> {
                Err(StackError::Unsupported)
            }
            async fn leave_v4(&mut self, _group: Ipv4Addr, _iface: Ipv4Addr) -> Result<(), StackError> {
                Err(StackError::Unsupported)
            }
        }

        impl edge_nal::MulticastV6 for $t {
            async fn join_v6(&mut self, _group: Ipv6Addr, _iface: u32) -> Result<(), StackError> {
                Err(StackError::Unsupported)
            }
            async fn leave_v6(&mut self, _group: Ipv6Addr, _iface: u32) -> Result<(), StackError> {
                Err(StackError::Unsupported)
            }
        }
    )*};
}

no_multicast!(UdpSocket, UdpHalf<'_>);

/// The first address of `host` of the family `addr_type` asks for.
async fn lookup(stack: &Stack, host: &str, family: Family) -> Result<IpAddr, StackError> {
    let addrs = stack
        .resolve(host)
        .await
        .map_err(crate::dns::DnsError::into_stack_error)?;
    addrs
        .into_iter()
        .find(|a| family.accepts(a))
        .ok_or(StackError::NotFound)
}

/// Which addresses a lookup wants.
#[derive(Clone, Copy)]
enum Family {
    V4,
    V6,
    Either,
}

impl Family {
    fn accepts(self, addr: &IpAddr) -> bool {
        match self {
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
            Family::Either => true,
        }
    }
}

impl edge_nal::Dns for Stack {
    type Error = StackError;

    async fn get_host_by_name(&self, host: &str, ty: AddrType) -> Result<IpAddr, StackError> {
        let family = match ty {
            AddrType::IPv4 => Family::V4,
            AddrType::IPv6 => Family::V6,
            AddrType::Either => Family::Either,
        };
        lookup(self, host, family).await
    }

    async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, StackError> {
        Err(StackError::Unsupported)
    }
}

impl embedded_nal_async::TcpConnect for Stack {
    type Error = StackError;
    type Connection<'a> = TcpStream;

    async fn connect(&self, remote: SocketAddr) -> Result<TcpStream, StackError> {
        Stack::connect(self, remote).await
    }
}

impl embedded_nal_async::Dns for Stack {
    type Error = StackError;

    async fn get_host_by_name(
        &self,
        host: &str,
        ty: embedded_nal_async::AddrType,
    ) -> Result<IpAddr, StackError> {
        let family = match ty {
            embedded_nal_async::AddrType::IPv4 => Family::V4,
            embedded_nal_async::AddrType::IPv6 => Family::V6,
            embedded_nal_async::AddrType::Either => Family::Either,
        };
        lookup(self, host, family).await
    }

    async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, StackError> {
        Err(StackError::Unsupported)
    }
}
