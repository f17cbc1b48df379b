//! One stack instance: a smoltcp interface over [`Queues`], its sockets, and DHCP.
//!
//! The engine does no I/O and reads no clock: the driver feeds it frames and the time, and
//! sends what it queues. Socket calls (`sockets.rs`) go through the same value, so tests and
//! the fuzzer drive exactly the code a unikernel runs.
//!
//! # Listeners under a SYN flood
//!
//! smoltcp has no listen queue: a SYN is taken by a socket in the `Listen` state, which
//! then holds the half-open connection (a whole socket, with its buffers), and a SYN that
//! finds no such socket is answered with a reset. Each [`Listener`] therefore keeps three
//! bounded sets of sockets:
//!
//! - [`BACKLOG`] sockets listening. Frames are processed in rounds of at most [`BACKLOG`]
//!   (each frame can take at most one listening socket), and the set is topped up after
//!   every round, so a burst of SYNs never finds a listener without a listening socket.
//! - at most [`MAX_HALF_OPEN`] half-open connections (`SynReceived`), oldest first. When a
//!   new one would exceed that, the oldest is dropped, and any is dropped after
//!   [`SYN_RECEIVED_TIMEOUT`]. A dropped one is reset to listening on the spot (no segment
//!   is sent to the possibly spoofed peer, and no memory is allocated), so a flood recycles
//!   the same sockets. A legitimate client completes its handshake within one round trip,
//!   so it is only shut out if more than [`MAX_HALF_OPEN`] SYNs arrive during that round
//!   trip (6,400 SYN/s for a 10 ms round trip).
//! - at most [`MAX_READY`] established connections waiting for accept; beyond that new
//!   connections are refused (the application is not keeping up, and nothing a peer does
//!   makes this set grow without the application).
//!
//! Memory is bounded by [`MAX_LISTENER_SOCKETS`] sockets per listener, each with two
//! [`TCP_BUFFER`]s, whatever arrives. SYN cookies would need no socket per half-open
//! connection, but they need the stack to pick the initial sequence number from the cookie
//! and to create an established connection from the final ACK, and smoltcp offers neither
//! (it draws sequence numbers from its own generator and opens connections only from
//! `Listen`), so cheap eviction is the defence.

use crate::addressing::{Addressing, link_local};
use crate::device::Queues;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::task::Waker;
use petrel_stack::StackError;
use smoltcp::iface::{
    Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet,
};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Cidr, Ipv6Cidr};

