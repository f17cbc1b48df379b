//! Fuzz target for the receive path (bolero): malformed frames must not panic the stack,
//! grow it beyond its bounds, or leave sockets behind.
//!
//! Each input drives a fresh pair of engines set up over the wire: B has listeners on
//! 0.0.0.0:80 and [::]:80, UDP sockets on 0.0.0.0:53 and [::]:53, and an established
//! connection of each family from A. The input is a list of operations: random frames,
//! mutations of the frames captured while setting up (ARP, NDP, TCP handshakes, data, FINs,
//! resets, UDP, ICMP echo and errors; fields flipped, lengths wrong, truncated, extended,
//! checksums fixed up or not), TCP segments built around the sequence numbers of real ones,
//! B's socket calls, the clock, and exchanges with A. After each operation B's queues and
//! socket count stay within their bounds; at the end, with every handle closed and the
//! clock past every timeout, B holds no socket.
//!
//! `cargo test` runs it for one second. The long run (see the README):
//!
//! ```text
//! BOLERO_RANDOM_ITERATIONS=1000000 cargo test --release -p petrel-stack-direct --all-features --lib fuzz_receive -- --nocapture
//! ```

use super::tcp::{connect, transfer};
use super::udp::ping;
use super::*;
use crate::device::{RX_QUEUE, TX_QUEUE};
use crate::engine::{MAX_LISTENER_SOCKETS, MAX_READY};
use crate::sockets::{UDP_BUFFER, UDP_PACKETS};
use smoltcp::wire::{
    Icmpv4Packet, IpAddress, TcpControl, TcpSeqNumber, TcpTimestampRepr, UdpPacket,
};
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::vec;

/// What one input works on.
struct Fixture {
    w: Wire,
    /// B's listeners and UDP sockets.
    listeners: [u64; 2],
    udp: [u64; 2],
    /// B's open connections, and how many it ever had (each may linger once closed).
    streams: Vec<u64>,
    opened: usize,
    /// A's connections and UDP sockets.
    a_streams: Vec<u64>,
    a_udp: [u64; 2],
    /// Frames captured while setting up, both ways.
    seeds: Vec<Vec<u8>>,
    /// The latest frames A sent B while fuzzing (current sequence numbers).
    recent: VecDeque<Vec<u8>>,
}

/// The set-up (the same for every input: the seeds are deterministic).
fn fixture() -> Fixture {
    let mut w = Wire::new();
    let p = Probe::new();
    let l4 = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let l6 = w.b.tcp_listen(sa(Fam::V6.any(), 80)).unwrap();
    let u4 = w.b.udp_bind(sa(Fam::V4.any(), 53)).unwrap();
    let u6 = w.b.udp_bind(sa(Fam::V6.any(), 53)).unwrap();
    let a4 = w.a.udp_bind(sa(Fam::V4.any(), 5353)).unwrap();
    let a6 = w.a.udp_bind(sa(Fam::V6.any(), 5353)).unwrap();
    // UDP both ways (ARP and NDP on the way), and to a closed port (ICMP errors).
    for (fam, a, b) in [(Fam::V4, a4, u4), (Fam::V6, a6, u6)] {
        ready(w.a.udp_poll_send_to(a, &mut p.cx(), b"question", sa(fam.b(), 53))).unwrap();
        ready(w.a.udp_poll_send_to(a, &mut p.cx(), b"closed", sa(fam.b(), 54))).unwrap();
        w.run();
        w.advance(1000);
        let mut buf = [0; 64];
        let (_, from) = ready(w.b.udp_poll_recv_from(b, &mut p.cx(), &mut buf)).unwrap();
        ready(w.b.udp_poll_send_to(b, &mut p.cx(), b"answer", from)).unwrap();
        w.run();
        ready(w.a.udp_poll_recv_from(a, &mut p.cx(), &mut buf)).unwrap();
    }
    // A connection of each family, with data both ways.
    let (c4, s4) = connect(&mut w, l4, sa(Fam::V4.b(), 80));
    let (c6, s6) = connect(&mut w, l6, sa(Fam::V6.b(), 80));
    for (c, s) in [(c4, s4), (c6, s6)] {
        transfer(&mut w, Side::A, c, s, b"GET / HTTP/1.1\r\nHost: b\r\n\r\n");
        transfer(
            &mut w,
            Side::B,
            s,
            c,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        );
    }
    // A connection closed both ways (FINs), and one refused (RST).
    let (c, s) = connect(&mut w, l4, sa(Fam::V4.b(), 80));
    let _ = w.a.tcp_poll_shutdown(c);
    w.advance(10);
    let _ = w.b.tcp_poll_shutdown(s);
    w.advance(10);
    w.a.close(c);
    w.b.close(s);
    let refused = w.a.tcp_connect(sa(Fam::V4.b(), 81)).unwrap();
    w.advance(10);
    w.a.close(refused);
    // Pings.
    for fam in [Fam::V4, Fam::V6] {
        assert!(ping(&mut w, fam, b"ping").is_some());
    }
    w.settle(Duration::from_millis(100));
    let seeds = w.frames.drain(..).map(|(_, f)| f).collect();
    w.capture = false;
    Fixture {
        w,
        listeners: [l4, l6],
        udp: [u4, u6],
        streams: vec![s4, s6],
        opened: 3,
        a_streams: vec![c4, c6],
        a_udp: [a4, a6],
        seeds,
        recent: VecDeque::new(),
    }
}

