//! One stack instance: a smoltcp interface over [`Queues`], its sockets, and DHCP.
//!
//! The engine does no I/O and reads no clock: the driver feeds it frames and the time, and
//! sends what it queues. Socket calls (`sockets.rs`) go through the same value, so tests and
//! the fuzzer drive exactly the code a unikernel runs.

use crate::addressing::{Addressing, link_local};
use crate::device::Queues;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::task::Waker;
use petrel_stack::StackError;
use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Cidr, Ipv6Cidr};

/// Listening sockets kept ready per listener: connections arriving faster than the
/// application accepts them wait in these (smoltcp has no backlog of its own).
pub const BACKLOG: usize = 8;
/// Sockets per listener, listening, in the middle of a handshake, or established and not yet
/// accepted: neither a SYN flood nor connections the application does not accept can make
/// the stack allocate more (beyond it, connections are refused).
pub const MAX_PENDING: usize = 4 * BACKLOG;
/// Bytes of each TCP socket's receive and send buffers.
pub const TCP_BUFFER: usize = 32 * 1024;
/// A connection whose peer stops acknowledging for this long is aborted.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(60);
/// An idle connection sends a keep-alive this often. smoltcp's timeout counts from the last
/// segment received even when nothing is outstanding (smoltcp issue #1202): without these
/// an idle connection would be aborted after [`TCP_TIMEOUT`]. With them it lives as long as
/// its peer answers, and a peer gone while the connection is idle is still given up.
pub const TCP_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How many DNS servers of a DHCP lease are kept (smoltcp's lease holds at most 3).
pub const LEASE_DNS_SERVERS: usize = 3;

/// The address family of a listener or UDP socket bound to an unspecified address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// The family of `addr`.
    pub fn of(addr: &core::net::IpAddr) -> Family {
        if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

/// A listener: smoltcp sockets listening for it, and connections ready to be accepted.
#[derive(Debug)]
pub struct Listener {
    /// The address asked for (`0.0.0.0` and `::` mean any address of that family).
    pub addr: core::net::IpAddr,
    /// The port (picked if 0 was asked for).
    pub port: u16,
    /// Sockets listening or completing a handshake.
    pub pending: Vec<SocketHandle>,
    /// Established connections not yet accepted.
    pub ready: VecDeque<SocketHandle>,
    /// The task waiting in accept.
    pub waker: Option<Waker>,
}

/// A socket handle's socket.
#[derive(Debug)]
pub enum Entry {
    /// A TCP listener.
    Listener(Listener),
    /// A TCP connection.
    Stream(SocketHandle),
    /// A UDP socket: its smoltcp socket and the family it carries.
    Udp(SocketHandle, Family),
}

/// Datagrams for a UDP socket that another socket received, and the task waiting for them.
#[derive(Debug, Default)]
pub struct Inbox {
    /// The datagrams and their senders, oldest first.
    pub datagrams: VecDeque<(Vec<u8>, core::net::SocketAddr)>,
    /// Their bytes, within [`UDP_BUFFER`](crate::sockets::UDP_BUFFER).
    pub bytes: usize,
    /// The task waiting in receive.
    pub waker: Option<Waker>,
}

/// One stack.
pub struct Engine {
    /// Where this engine's number goes in its socket handles (see `lib.rs`).
    pub index: u64,
    pub(crate) iface: Interface,
    pub(crate) device: Queues,
    pub(crate) sockets: SocketSet<'static>,
    /// Open sockets by handle.
    pub(crate) entries: BTreeMap<u64, Entry>,
    /// Connections closed by the application, kept until their FIN is acknowledged (or they
    /// time out) so that queued bytes are still sent.
    pub(crate) closing: Vec<SocketHandle>,
    /// Datagrams moved to UDP sockets from the socket smoltcp gave them to (see
    /// [`Engine::route_datagrams`]), by handle.
    pub(crate) inboxes: BTreeMap<u64, Inbox>,
    #[cfg(feature = "dhcp")]
    dhcp: Option<SocketHandle>,
    /// The driver task, woken when a socket call has something to send.
    pub(crate) driver: Option<Waker>,
    /// Tasks waiting for an IPv4 address (the DHCP lease).
    lease_waiters: Vec<Waker>,
    /// The DNS servers of the DHCP lease (none without DHCP), in order. An array, not a Vec:
    /// images that never ask for them keep no allocation code for it.
    pub(crate) lease_dns_servers: [Option<core::net::Ipv4Addr>; LEASE_DNS_SERVERS],
    /// State for picking ephemeral ports.
    pub(crate) port_cursor: u16,
    /// The time of the last [`Engine::poll`].
    pub(crate) now: Instant,
    /// Connections being opened, with the time `tcp_connect` started them: a connection that
    /// closes after [`TCP_TIMEOUT`] timed out, one that closes sooner was refused.
    pub(crate) connecting: BTreeMap<u64, Instant>,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("index", &self.index)
            .field("addrs", &self.iface.ip_addrs())
            .field("sockets", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A stack on a device with MAC address `mac` and frames of at most `frame_len` bytes.
    /// `seed` randomises TCP sequence numbers and ports; it should differ on each boot.
    pub fn new(
        index: u64,
        mac: [u8; 6],
        frame_len: usize,
        seed: u64,
        addressing: &Addressing,
        now: Instant,
    ) -> Result<Engine, StackError> {
        let ether = EthernetAddress(mac);
        // smoltcp panics on a multicast or all-zero hardware address; refuse it instead.
        if !ether.is_unicast() || mac == [0; 6] {
            return Err(StackError::InvalidInput);
        }
        let mut device = Queues::new(frame_len);
        let mut config = Config::new(HardwareAddress::Ethernet(ether));
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut device, now);
        iface.update_ip_addrs(|addrs| {
            // Capacity is smoltcp's IFACE_MAX_ADDR_COUNT (at least 2).
            let _ = addrs.push(IpCidr::Ipv6(Ipv6Cidr::new(link_local(mac), 64)));
            if let Some(v4) = addressing.ipv4 {
                let _ = addrs.push(IpCidr::Ipv4(Ipv4Cidr::new(v4.addr, v4.len)));
            }
            if let Some(v6) = addressing.ipv6 {
                let _ = addrs.push(IpCidr::Ipv6(Ipv6Cidr::new(v6.addr, v6.len)));
            }
        });
        if let Some(gw) = addressing.ipv4_gateway {
            let _ = iface.routes_mut().add_default_ipv4_route(gw);
        }
        if let Some(gw) = addressing.ipv6_gateway {
            let _ = iface.routes_mut().add_default_ipv6_route(gw);
        }
        #[cfg_attr(not(feature = "dhcp"), allow(unused_mut))]
        let mut sockets = SocketSet::new(Vec::new());
        #[cfg(feature = "dhcp")]
        let dhcp = addressing
            .dhcp
            .then(|| sockets.add(smoltcp::socket::dhcpv4::Socket::new()));
        Ok(Engine {
            index,
            iface,
            device,
            sockets,
            entries: BTreeMap::new(),
            closing: Vec::new(),
            inboxes: BTreeMap::new(),
            #[cfg(feature = "dhcp")]
            dhcp,
            driver: None,
            lease_waiters: Vec::new(),
            lease_dns_servers: [None; LEASE_DNS_SERVERS],
            port_cursor: (seed >> 48) as u16,
            now,
            connecting: BTreeMap::new(),
        })
    }

    /// Queues a received frame: `false` if it was dropped because the queue is full.
    pub fn receive(&mut self, frame: &[u8]) -> bool {
        self.device.push_rx(frame)
    }

    /// Whether the receive queue is full (the driver stops reading the device).
    pub fn rx_full(&self) -> bool {
        self.device.rx_full()
    }

    /// The next frame to send, if any; [`Engine::sent`] removes it.
    pub fn next_frame(&self) -> Option<&[u8]> {
        self.device.front_tx()
    }

    /// The frame [`Engine::next_frame`] returned was sent.
    pub fn sent(&mut self) {
        self.device.pop_tx();
    }

    /// Processes received frames and timers, hands new connections to their listeners, and
    /// forgets finished connections. `true` if a socket may have changed.
    pub fn poll(&mut self, now: Instant) -> bool {
        self.now = now;
        let changed = self.iface.poll(now, &mut self.device, &mut self.sockets)
            == PollResult::SocketStateChanged;
        #[cfg(feature = "dhcp")]
        self.poll_dhcp();
        // Whether or not smoltcp saw a change: sockets also change state without a frame in
        // or out (TIME-WAIT ends, a connection refused or a listener is closed while the
        // network is quiet), and those must be forgotten too.
        if self.route_connections() {
            // Send the resets now: forget_closed removes the aborted sockets right after.
            self.iface
                .poll_egress(now, &mut self.device, &mut self.sockets);
        }
        self.forget_closed();
        self.route_datagrams();
        changed
    }

    /// How long until [`Engine::poll`] has timer work (`None`: nothing until a frame or a
    /// socket call).
    pub fn poll_delay(&mut self, now: Instant) -> Option<Duration> {
        self.iface.poll_delay(now, &self.sockets)
    }

    /// Wakes the driver: a socket call queued something to send.
    pub(crate) fn wake_driver(&self) {
        if let Some(w) = &self.driver {
            w.wake_by_ref();
        }
    }

    /// The interface's current addresses.
    pub fn addresses(&self) -> &[IpCidr] {
        self.iface.ip_addrs()
    }

    /// Sockets the engine holds, of every kind (for leak checks).
    pub fn socket_count(&self) -> usize {
        self.sockets.iter().count()
    }

    /// Frames queued (received, to send).
    pub fn queued(&self) -> (usize, usize) {
        self.device.lens()
    }

    /// Moves each listener's established connections to its ready queue, or to the listener
    /// of the other family on the same port (smoltcp listens on both families for an
    /// unspecified address), or resets them if no listener wants them or has room for them;
    /// frees sockets whose handshake failed; tops the listening sockets up to [`BACKLOG`].
    /// `true` if it reset connections (their resets are still to be sent).
    fn route_connections(&mut self) -> bool {
        let mut arrived: Vec<(SocketHandle, core::net::IpAddr, u16)> = Vec::new();
        for entry in self.entries.values_mut() {
            let Entry::Listener(l) = entry else { continue };
            let port = l.port;
            l.pending.retain(|&h| {
                let s = self.sockets.get_mut::<tcp::Socket>(h);
                match s.state() {
                    tcp::State::Listen | tcp::State::SynReceived => true,
                    tcp::State::Closed | tcp::State::TimeWait => {
                        // The handshake failed (timed out): free the socket, and refill
                        // listens again up to BACKLOG, not up to how many a flood left.
                        s.abort();
                        self.closing.push(h);
                        false
                    }
                    _ => {
                        let local = s.local_endpoint().map(|e| e.addr.into());
                        if let Some(addr) = local {
                            arrived.push((h, addr, port));
                        } else {
                            s.abort();
                            arrived.push((h, core::net::Ipv4Addr::UNSPECIFIED.into(), 0));
                        }
                        false
                    }
                }
            });
        }
        let mut reset = false;
        for (h, local, port) in arrived {
            let target = self.entries.values_mut().find_map(|e| match e {
                Entry::Listener(l) if l.port == port && accepts(l, &local) => Some(l),
                _ => None,
            });
            // A connection handed over by the other family's listener must fit in this one's
            // bound too (its own fit: they left its pending sockets).
            let target = target.filter(|l| l.pending.len() + l.ready.len() < MAX_PENDING);
            match target {
                Some(l) => {
                    l.ready.push_back(h);
                    if let Some(w) = l.waker.take() {
                        w.wake();
                    }
                }
                None => {
                    self.sockets.get_mut::<tcp::Socket>(h).abort();
                    self.closing.push(h);
                    reset = true;
                }
            }
        }
        for entry in self.entries.values_mut() {
            if let Entry::Listener(l) = entry {
                refill(l, &mut self.sockets);
            }
        }
        reset
    }

    /// Tops listener `id`'s listening sockets up to [`BACKLOG`], within [`MAX_PENDING`].
    pub(crate) fn refill(&mut self, id: u64) {
        if let Some(Entry::Listener(l)) = self.entries.get_mut(&id) {
            refill(l, &mut self.sockets);
        }
    }

    /// Gives datagrams to the UDP socket of their family. smoltcp gives a datagram to the
    /// first UDP socket bound to its port that accepts its address, and a socket bound to an
    /// unspecified address accepts both families: when its port also has a socket of the
    /// other family, every datagram it received moves to an inbox, its own or the other
    /// socket's, so that the other socket gets its family's datagrams (and in order).
    fn route_datagrams(&mut self) {
        let mut next = self.entries.keys().next().copied();
        while let Some(id) = next {
            next = self.entries.range(id + 1..).next().map(|(&k, _)| k);
            let Some(&Entry::Udp(h, family)) = self.entries.get(&id) else {
                continue;
            };
            let endpoint = self.sockets.get::<udp::Socket>(h).endpoint();
            if endpoint.addr.is_some() || self.udp_on(endpoint.port, other(family), None).is_none()
            {
                continue;
            }
            while let Ok((_, meta)) = self.sockets.get_mut::<udp::Socket>(h).peek() {
                let from = core::net::SocketAddr::from(meta.endpoint);
                let local = meta.local_address;
                let target = if Family::of(&from.ip()) == family {
                    Some(id)
                } else {
                    self.udp_on(endpoint.port, other(family), local)
                };
                let Ok((data, _)) = self.sockets.get_mut::<udp::Socket>(h).recv() else {
                    break;
                };
                let Some(target) = target else { continue };
                let inbox = self.inboxes.entry(target).or_default();
                if inbox.datagrams.len() < crate::sockets::UDP_PACKETS
                    && inbox.bytes + data.len() <= crate::sockets::UDP_BUFFER
                {
                    inbox.bytes += data.len();
                    inbox.datagrams.push_back((data.to_vec(), from));
                    if let Some(w) = inbox.waker.take() {
                        w.wake();
                    }
                }
            }
        }
    }

    /// The UDP socket of `family` on `port` that takes datagrams sent to `local` (any, if
    /// `None`).
    fn udp_on(
        &self,
        port: u16,
        family: Family,
        local: Option<smoltcp::wire::IpAddress>,
    ) -> Option<u64> {
        self.entries.iter().find_map(|(&id, e)| {
            let &Entry::Udp(h, f) = e else { return None };
            let bound = self.sockets.get::<udp::Socket>(h).endpoint();
            let takes = match (bound.addr, local) {
                (None, _) | (_, None) => true,
                // Its own address, or a broadcast or multicast one.
                (Some(a), Some(l)) => a == l || !self.iface.has_ip_addr(l),
            };
            (f == family && bound.port == port && takes).then_some(id)
        })
    }

    /// Removes the closed connections the application gave up.
    fn forget_closed(&mut self) {
        let sockets = &mut self.sockets;
        self.closing.retain(|&h| {
            let state = sockets.get::<tcp::Socket>(h).state();
            let done = matches!(state, tcp::State::Closed | tcp::State::TimeWait);
            if done {
                sockets.remove(h);
            }
            !done
        });
    }

    #[cfg(feature = "dhcp")]
    fn poll_dhcp(&mut self) {
        use smoltcp::socket::dhcpv4::{Event, Socket};
        let Some(h) = self.dhcp else { return };
        match self.sockets.get_mut::<Socket>(h).poll() {
            None => {}
            Some(Event::Configured(lease)) => {
                let address = lease.address;
                self.iface.update_ip_addrs(|addrs| {
                    addrs.retain(|a| !matches!(a, IpCidr::Ipv4(_)));
                    let _ = addrs.push(IpCidr::Ipv4(address));
                });
                let routes = self.iface.routes_mut();
                routes.remove_default_ipv4_route();
                if let Some(router) = lease.router {
                    let _ = routes.add_default_ipv4_route(router);
                }
                self.lease_dns_servers = [None; LEASE_DNS_SERVERS];
                for (slot, server) in self.lease_dns_servers.iter_mut().zip(&lease.dns_servers) {
                    *slot = Some(*server);
                }
                for w in self.lease_waiters.drain(..) {
                    w.wake();
                }
                match lease.router {
                    Some(r) => {
                        log::info!(target: crate::LOG_TARGET, "DHCP lease: {address}, gateway {r}")
                    }
                    None => {
                        log::info!(target: crate::LOG_TARGET, "DHCP lease: {address}, no gateway")
                    }
                }
            }
            Some(Event::Deconfigured) => {
                // smoltcp also reports this once at start, before any lease: say nothing then.
                if self.has_ipv4() {
                    log::warn!(target: crate::LOG_TARGET, "DHCP lease lost; asking again");
                }
                self.iface
                    .update_ip_addrs(|addrs| addrs.retain(|a| !matches!(a, IpCidr::Ipv4(_))));
                self.iface.routes_mut().remove_default_ipv4_route();
                self.lease_dns_servers = [None; LEASE_DNS_SERVERS];
            }
        }
    }

    /// Whether the stack has an IPv4 address yet (DHCP may still be asking).
    pub fn has_ipv4(&self) -> bool {
        self.iface.ipv4_addr().is_some()
    }

    /// Ready once the stack has an IPv4 address.
    pub fn poll_lease(&mut self, cx: &mut core::task::Context<'_>) -> core::task::Poll<()> {
        if self.has_ipv4() {
            core::task::Poll::Ready(())
        } else {
            // Polled again by the same task (a reminder timer woke it): keep one waker.
            if !self.lease_waiters.iter().any(|w| w.will_wake(cx.waker())) {
                self.lease_waiters.push(cx.waker().clone());
            }
            core::task::Poll::Pending
        }
    }
}

/// Tops `l`'s listening sockets up to [`BACKLOG`], within [`MAX_PENDING`], or frees those
/// beyond [`BACKLOG`] (handshakes reset back to listening after a SYN flood).
fn refill(l: &mut Listener, sockets: &mut SocketSet<'static>) {
    let endpoint = listen_endpoint(l);
    let listening = l
        .pending
        .iter()
        .filter(|&&h| sockets.get::<tcp::Socket>(h).state() == tcp::State::Listen)
        .count();
    if listening > BACKLOG {
        let mut extra = listening - BACKLOG;
        l.pending.retain(|&h| {
            if extra > 0 && sockets.get::<tcp::Socket>(h).state() == tcp::State::Listen {
                sockets.remove(h);
                extra -= 1;
                false
            } else {
                true
            }
        });
        return;
    }
    let room = MAX_PENDING.saturating_sub(l.pending.len() + l.ready.len());
    for _ in 0..(BACKLOG - listening).min(room) {
        let mut s = new_tcp_socket();
        if s.listen(endpoint).is_err() {
            return;
        }
        l.pending.push(sockets.add(s));
    }
}

/// A new TCP socket with Petrel's buffers, timeout and keep-alive.
pub(crate) fn new_tcp_socket() -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(alloc::vec![0; TCP_BUFFER]),
        tcp::SocketBuffer::new(alloc::vec![0; TCP_BUFFER]),
    );
    s.set_timeout(Some(TCP_TIMEOUT));
    s.set_keep_alive(Some(TCP_KEEP_ALIVE));
    s
}

/// The smoltcp endpoint a listener's sockets listen on: the address if it is specific, any
/// address otherwise (smoltcp cannot listen on "any IPv4 address" alone).
pub(crate) fn listen_endpoint(l: &Listener) -> smoltcp::wire::IpListenEndpoint {
    smoltcp::wire::IpListenEndpoint {
        addr: (!l.addr.is_unspecified()).then(|| l.addr.into()),
        port: l.port,
    }
}

/// The other family.
fn other(family: Family) -> Family {
    match family {
        Family::V4 => Family::V6,
        Family::V6 => Family::V4,
    }
}

/// Whether listener `l` takes a connection to local address `local`.
pub(crate) fn accepts(l: &Listener, local: &core::net::IpAddr) -> bool {
    if l.addr.is_unspecified() {
        Family::of(&l.addr) == Family::of(local)
    } else {
        l.addr == *local
    }
}
