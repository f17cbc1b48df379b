//! Engine tests: two engines on an in-memory wire, a simulated clock, counting wakers.
//!
//! A is 10.0.0.1/24 + fd00::1/64, B is 10.0.0.2/24 + fd00::2/64, both with static addresses.
//! The wire carries every frame one engine sends to the other (ARP and NDP included: nothing
//! is set up by hand) and keeps a copy for assertions and as the fuzzer's seed frames.

extern crate std;

mod fuzz;
mod readiness;
mod syn_flood;
mod tcp;
mod udp;

use crate::{Addressing, Engine};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::task::{Context, Poll, Waker};
use petrel_bootvar::{Ipv4Prefix, Ipv6Prefix};
pub use smoltcp::phy::ChecksumCapabilities;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Packet, IpProtocol,
    Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, TcpPacket, TcpRepr,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Wake;
use std::vec::Vec;

pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const V4_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const V4_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const V6_A: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
pub const V6_B: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
/// Ethernet frames of a 1500-byte MTU.
pub const FRAME_LEN: usize = 1514;

/// The two address families, to run a test on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fam {
    V4,
    V6,
}

impl Fam {
    pub fn any(self) -> IpAddr {
        match self {
            Fam::V4 => Ipv4Addr::UNSPECIFIED.into(),
            Fam::V6 => Ipv6Addr::UNSPECIFIED.into(),
        }
    }
    pub fn a(self) -> IpAddr {
        match self {
            Fam::V4 => V4_A.into(),
            Fam::V6 => V6_A.into(),
        }
    }
    pub fn b(self) -> IpAddr {
        match self {
            Fam::V4 => V4_B.into(),
            Fam::V6 => V6_B.into(),
        }
    }
}

pub fn sa(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// A waker that counts its wakes.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A task's waker, for poll calls, and how often it was woken.
pub struct Probe {
    count: Arc<Count>,
    waker: Waker,
}

impl Probe {
    pub fn new() -> Probe {
        let count = Arc::new(Count::default());
        Probe {
            waker: Waker::from(count.clone()),
            count,
        }
    }
    pub fn cx(&self) -> Context<'_> {
        Context::from_waker(&self.waker)
    }
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }
    pub fn wakes(&self) -> usize {
        self.count.0.load(Ordering::SeqCst)
    }
}

/// The value of a ready poll; panics if it is pending.
#[track_caller]
pub fn ready<T>(p: Poll<T>) -> T {
    match p {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("pending"),
    }
}

/// A stack with `index`, `mac` and static addresses.
pub fn engine(index: u64, mac: [u8; 6], v4: Ipv4Addr, v6: Ipv6Addr, seed: u64) -> Engine {
    let addressing = Addressing::new(
        false,
        Some(Ipv4Prefix { addr: v4, len: 24 }),
        None,
        Some(Ipv6Prefix { addr: v6, len: 64 }),
        None,
    )
    .unwrap();
    Engine::new(
        index,
        mac,
        FRAME_LEN,
        seed,
        &addressing,
        Instant::from_millis(0),
    )
    .unwrap()
}

/// Which engine sent a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

/// Two engines on one wire, and the clock.
pub struct Wire {
    pub a: Engine,
    pub b: Engine,
    pub now: Instant,
    /// Every frame carried, in order, with its sender (if `capture`).
    pub frames: Vec<(Side, Vec<u8>)>,
    pub capture: bool,
    /// Frames B sends are thrown away instead of carried to A (a silent peer).
    pub mute_b: bool,
}

impl Wire {
    pub fn new() -> Wire {
        Wire::with_seeds(0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321)
    }

    pub fn with_seeds(seed_a: u64, seed_b: u64) -> Wire {
        Wire {
            a: engine(0, MAC_A, V4_A, V6_A, seed_a),
            b: engine(1, MAC_B, V4_B, V6_B, seed_b),
            now: Instant::from_millis(0),
            frames: Vec::new(),
            capture: true,
            mute_b: false,
        }
    }