/// Operations per input at least: random inputs are mostly short, and a stack breaks after
/// a sequence of frames more than after one.
const MIN_OPS: usize = 48;

/// The input, read as needed; once it is used up, a pseudo-random stream seeded from it (so
/// that an input always replays the same way).
struct Input<'a> {
    data: &'a [u8],
    rng: u64,
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Input<'a> {
        // FNV-1a of the input; never 0 (xorshift would stay there).
        let hash = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Input {
            data,
            rng: hash | 1,
        }
    }
    fn exhausted(&self) -> bool {
        self.data.is_empty()
    }
    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                (self.rng >> 32) as u8
            }
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::from(self.u8()) % from.len()]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }
}

/// Fills in the IPv4 header checksum and the TCP, UDP or ICMP checksum of `frame`, where its
/// (possibly mutated) lengths allow it, so that mutations get past checksum checks.
fn fix_checksums(frame: &mut [u8]) {
    let Ok(mut eth) = EthernetFrame::new_checked(&mut *frame) else {
        return;
    };
    match eth.ethertype() {
        EthernetProtocol::Ipv4 => {
            let Ok(mut ip) = Ipv4Packet::new_checked(eth.payload_mut()) else {
                return;
            };
            ip.fill_checksum();
            let (src, dst, protocol) = (ip.src_addr(), ip.dst_addr(), ip.next_header());
            fix_transport(protocol, src.into(), dst.into(), ip.payload_mut());
        }
        EthernetProtocol::Ipv6 => {
            let Ok(mut ip) = Ipv6Packet::new_checked(eth.payload_mut()) else {
                return;
            };
            let (src, dst, protocol) = (ip.src_addr(), ip.dst_addr(), ip.next_header());
            fix_transport(protocol, src.into(), dst.into(), ip.payload_mut());
        }
        _ => {}
    }
}

fn fix_transport(protocol: IpProtocol, src: IpAddress, dst: IpAddress, payload: &mut [u8]) {
    match (protocol, src, dst) {
        (IpProtocol::Tcp, _, _) => {
            if let Ok(mut p) = TcpPacket::new_checked(payload) {
                p.fill_checksum(&src, &dst);
            }
        }
        (IpProtocol::Udp, _, _) => {
            if let Ok(mut p) = UdpPacket::new_checked(payload) {
                p.fill_checksum(&src, &dst);
            }
        }
        (IpProtocol::Icmp, _, _) => {
            if let Ok(mut p) = Icmpv4Packet::new_checked(payload) {
                p.fill_checksum();
            }
        }
        (IpProtocol::Icmpv6, IpAddress::Ipv6(src), IpAddress::Ipv6(dst)) => {
            if let Ok(mut p) = Icmpv6Packet::new_checked(payload) {
                p.fill_checksum(&src, &dst);
            }
        }
        _ => {}
    }
}

