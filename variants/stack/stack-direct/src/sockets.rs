//! The socket calls of [`petrel_stack::StackBackend`] on one [`Engine`].
//!
//! Every call checks its handle and arguments and answers with a [`StackError`]; none panics.
//! Calls that queue something to send wake the driver, which then runs smoltcp.

use crate::engine::{Engine, Entry, Family, Listener, TCP_TIMEOUT, new_tcp_socket};
use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};
use petrel_stack::StackError;
use smoltcp::phy::Device;
use smoltcp::socket::{Socket, tcp, udp};
use smoltcp::wire::{IPV4_HEADER_LEN, IPV6_HEADER_LEN, IpEndpoint, UDP_HEADER_LEN};

/// Datagrams each UDP socket buffers per direction.
pub const UDP_PACKETS: usize = 16;
/// Bytes of payload each UDP socket buffers per direction.
pub const UDP_BUFFER: usize = 64 * 1024;
/// The first ephemeral port (IANA's dynamic range, 49152–65535).
const EPHEMERAL: u16 = 49152;
/// How many stacks socket handles can tell apart: a handle is `serial << 4 | stack`.
pub const MAX_STACKS: u64 = 16;

/// The next handle serial, shared by every stack so that handles are never reused.
static SERIAL: AtomicU64 = AtomicU64::new(1);

/// The stack index a socket handle belongs to.
pub fn stack_of(handle: u64) -> u64 {
    handle % MAX_STACKS
}

fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::V4 => Ipv4Addr::UNSPECIFIED.into(),
        Family::V6 => Ipv6Addr::UNSPECIFIED.into(),
    }
}

fn ready<T>(r: Result<T, StackError>) -> Poll<Result<T, StackError>> {
    Poll::Ready(r)
}

impl Engine {
    fn new_id(&self) -> u64 {
        SERIAL.fetch_add(1, Ordering::Relaxed) * MAX_STACKS + self.index
    }

    /// The error for handle `id` when it is not of the kind a call wanted.
    fn kind_error(&self, id: u64) -> StackError {
        if self.entries.contains_key(&id) {
            StackError::WrongKind
        } else {
            StackError::BadHandle
        }
    }