/// Listening sockets kept ready per listener, and the most frames processed between two
/// top-ups of them (see the module docs).
pub const BACKLOG: usize = 8;
/// Half-open connections (handshake not complete) per listener; beyond that the oldest is
/// dropped.
pub const MAX_HALF_OPEN: usize = 64;
/// A half-open connection is dropped after this long (a real client answers the SYN-ACK
/// within a round trip; smoltcp would keep it until [`TCP_TIMEOUT`]).
pub const SYN_RECEIVED_TIMEOUT: Duration = Duration::from_secs(5);
/// Established connections waiting for accept per listener; beyond that new ones are
/// refused.
pub const MAX_READY: usize = 32;
/// The most sockets a listener ever holds, whatever the network sends.
pub const MAX_LISTENER_SOCKETS: usize = BACKLOG + MAX_HALF_OPEN + MAX_READY;
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
    /// Sockets listening, at most [`BACKLOG`] after each round of frames.
    pub listening: Vec<SocketHandle>,
    /// Half-open connections and when they were seen, oldest first, at most
    /// [`MAX_HALF_OPEN`].
    pub half_open: VecDeque<(SocketHandle, Instant)>,
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
        self.iface.poll_maintenance(now);
        let mut changed = false;
        // Rounds of at most BACKLOG frames, each followed by a top-up of the listening
        // sockets: a burst of SYNs never finds a listener without one (see the module docs).
        loop {
            let mut frames = 0;
            while frames < BACKLOG {
                match self
                    .iface
                    .poll_ingress_single(now, &mut self.device, &mut self.sockets)
                {
                    PollIngressSingleResult::None => break,
                    PollIngressSingleResult::PacketProcessed => {}
                    PollIngressSingleResult::SocketStateChanged => changed = true,
                }
                frames += 1;
            }
            if frames == 0 {
                break;
            }
            self.admit();
            if frames < BACKLOG {
                break;
            }
        }
        while self
            .iface
            .poll_egress(now, &mut self.device, &mut self.sockets)
            == PollResult::SocketStateChanged
        {
            changed = true;
        }
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
        let smoltcp = self.iface.poll_delay(now, &self.sockets);
        // The oldest half-open connection of each listener times out first.
        let half_open = self
            .entries
            .values()
            .filter_map(|e| match e {
                Entry::Listener(l) => l.half_open.front().map(|&(_, since)| since),
                _ => None,
            })
            .min()
            .map(|since| {
                let end = since + SYN_RECEIVED_TIMEOUT;
                if end > now { end - now } else { Duration::ZERO }
            });
        match (smoltcp, half_open) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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

    /// Sorts each listener's sockets after smoltcp moved some (see the module docs): new
    /// half-open connections join the half-open set (the oldest dropped beyond
    /// [`MAX_HALF_OPEN`] or after [`SYN_RECEIVED_TIMEOUT`]); established connections go to
    /// the ready queue of the listener of their family on the same port (smoltcp listens on
    /// both families for an unspecified address), or are reset if no listener wants them or
    /// has room; sockets whose handshake failed are reset to listening or freed; then the
    /// listening sockets are topped up to [`BACKLOG`]. `true` if it reset connections (their
    /// resets are still to be sent).
    fn route_connections(&mut self) -> bool {
        let arrived = self.sort_listener_sockets();
        let mut reset = false;
        for (h, local, port) in arrived {
            let target = self.entries.values_mut().find_map(|e| match e {
                Entry::Listener(l) if l.port == port && accepts(l, &local) => Some(l),
                _ => None,
            });
            match target.filter(|l| l.ready.len() < MAX_READY) {
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

    /// [`Engine::route_connections`] between two rounds of frames: everything but the
    /// resets, which wait for the end of [`Engine::poll`].
    fn admit(&mut self) {
        if self.route_connections() {
            self.iface
                .poll_egress(self.now, &mut self.device, &mut self.sockets);
        }
    }

    /// Moves each listener's sockets to the set their state says, recycles the half-open
    /// connections beyond the bounds, and returns the established connections with their
    /// local address and listener port.
    fn sort_listener_sockets(&mut self) -> Vec<(SocketHandle, core::net::IpAddr, u16)> {
        let now = self.now;
        let sockets = &mut self.sockets;
        let mut arrived = Vec::new();
        for entry in self.entries.values_mut() {
            let Entry::Listener(l) = entry else { continue };
            let endpoint = listen_endpoint(l);
            let mut back = Vec::new();
            l.listening
                .retain(|&h| match sockets.get::<tcp::Socket>(h).state() {
                    tcp::State::Listen => true,
                    tcp::State::SynReceived => {
                        l.half_open.push_back((h, now));
                        false
                    }
                    _ => {
                        // A handshake completed (or failed) within one round.
                        back.push(h);
                        false
                    }
                });
            let mut keep = VecDeque::with_capacity(l.half_open.len());
            for (h, since) in l.half_open.drain(..) {
                match sockets.get::<tcp::Socket>(h).state() {
                    tcp::State::SynReceived if now - since < SYN_RECEIVED_TIMEOUT => {
                        keep.push_back((h, since))
                    }
                    // Timed out, back to listening (reset by the peer), or done.
                    _ => back.push(h),
                }
            }
            l.half_open = keep;
            // The oldest beyond the bound make room for the newest.
            while l.half_open.len() > MAX_HALF_OPEN {
                if let Some((h, _)) = l.half_open.pop_front() {
                    back.push(h);
                }
            }
            for h in back {
                let s = sockets.get_mut::<tcp::Socket>(h);
                match s.state() {
                    // Handshakes that failed, timed out or were dropped: listening again
                    // without a word to the peer (listen resets the socket), or freed if
                    // enough are listening.
                    //
                    // The socket moves to a fresh handle: smoltcp keeps per-handle state
                    // (waiting for the old peer's neighbour entry) that would hold back the
                    // next SYN-ACK for up to a second.
                    tcp::State::Listen
                    | tcp::State::SynReceived
                    | tcp::State::Closed
                    | tcp::State::TimeWait => {
                        if let smoltcp::socket::Socket::Tcp(mut s) = sockets.remove(h)
                            && l.listening.len() < BACKLOG
                        {
                            s.abort();
                            if s.listen(endpoint).is_ok() {
                                l.listening.push(sockets.add(s));
                            }
                        }
                    }
                    _ => match s.local_endpoint() {
                        Some(local) => arrived.push((h, local.addr.into(), l.port)),
                        None => {
                            s.abort();
                            sockets.remove(h);
                        }
                    },
                }
            }
        }
        arrived
    }

    /// Tops listener `id`'s listening sockets up to [`BACKLOG`].
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

/// Tops `l`'s listening sockets up to [`BACKLOG`] while its ready queue has room (a full
/// one refuses new connections until the application accepts).
fn refill(l: &mut Listener, sockets: &mut SocketSet<'static>) {
    if l.ready.len() < MAX_READY {
        let endpoint = listen_endpoint(l);
        while l.listening.len() < BACKLOG {
            let mut s = new_tcp_socket();
            if s.listen(endpoint).is_err() {
                break;
            }
            l.listening.push(sockets.add(s));
        }
    }
    // The memory bound of the module docs.
    debug_assert!(l.listening.len() + l.half_open.len() + l.ready.len() <= MAX_LISTENER_SOCKETS);
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