/// A frame from the seeds or the recent frames, mutated.
fn mutated(f: &mut Fixture, input: &mut Input<'_>) -> Vec<u8> {
    let n = f.seeds.len() + f.recent.len();
    let i = usize::from(input.u16()) % n;
    let mut frame = match f.seeds.get(i) {
        Some(s) => s.clone(),
        None => f.recent[i - f.seeds.len()].clone(),
    };
    for _ in 0..1 + input.u8() % 6 {
        let len = frame.len().max(1);
        let at = usize::from(input.u16()) % len;
        match input.u8() % 7 {
            0 => {
                let x = input.u8();
                if let Some(b) = frame.get_mut(at) {
                    *b ^= x;
                }
            }
            1 => {
                let v = input.u8();
                if let Some(b) = frame.get_mut(at) {
                    *b = v;
                }
            }
            2 => frame.truncate(at),
            3 => {
                let extra = input.u8();
                frame.extend(input.bytes(usize::from(extra)));
            }
            4 => {
                // A length, port, option or flag word set to an edge value.
                let v: u16 = input.pick(&[0, 1, 2, 4, 5, 0x0f, 0x40, 0xff, 0x7fff, 0x8000, 0xffff]);
                if at + 1 < frame.len() {
                    frame[at..at + 2].copy_from_slice(&v.to_be_bytes());
                }
            }
            5 => {
                let bit = input.u8();
                if let Some(b) = frame.get_mut(at) {
                    *b ^= 1 << (bit % 8);
                }
            }
            _ => {
                // Bytes inserted in the middle (options, extension headers).
                let extra = input.u8() % 48;
                let bytes = input.bytes(usize::from(extra));
                let at = at.min(frame.len());
                frame.splice(at..at, bytes);
            }
        }
    }
    if !input.u8().is_multiple_of(4) {
        fix_checksums(&mut frame);
    }
    frame
}

/// A TCP segment from A to B built around a real one (its addresses, ports and sequence
/// numbers), with flags, options and payload from the input.
fn segment(f: &mut Fixture, input: &mut Input<'_>) -> Option<Vec<u8>> {
    let tcp_frames: Vec<&Vec<u8>> = f
        .seeds
        .iter()
        .chain(f.recent.iter())
        .filter(|fr| tcp_of(fr).is_some())
        .collect();
    let base = tcp_frames[usize::from(input.u16()) % tcp_frames.len()].clone();
    let (src, dst, seq, ack) = tcp_of(&base)?;
    let delta = |input: &mut Input<'_>| match input.u8() % 4 {
        0 => 0,
        1 => i32::from(input.u8() as i8),
        2 => i32::from(input.u16() as i16) * 64,
        _ => input.u32() as i32,
    };
    let control = input.pick(&[
        TcpControl::None,
        TcpControl::Psh,
        TcpControl::Syn,
        TcpControl::Fin,
        TcpControl::Rst,
    ]);
    let payload = {
        let n = input.u8();
        input.bytes(usize::from(n) * 8)
    };
    let flags = input.u8();
    let sack = input.u32();
    let repr = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        control,
        seq_number: TcpSeqNumber(seq.wrapping_add(delta(input))),
        ack_number: (flags & 1 != 0).then(|| TcpSeqNumber(ack.wrapping_add(delta(input)))),
        window_len: input.u16(),
        window_scale: (flags & 2 != 0).then(|| input.u8() % 20),
        max_seg_size: (flags & 4 != 0).then(|| input.u16()),
        sack_permitted: flags & 8 != 0,
        sack_ranges: if flags & 16 != 0 {
            [Some((ack as u32, ack as u32 ^ sack)), None, None]
        } else {
            [None; 3]
        },
        timestamp: (flags & 32 != 0).then(|| TcpTimestampRepr {
            tsval: input.u32(),
            tsecr: input.u32(),
        }),
        payload: &payload,
    };
    // Ports of other sockets now and then: a listener, a closed port.
    let dst = match flags >> 6 {
        0 => sa(dst.ip(), input.pick(&[80, 81, 53, dst.port()])),
        _ => dst,
    };
    if repr.buffer_len() + 60 > FRAME_LEN {
        return None;
    }
    Some(tcp_frame(src, dst, &repr))
}

/// The endpoints and sequence numbers of a TCP frame from A to B.
fn tcp_of(frame: &[u8]) -> Option<(SocketAddr, SocketAddr, i32, i32)> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.src_addr() != EthernetAddress(MAC_A) {
        return None;
    }
    let (src, dst, payload): (IpAddr, IpAddr, &[u8]) = match eth.ethertype() {
        EthernetProtocol::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            if ip.next_header() != IpProtocol::Tcp {
                return None;
            }
            (ip.src_addr().into(), ip.dst_addr().into(), ip.payload())
        }
        EthernetProtocol::Ipv6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            if ip.next_header() != IpProtocol::Tcp {
                return None;
            }
            (ip.src_addr().into(), ip.dst_addr().into(), ip.payload())
        }
        _ => return None,
    };
    let tcp = TcpPacket::new_checked(payload).ok()?;
    Some((
        sa(src, tcp.src_port()),
        sa(dst, tcp.dst_port()),
        tcp.seq_number().0,
        tcp.ack_number().0,
    ))
}