    pub fn side(&mut self, side: Side) -> &mut Engine {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    /// Moves the frames each engine has queued to the other one (while its receive queue
    /// has room): how many.
    pub fn carry(&mut self) -> usize {
        let mut moved = 0;
        for from in [Side::A, Side::B] {
            loop {
                let (src, dst) = match from {
                    Side::A => (&mut self.a, &mut self.b),
                    Side::B => (&mut self.b, &mut self.a),
                };
                let Some(frame) = src.next_frame() else { break };
                if from == Side::B && self.mute_b {
                    src.sent();
                    continue;
                }
                if dst.rx_full() {
                    break;
                }
                let frame = frame.to_vec();
                src.sent();
                assert!(dst.receive(&frame), "a frame of at most FRAME_LEN bytes");
                if self.capture {
                    self.frames.push((from, frame));
                }
                moved += 1;
            }
        }
        moved
    }

    /// Polls both engines and carries frames until the wire is quiet, without moving the
    /// clock.
    pub fn run(&mut self) {
        for _ in 0..10_000 {
            self.a.poll(self.now);
            self.b.poll(self.now);
            self.check_bounds();
            if self.carry() == 0 && self.a.queued() == (0, 0) && self.b.queued() == (0, 0) {
                return;
            }
        }
        panic!("the wire never went quiet");
    }

    /// Moves the clock by `ms` milliseconds, then [`Wire::run`].
    pub fn advance(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        self.run();
    }

    /// Runs the wire and jumps the clock from timer to timer until neither engine has a
    /// timer, or for at most `limit`.
    pub fn settle(&mut self, limit: Duration) {
        let end = self.now + limit;
        loop {
            self.run();
            let delay = [self.a.poll_delay(self.now), self.b.poll_delay(self.now)]
                .into_iter()
                .flatten()
                .min();
            match delay {
                None => return,
                Some(d) if self.now + d > end => return,
                Some(d) => self.now += d.max(Duration::from_millis(1)),
            }
        }
    }

    /// [`Wire::settle`] for longer than every TCP timer (the 60 s timeout included).
    pub fn settle_all(&mut self) {
        self.settle(Duration::from_secs(600));
    }

    fn check_bounds(&self) {
        for e in [&self.a, &self.b] {
            let (rx, tx) = e.queued();
            assert!(rx <= crate::device::RX_QUEUE && tx <= crate::device::TX_QUEUE);
        }
    }

    /// The frames `side` sent, of Ethernet type `ethertype`.
    pub fn sent_by(&self, side: Side, ethertype: EthernetProtocol) -> Vec<&[u8]> {
        self.frames
            .iter()
            .filter(|(s, f)| {
                *s == side
                    && EthernetFrame::new_checked(f.as_slice())
                        .is_ok_and(|e| e.ethertype() == ethertype)
            })
            .map(|(_, f)| f.as_slice())
            .collect()
    }
}

/// The ICMPv6 message type of an IPv6 frame, if it carries one (no extension headers).
pub fn icmpv6_type(frame: &[u8]) -> Option<u8> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Icmpv6 {
        return None;
    }
    let icmp = Icmpv6Packet::new_checked(ip.payload()).ok()?;
    Some(u8::from(icmp.msg_type()))
}