    fn stream(&mut self, id: u64) -> Result<&mut tcp::Socket<'static>, StackError> {
        match self.entries.get(&id) {
            Some(&Entry::Stream(h)) => Ok(self.sockets.get_mut::<tcp::Socket>(h)),
            _ => Err(self.kind_error(id)),
        }
    }

    fn udp(&mut self, id: u64) -> Result<(&mut udp::Socket<'static>, Family), StackError> {
        match self.entries.get(&id) {
            Some(&Entry::Udp(h, family)) => Ok((self.sockets.get_mut::<udp::Socket>(h), family)),
            _ => Err(self.kind_error(id)),
        }
    }

    /// Checks a local address to bind: unspecified, or one of the stack's unicast addresses.
    fn check_local(&self, ip: &IpAddr) -> Result<(), StackError> {
        if ip.is_multicast() {
            Err(StackError::InvalidInput)
        } else if ip.is_unspecified() || self.iface.has_ip_addr(*ip) {
            Ok(())
        } else {
            Err(StackError::AddrNotAvailable)
        }
    }

    /// Ports in use: by TCP sockets (listening or connected) or UDP sockets.
    fn used_ports(&self, tcp_ports: bool) -> BTreeSet<u16> {
        let mut used = BTreeSet::new();
        for (_, socket) in self.sockets.iter() {
            match socket {
                Socket::Tcp(s) if tcp_ports => {
                    used.insert(s.listen_endpoint().port);
                    if let Some(e) = s.local_endpoint() {
                        used.insert(e.port);
                    }
                }
                Socket::Udp(s) if !tcp_ports => {
                    used.insert(s.endpoint().port);
                }
                _ => {}
            }
        }
        if tcp_ports {
            for e in self.entries.values() {
                if let Entry::Listener(l) = e {
                    used.insert(l.port);
                }
            }
        }
        used
    }

    /// An unused ephemeral port, TCP or UDP.
    fn free_port(&mut self, tcp_ports: bool) -> Result<u16, StackError> {
        let used = self.used_ports(tcp_ports);
        let span = u16::MAX - EPHEMERAL + 1;
        for _ in 0..span {
            self.port_cursor = self.port_cursor.wrapping_add(1);
            let port = EPHEMERAL + self.port_cursor % span;
            if !used.contains(&port) {
                return Ok(port);
            }
        }
        Err(StackError::NoResources)
    }

    /// See [`petrel_stack::StackBackend::tcp_listen`].
    pub fn tcp_listen(&mut self, addr: SocketAddr) -> Result<u64, StackError> {
        let ip = addr.ip();
        self.check_local(&ip)?;
        let port = match addr.port() {
            0 => self.free_port(true)?,
            p => p,
        };
        let clash = self.entries.values().any(|e| match e {
            Entry::Listener(l) => {
                l.port == port
                    && Family::of(&l.addr) == Family::of(&ip)
                    && (l.addr.is_unspecified() || ip.is_unspecified() || l.addr == ip)
            }
            _ => false,
        });
        if clash {
            return Err(StackError::AddrInUse);
        }
        let id = self.new_id();
        self.entries.insert(
            id,
            Entry::Listener(Listener {
                addr: ip,
                port,
                listening: Vec::new(),
                half_open: VecDeque::new(),
                ready: VecDeque::new(),
                waker: None,
            }),
        );
        self.refill(id);
        Ok(id)
    }

    /// See [`petrel_stack::StackBackend::tcp_poll_accept`].
    pub fn tcp_poll_accept(
        &mut self,
        id: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(u64, SocketAddr), StackError>> {
        loop {
            let h = match self.entries.get_mut(&id) {
                Some(Entry::Listener(l)) => match l.ready.pop_front() {
                    Some(h) => h,
                    None => {
                        l.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                },
                _ => return ready(Err(self.kind_error(id))),
            };
            let socket = self.sockets.get_mut::<tcp::Socket>(h);
            match socket.remote_endpoint() {
                Some(peer) => {
                    let conn = self.new_id();
                    self.entries.insert(conn, Entry::Stream(h));
                    return ready(Ok((conn, peer.into())));
                }
                // Reset between the handshake and accept: forget it, take the next one.
                None => {
                    socket.abort();
                    self.closing.push(h);
                }
            }
        }
    }

    /// See [`petrel_stack::StackBackend::tcp_connect`].
    pub fn tcp_connect(&mut self, addr: SocketAddr) -> Result<u64, StackError> {
        let ip = addr.ip();
        if ip.is_unspecified() || ip.is_multicast() || addr.port() == 0 {
            return Err(StackError::InvalidInput);
        }
        let local_port = self.free_port(true)?;
        let mut socket = new_tcp_socket();
        socket
            .connect(self.iface.context(), IpEndpoint::from(addr), local_port)
            .map_err(|e| match e {
                // No source address for that destination: no address yet, or no route.
                tcp::ConnectError::Unaddressable => StackError::Unreachable,
                tcp::ConnectError::InvalidState => StackError::Io,
            })?;
        let h = self.sockets.add(socket);
        let id = self.new_id();
        self.entries.insert(id, Entry::Stream(h));
        self.connecting.insert(id, self.now);
        self.wake_driver();
        Ok(id)
    }

    /// See [`petrel_stack::StackBackend::tcp_poll_connect`].
    pub fn tcp_poll_connect(
        &mut self,
        id: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), StackError>> {
        let s = match self.stream(id) {
            Ok(s) => s,
            Err(e) => return ready(Err(e)),
        };
        let result = match s.state() {
            tcp::State::SynSent | tcp::State::SynReceived => {
                s.register_send_waker(cx.waker());
                return Poll::Pending;
            }
            // A reset answered the SYN, or nothing did within the timeout.
            tcp::State::Closed => {
                let started = self.connecting.get(&id).copied().unwrap_or(self.now);
                if self.now - started >= TCP_TIMEOUT {
                    Err(StackError::TimedOut)
                } else {
                    Err(StackError::Refused)
                }
            }
            _ => Ok(()),
        };
        self.connecting.remove(&id);
        ready(result)
    }

    /// See [`petrel_stack::StackBackend::tcp_poll_read`].
    pub fn tcp_poll_read(
        &mut self,
        id: u64,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, StackError>> {
        let s = match self.stream(id) {
            Ok(s) => s,
            Err(e) => return ready(Err(e)),
        };
        if buf.is_empty() {
            return ready(Ok(0));
        }
        let result = match s.recv_slice(buf) {
            Ok(0) => {
                s.register_recv_waker(cx.waker());
                return Poll::Pending;
            }
            Ok(n) => Ok(n),
            Err(tcp::RecvError::Finished) => Ok(0),
            Err(tcp::RecvError::InvalidState) => match s.state() {
                tcp::State::SynSent | tcp::State::SynReceived => {
                    s.register_recv_waker(cx.waker());
                    return Poll::Pending;
                }
                // Closed without the peer's FIN: a reset, or the peer timed out.
                _ => Err(StackError::Reset),
            },
        };
        // Reading opened the receive window: the driver may have an update to send.
        self.wake_driver();
        ready(result)
    }

    /// See [`petrel_stack::StackBackend::tcp_poll_write`].
    pub fn tcp_poll_write(
        &mut self,
        id: u64,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, StackError>> {
        let s = match self.stream(id) {
            Ok(s) => s,
            Err(e) => return ready(Err(e)),
        };
        match s.state() {
            tcp::State::SynSent | tcp::State::SynReceived => {
                s.register_send_waker(cx.waker());
                return Poll::Pending;
            }
            tcp::State::Closed => return ready(Err(StackError::Reset)),
            _ if !s.may_send() => return ready(Err(StackError::Closed)),
            _ => {}
        }
        if buf.is_empty() {
            return ready(Ok(0));
        }
        match s.send_slice(buf) {
            Ok(0) => {
                s.register_send_waker(cx.waker());
                Poll::Pending
            }
            Ok(n) => {
                self.wake_driver();
                ready(Ok(n))
            }
            Err(tcp::SendError::InvalidState) => ready(Err(StackError::Closed)),
        }
    }

    /// See [`petrel_stack::StackBackend::tcp_poll_shutdown`]: the FIN follows the queued
    /// bytes.
    pub fn tcp_poll_shutdown(&mut self, id: u64) -> Poll<Result<(), StackError>> {
        match self.stream(id) {
            Ok(s) => {
                s.close();
                self.wake_driver();
                ready(Ok(()))
            }
            Err(e) => ready(Err(e)),
        }
    }

    /// See [`petrel_stack::StackBackend::tcp_peer_addr`].
    pub fn tcp_peer_addr(&mut self, id: u64) -> Result<SocketAddr, StackError> {
        let s = self.stream(id)?;
        s.remote_endpoint()
            .map(SocketAddr::from)
            .ok_or(StackError::NotConnected)
    }

    /// See [`petrel_stack::StackBackend::udp_bind`].
    pub fn udp_bind(&mut self, addr: SocketAddr) -> Result<u64, StackError> {
        let ip = addr.ip();
        self.check_local(&ip)?;
        let family = Family::of(&ip);
        let port = match addr.port() {
            0 => self.free_port(false)?,
            p => {
                let clash = self.entries.values().any(|e| match e {
                    &Entry::Udp(h, f) => {
                        let bound = self.sockets.get::<udp::Socket>(h).endpoint();
                        f == family
                            && bound.port == p
                            && bound
                                .addr
                                .is_none_or(|a| ip.is_unspecified() || IpAddr::from(a) == ip)
                    }
                    _ => false,
                });
                if clash {
                    return Err(StackError::AddrInUse);
                }
                p
            }
        };
        let buffer = || {
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
                vec![0; UDP_BUFFER],
            )
        };
        let mut socket = udp::Socket::new(buffer(), buffer());
        let endpoint = smoltcp::wire::IpListenEndpoint {
            addr: (!ip.is_unspecified()).then(|| ip.into()),
            port,
        };
        socket
            .bind(endpoint)
            .map_err(|_| StackError::InvalidInput)?;
        let h = self.sockets.add(socket);
        let id = self.new_id();
        self.entries.insert(id, Entry::Udp(h, family));
        Ok(id)
    }

    /// See [`petrel_stack::StackBackend::udp_poll_send_to`].
    pub fn udp_poll_send_to(
        &mut self,
        id: u64,
        cx: &mut Context<'_>,
        buf: &[u8],
        addr: SocketAddr,
    ) -> Poll<Result<usize, StackError>> {
        // The stack does not fragment: a datagram must fit in one frame (smoltcp would drop a
        // larger one silently).
        let ip_mtu = self.device.capabilities().ip_mtu();
        let (s, family) = match self.udp(id) {
            Ok(s) => s,
            Err(e) => return ready(Err(e)),
        };
        let ip = addr.ip();
        if Family::of(&ip) != family || ip.is_unspecified() || addr.port() == 0 {
            return ready(Err(StackError::InvalidInput));
        }
        let headers = match family {
            Family::V4 => IPV4_HEADER_LEN,
            Family::V6 => IPV6_HEADER_LEN,
        } + UDP_HEADER_LEN;
        if buf.len() > s.payload_send_capacity() || buf.len() + headers > ip_mtu {
            return ready(Err(StackError::MessageTooLong));
        }
        match s.send_slice(buf, IpEndpoint::from(addr)) {
            Ok(()) => {
                self.wake_driver();
                ready(Ok(buf.len()))
            }
            Err(udp::SendError::BufferFull) => {
                s.register_send_waker(cx.waker());
                Poll::Pending
            }
            Err(udp::SendError::Unaddressable) => ready(Err(StackError::InvalidInput)),
        }
    }

    /// See [`petrel_stack::StackBackend::udp_poll_recv_from`]: datagrams of the other
    /// family (smoltcp delivers both to an unspecified address) go to the socket of that
    /// family on the same port if there is one (`Engine::route_datagrams`), else are dropped.
    pub fn udp_poll_recv_from(
        &mut self,
        id: u64,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, SocketAddr), StackError>> {
        if let Err(e) = self.udp(id) {
            return ready(Err(e));
        }
        // Datagrams another socket received for this one come first (see route_datagrams).
        if let Some(inbox) = self.inboxes.get_mut(&id)
            && let Some((data, from)) = inbox.datagrams.pop_front()
        {
            inbox.bytes -= data.len();
            let n = data.len().min(buf.len());
            buf[..n].copy_from_slice(&data[..n]);
            return ready(Ok((n, from)));
        }
        let Ok((s, family)) = self.udp(id) else {
            return ready(Err(StackError::BadHandle));
        };
        loop {
            match s.recv() {
                Ok((data, meta)) => {
                    let from = SocketAddr::from(meta.endpoint);
                    if Family::of(&from.ip()) != family {
                        continue;
                    }
                    let n = data.len().min(buf.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    return ready(Ok((n, from)));
                }
                Err(_) => {
                    s.register_recv_waker(cx.waker());
                    self.inboxes.entry(id).or_default().waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }

    /// See [`petrel_stack::StackBackend::local_addr`].
    pub fn local_addr(&mut self, id: u64) -> Result<SocketAddr, StackError> {
        match self.entries.get(&id) {
            Some(Entry::Listener(l)) => Ok(SocketAddr::new(l.addr, l.port)),
            Some(&Entry::Stream(h)) => self
                .sockets
                .get::<tcp::Socket>(h)
                .local_endpoint()
                .map(SocketAddr::from)
                .ok_or(StackError::NotConnected),
            Some(&Entry::Udp(h, family)) => {
                let e = self.sockets.get::<udp::Socket>(h).endpoint();
                let ip = e.addr.map_or(unspecified(family), IpAddr::from);
                Ok(SocketAddr::new(ip, e.port))
            }
            None => Err(StackError::BadHandle),
        }
    }

    /// See [`petrel_stack::StackBackend::close`].
    pub fn close(&mut self, id: u64) {
        match self.entries.remove(&id) {
            Some(Entry::Listener(l)) => {
                let half_open = l.half_open.into_iter().map(|(h, _)| h);
                for h in l.listening.into_iter().chain(half_open).chain(l.ready) {
                    self.sockets.get_mut::<tcp::Socket>(h).abort();
                    self.closing.push(h);
                }
            }
            Some(Entry::Stream(h)) => {
                self.connecting.remove(&id);
                let s = self.sockets.get_mut::<tcp::Socket>(h);
                // No keep-alives once closed: a peer that never closes its side must not keep
                // the socket forever (the timeout then ends FIN-WAIT-2 after TCP_TIMEOUT).
                s.set_keep_alive(None);
                s.close();
                self.closing.push(h);
            }
            Some(Entry::Udp(h, _)) => {
                self.sockets.remove(h);
                self.inboxes.remove(&id);
            }
            None => return,
        }
        self.wake_driver();
    }
}