/// Hands `frame` to B; if its receive queue is full, B runs first (what it sends is lost).
fn feed(f: &mut Fixture, frame: &[u8]) {
    let b = &mut f.w.b;
    if !b.receive(frame) && frame.len() <= FRAME_LEN {
        b.poll(f.w.now);
        while b.next_frame().is_some() {
            b.sent();
        }
        assert!(b.receive(frame), "room after a poll");
    }
}

/// The results of socket calls: whatever happens, a value within the contract.
fn check_io(r: Poll<Result<usize, petrel_stack::StackError>>, len: usize) {
    if let Poll::Ready(Ok(n)) = r {
        assert!(n <= len);
    }
}

fn step(f: &mut Fixture, input: &mut Input<'_>) {
    let p = Probe::new();
    match input.u8() % 12 {
        // Random bytes.
        0 => {
            let n = match input.u8() % 4 {
                0 => usize::from(input.u16()) % (FRAME_LEN + 32),
                _ => usize::from(input.u8()),
            };
            let body = input.bytes(n);
            let frame = match input.u8() % 4 {
                // Fully random.
                0 => body,
                // Random after an Ethernet header for B (or broadcast).
                1 => {
                    let mut frame = input.pick(&[MAC_B, [0xff; 6]]).to_vec();
                    frame.extend_from_slice(&MAC_A);
                    let ethertype: u16 = input.pick(&[0x0800, 0x86dd, 0x0806, 0x8100]);
                    frame.extend_from_slice(&ethertype.to_be_bytes());
                    frame.extend(body);
                    frame
                }
                // A random transport payload in a valid IP packet, checksums right.
                _ => {
                    let fam = input.pick(&[Fam::V4, Fam::V6]);
                    let unknown = IpProtocol::Unknown(input.u8());
                    let protocol = input.pick(&[
                        IpProtocol::Tcp,
                        IpProtocol::Udp,
                        IpProtocol::Icmp,
                        IpProtocol::Icmpv6,
                        IpProtocol::HopByHop,
                        IpProtocol::Ipv6Route,
                        IpProtocol::Ipv6Frag,
                        unknown,
                    ]);
                    let body = &body[..body.len().min(1400)];
                    let mut frame = ip_frame(fam.a(), fam.b(), protocol, body.len(), |b| {
                        b.copy_from_slice(body)
                    });
                    fix_checksums(&mut frame);
                    frame
                }
            };
            feed(f, &frame);
        }
        // A mutated real frame.
        1..=4 => {
            let frame = mutated(f, input);
            feed(f, &frame);
        }
        // A TCP segment around real sequence numbers.
        5 | 6 => {
            if let Some(frame) = segment(f, input) {
                feed(f, &frame);
            }
        }
        // B runs after a while; what it sends is lost.
        7 => {
            let ms = input.pick(&[0, 1, 10, 200, 1000, 3000, 10_000, 61_000]);
            f.w.now += Duration::from_millis(ms);
            f.w.b.poll(f.w.now);
            while f.w.b.next_frame().is_some() {
                f.w.b.sent();
            }
        }
        // A and B talk for a few milliseconds.
        8 => {
            f.w.capture = true;
            for _ in 0..1 + input.u8() % 8 {
                f.w.a.poll(f.w.now);
                f.w.b.poll(f.w.now);
                f.w.carry();
                f.w.now += Duration::from_millis(1);
            }
            f.w.capture = false;
            for (side, frame) in f.w.frames.drain(..) {
                if side == Side::A {
                    if f.recent.len() == 16 {
                        f.recent.pop_front();
                    }
                    f.recent.push_back(frame);
                }
            }
        }
        // B's application.
        9 | 10 => {
            let b = &mut f.w.b;
            let pick = usize::from(input.u8());
            let stream = (!f.streams.is_empty()).then(|| f.streams[pick % f.streams.len()]);
            let mut buf = [0; 512];
            match (input.u8() % 8, stream) {
                (0, Some(s)) => check_io(b.tcp_poll_read(s, &mut p.cx(), &mut buf), 512),
                (1, Some(s)) => {
                    let n = usize::from(input.u16()) % 40_000;
                    let data = vec![0x5a; n];
                    check_io(b.tcp_poll_write(s, &mut p.cx(), &data), n);
                }
                (2, Some(s)) => {
                    let _ = b.tcp_poll_shutdown(s);
                }
                (3, Some(s)) => {
                    b.close(s);
                    f.streams.retain(|&x| x != s);
                }
                (4, _) => {
                    for l in f.listeners {
                        for _ in 0..2 * MAX_READY {
                            match b.tcp_poll_accept(l, &mut p.cx()) {
                                Poll::Ready(Ok((s, _))) => {
                                    f.streams.push(s);
                                    f.opened += 1;
                                }
                                _ => break,
                            }
                        }
                    }
                }
                (5, _) => {
                    for u in f.udp {
                        let r = b.udp_poll_recv_from(u, &mut p.cx(), &mut buf);
                        check_io(r.map_ok(|(n, _)| n), 512);
                    }
                }
                (6, _) => {
                    let (u, to) = match input.u8() % 2 {
                        0 => (f.udp[0], sa(Fam::V4.a(), 5353)),
                        _ => (f.udp[1], sa(Fam::V6.a(), 5353)),
                    };
                    let n = usize::from(input.u16()) % 2000;
                    check_io(b.udp_poll_send_to(u, &mut p.cx(), &vec![7; n], to), n);
                }
                _ => {
                    if let Some(s) = stream {
                        let _ = b.tcp_peer_addr(s);
                        let _ = b.local_addr(s);
                    }
                }
            }
        }
        // A's application: traffic for the next exchange.
        _ => {
            let a = &mut f.w.a;
            let n = usize::from(input.u16()) % 5000;
            match input.u8() % 3 {
                0 => {
                    let u = f.a_udp[usize::from(input.u8()) % 2];
                    let to = if u == f.a_udp[0] {
                        sa(Fam::V4.b(), 53)
                    } else {
                        sa(Fam::V6.b(), 53)
                    };
                    let _ = a.udp_poll_send_to(u, &mut p.cx(), &vec![1; n % 1400], to);
                }
                1 => {
                    for &c in &f.a_streams {
                        let _ = a.tcp_poll_write(c, &mut p.cx(), &vec![2; n]);
                        let _ = a.tcp_poll_read(c, &mut p.cx(), &mut [0; 4096]);
                    }
                }
                _ => {
                    let fam = input.pick(&[Fam::V4, Fam::V6]);
                    if let Ok(c) = a.tcp_connect(sa(fam.b(), 80)) {
                        f.a_streams.push(c);
                    }
                }
            }
        }
    }
}