/// An Ethernet frame from A to B around an IP packet whose payload `emit` writes.
pub fn ip_frame(
    src: IpAddr,
    dst: IpAddr,
    protocol: IpProtocol,
    payload_len: usize,
    emit: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let caps = ChecksumCapabilities::default();
    let (ethertype, header) = match src {
        IpAddr::V4(_) => (EthernetProtocol::Ipv4, 20),
        IpAddr::V6(_) => (EthernetProtocol::Ipv6, 40),
    };
    let eth = EthernetRepr {
        src_addr: EthernetAddress(MAC_A),
        dst_addr: EthernetAddress(MAC_B),
        ethertype,
    };
    let mut frame = std::vec![0; eth.buffer_len() + header + payload_len];
    let mut e = EthernetFrame::new_unchecked(&mut frame);
    eth.emit(&mut e);
    match (src, dst) {
        (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => {
            let repr = Ipv4Repr {
                src_addr,
                dst_addr,
                next_header: protocol,
                payload_len,
                hop_limit: 64,
            };
            let mut p = Ipv4Packet::new_unchecked(e.payload_mut());
            repr.emit(&mut p, &caps);
            emit(p.payload_mut());
        }
        (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) => {
            let repr = Ipv6Repr {
                src_addr,
                dst_addr,
                next_header: protocol,
                payload_len,
                hop_limit: 64,
            };
            let mut p = Ipv6Packet::new_unchecked(e.payload_mut());
            repr.emit(&mut p);
            emit(p.payload_mut());
        }
        _ => panic!("mixed families"),
    }
    frame
}

/// A TCP segment from `src` to `dst` in an Ethernet frame from A to B.
pub fn tcp_frame(src: SocketAddr, dst: SocketAddr, repr: &TcpRepr<'_>) -> Vec<u8> {
    let repr = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        ..*repr
    };
    ip_frame(
        src.ip(),
        dst.ip(),
        IpProtocol::Tcp,
        repr.buffer_len(),
        |buf| {
            let mut p = TcpPacket::new_unchecked(buf);
            repr.emit(
                &mut p,
                &src.ip().into(),
                &dst.ip().into(),
                &ChecksumCapabilities::default(),
            );
        },
    )
}

/// A bare SYN with sequence number `seq`.
pub fn syn(seq: u32) -> TcpRepr<'static> {
    TcpRepr {
        src_port: 0,
        dst_port: 0,
        control: smoltcp::wire::TcpControl::Syn,
        seq_number: smoltcp::wire::TcpSeqNumber(seq as i32),
        ack_number: None,
        window_len: 64_000,
        window_scale: None,
        max_seg_size: Some(1460),
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &[],
    }
}

#[test]
fn wire_resolves_neighbours_by_itself() {
    // One datagram each way per family: ARP and NDP go over the wire, nothing by hand.
    let mut w = Wire::new();
    let p = Probe::new();
    for fam in [Fam::V4, Fam::V6] {
        let ua = w.a.udp_bind(sa(fam.any(), 0)).unwrap();
        let ub = w.b.udp_bind(sa(fam.any(), 9)).unwrap();
        let to = sa(fam.b(), 9);
        assert_eq!(
            ready(w.a.udp_poll_send_to(ua, &mut p.cx(), b"hi", to)),
            Ok(2)
        );
        w.run();
        w.advance(1000);
        let mut buf = [0; 8];
        let (n, from) = ready(w.b.udp_poll_recv_from(ub, &mut p.cx(), &mut buf)).unwrap();
        assert_eq!((&buf[..n], from.ip()), (&b"hi"[..], fam.a()));
        w.a.close(ua);
        w.b.close(ub);
    }
    // ARP: A asks, B answers.
    let arp_a = w.sent_by(Side::A, EthernetProtocol::Arp);
    let arp_b = w.sent_by(Side::B, EthernetProtocol::Arp);
    assert!(!arp_a.is_empty() && !arp_b.is_empty(), "ARP over the wire");
    // NDP: a neighbour solicitation (135) from A, an advertisement (136) from B.
    let ndp = |side, ty| {
        w.sent_by(side, EthernetProtocol::Ipv6)
            .iter()
            .any(|f| icmpv6_type(f) == Some(ty))
    };
    assert!(ndp(Side::A, 135) && ndp(Side::B, 136), "NDP over the wire");
}

#[test]
fn engine_refuses_a_multicast_mac() {
    let a = Addressing::new(false, None, None, None, None).unwrap();
    let now = Instant::from_millis(0);
    assert!(Engine::new(0, [1, 0, 0, 0, 0, 1], FRAME_LEN, 1, &a, now).is_err());
    assert!(Engine::new(0, [0; 6], FRAME_LEN, 1, &a, now).is_err());
    let e = Engine::new(0, MAC_A, FRAME_LEN, 1, &a, now).unwrap();
    assert!(e.has_ipv4());
    // The link-local address from the MAC address, and the static default.
    assert_eq!(e.addresses().len(), 2);
}