/// B's bounds: its queues, its sockets (the listeners' pools, the UDP sockets, and every
/// connection it ever handed out, which may linger until closed and timed out), the
/// inboxes of its UDP sockets.
fn check_bounds(f: &Fixture) {
    let b = &f.w.b;
    let (rx, tx) = b.queued();
    assert!(rx <= RX_QUEUE && tx <= TX_QUEUE, "queues {rx} {tx}");
    let bound = 2 * MAX_LISTENER_SOCKETS + 2 + f.opened;
    assert!(b.socket_count() <= bound, "{} > {bound}", b.socket_count());
    for inbox in b.inboxes.values() {
        assert!(inbox.datagrams.len() <= UDP_PACKETS && inbox.bytes <= UDP_BUFFER);
    }
}

/// Closes every handle of B and runs its clock past every timeout, A gone: nothing left.
fn check_no_leak(mut f: Fixture) {
    let b = &mut f.w.b;
    for h in f.listeners.into_iter().chain(f.udp).chain(f.streams) {
        b.close(h);
    }
    let mut now = f.w.now;
    let end = now + Duration::from_secs(900);
    for _ in 0..100_000 {
        b.poll(now);
        while b.next_frame().is_some() {
            b.sent();
        }
        match b.poll_delay(now) {
            Some(d) if now < end => now += d.max(Duration::from_millis(1)),
            _ => break,
        }
    }
    assert_eq!(b.socket_count(), 0, "sockets left: {b:?}");
    assert!(b.entries.is_empty() && b.closing.is_empty() && b.inboxes.is_empty());
    assert_eq!(b.poll_delay(now), None, "no timer left");
}

static INPUTS: AtomicU64 = AtomicU64::new(0);

fn fuzz_one(data: &[u8]) {
    INPUTS.fetch_add(1, Ordering::Relaxed);
    let mut f = fixture();
    let mut input = Input::new(data);
    let mut ops = 0;
    while !input.exhausted() || ops < MIN_OPS {
        step(&mut f, &mut input);
        check_bounds(&f);
        ops += 1;
    }
    check_no_leak(f);
}

#[test]
fn fuzz_receive() {
    let start = std::time::Instant::now();
    bolero::check!().for_each(fuzz_one);
    std::println!(
        "fuzz_receive: {} inputs in {:.1} s",
        INPUTS.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
}
