//! UDP through two engines, and ICMP echo.

use super::*;
use crate::sockets::{UDP_BUFFER, UDP_PACKETS};
use petrel_stack::StackError;
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, Icmpv6Repr};
use std::vec;

/// Receives one datagram on `u` of `side`, which must be there.
fn recv(w: &mut Wire, side: Side, u: u64, len: usize) -> (Vec<u8>, SocketAddr) {
    let p = Probe::new();
    let mut buf = vec![0; len];
    let (n, from) = ready(w.side(side).udp_poll_recv_from(u, &mut p.cx(), &mut buf)).unwrap();
    buf.truncate(n);
    (buf, from)
}

#[test]
fn udp_both_ways_both_families() {
    let mut w = Wire::new();
    for fam in [Fam::V4, Fam::V6] {
        let ua = w.a.udp_bind(sa(fam.any(), 0)).unwrap();
        let ub = w.b.udp_bind(sa(fam.b(), 5353)).unwrap();
        let a_addr = w.a.local_addr(ua).unwrap();
        assert_eq!(a_addr.ip(), fam.any());
        assert!(a_addr.port() >= 49152);
        assert_eq!(w.b.local_addr(ub), Ok(sa(fam.b(), 5353)));
        let p = Probe::new();
        let mut buf = [0; 64];
        assert!(
            w.b.udp_poll_recv_from(ub, &mut p.cx(), &mut buf)
                .is_pending()
        );
        assert_eq!(
            ready(w.a.udp_poll_send_to(ua, &mut p.cx(), b"query", sa(fam.b(), 5353))),
            Ok(5)
        );
        w.run();
        // smoltcp sends one neighbour request per second (ARP, then NDP here).
        w.advance(1000);
        assert!(p.wakes() > 0, "the receiver was woken");
        let (data, from) = recv(&mut w, Side::B, ub, 64);
        assert_eq!(
            (data.as_slice(), from),
            (&b"query"[..], sa(fam.a(), a_addr.port()))
        );
        assert_eq!(
            ready(w.b.udp_poll_send_to(ub, &mut p.cx(), b"answer", from)),
            Ok(6)
        );
        w.run();
        let (data, from_b) = recv(&mut w, Side::A, ua, 64);
        assert_eq!(
            (data.as_slice(), from_b),
            (&b"answer"[..], sa(fam.b(), 5353))
        );
        // Empty datagrams are datagrams.
        assert_eq!(
            ready(w.b.udp_poll_send_to(ub, &mut p.cx(), b"", from)),
            Ok(0)
        );
        w.run();
        assert_eq!(recv(&mut w, Side::A, ua, 64).0, b"");
        w.a.close(ua);
        w.b.close(ub);
    }
    assert_eq!((w.a.socket_count(), w.b.socket_count()), (0, 0));
}

#[test]
fn udp_truncates_to_the_buffer_given() {
    let mut w = Wire::new();
    let ua = w.a.udp_bind(sa(Fam::V6.any(), 0)).unwrap();
    let ub = w.b.udp_bind(sa(Fam::V6.any(), 7)).unwrap();
    let p = Probe::new();
    let big: Vec<u8> = (0..1200u32).map(|i| i as u8).collect();
    ready(w.a.udp_poll_send_to(ua, &mut p.cx(), &big, sa(Fam::V6.b(), 7))).unwrap();
    ready(w.a.udp_poll_send_to(ua, &mut p.cx(), b"next", sa(Fam::V6.b(), 7))).unwrap();
    w.run();
    // The rest of the datagram is discarded, not read by the next call.
    assert_eq!(recv(&mut w, Side::B, ub, 100).0, &big[..100]);
    assert_eq!(recv(&mut w, Side::B, ub, 100).0, b"next");
    assert!(recv_pending(&mut w, ub));
}

fn recv_pending(w: &mut Wire, u: u64) -> bool {
    let p = Probe::new();
    w.b.udp_poll_recv_from(u, &mut p.cx(), &mut [0; 8])
        .is_pending()
}

#[test]
fn udp_send_errors() {
    let mut w = Wire::new();
    let p = Probe::new();
    let u4 = w.a.udp_bind(sa(Fam::V4.any(), 0)).unwrap();
    let u6 = w.a.udp_bind(sa(Fam::V6.a(), 0)).unwrap();
    let e = &mut w.a;
    // The other family, an unspecified address, port 0.
    for (u, to) in [
        (u4, sa(Fam::V6.b(), 9)),
        (u6, sa(Fam::V4.b(), 9)),
        (u4, sa(Fam::V4.any(), 9)),
        (u6, sa(Fam::V6.b(), 0)),
    ] {
        assert_eq!(
            e.udp_poll_send_to(u, &mut p.cx(), b"x", to),
            Poll::Ready(Err(StackError::InvalidInput)),
            "{to}"
        );
    }
    // Larger than the send buffer.
    let huge = vec![0; UDP_BUFFER + 1];
    assert_eq!(
        e.udp_poll_send_to(u4, &mut p.cx(), &huge, sa(Fam::V4.b(), 9)),
        Poll::Ready(Err(StackError::MessageTooLong))
    );
}

#[test]
fn udp_back_pressure() {
    // A full send buffer makes send_to pending until the driver sends.
    let mut w = Wire::new();
    let p = Probe::new();
    let u = w.a.udp_bind(sa(Fam::V4.any(), 0)).unwrap();
    let ub = w.b.udp_bind(sa(Fam::V4.any(), 9)).unwrap();
    let to = sa(Fam::V4.b(), 9);
    let mut sent = 0;
    while let Poll::Ready(r) = w.a.udp_poll_send_to(u, &mut p.cx(), &[sent as u8; 100], to) {
        assert_eq!(r, Ok(100));
        sent += 1;
        assert!(sent <= UDP_PACKETS, "the send buffer is bounded");
    }
    assert_eq!(sent, UDP_PACKETS);
    w.run();
    assert!(p.wakes() > 0, "the sender was woken");
    // Every datagram arrived (the receive buffer holds as many), in order.
    for i in 0..UDP_PACKETS {
        assert_eq!(recv(&mut w, Side::B, ub, 200).0, [i as u8; 100]);
    }
    assert_eq!(
        ready(w.a.udp_poll_send_to(u, &mut p.cx(), b"more", to)),
        Ok(4)
    );
    w.run();
    assert_eq!(recv(&mut w, Side::B, ub, 200).0, b"more");
}

#[test]
fn udp_bind_errors() {
    let mut w = Wire::new();
    let e = &mut w.b;
    let u = e.udp_bind(sa(Fam::V4.any(), 53)).unwrap();
    assert_eq!(
        e.udp_bind(sa(Fam::V4.any(), 53)),
        Err(StackError::AddrInUse)
    );
    assert_eq!(e.udp_bind(sa(Fam::V4.b(), 53)), Err(StackError::AddrInUse));
    assert_eq!(
        e.udp_bind(sa(Fam::V4.a(), 54)),
        Err(StackError::AddrNotAvailable)
    );
    assert_eq!(
        e.udp_bind(sa("ff02::1".parse().unwrap(), 54)),
        Err(StackError::InvalidInput)
    );
    // The other family may take the same port; a TCP listener too.
    let u6 = e.udp_bind(sa(Fam::V6.any(), 53)).unwrap();
    let l = e.tcp_listen(sa(Fam::V4.any(), 53)).unwrap();
    for h in [u, u6, l] {
        e.close(h);
    }
    w.settle_all();
    assert_eq!(w.b.socket_count(), 0);
}

#[test]
fn udp_same_port_both_families() {
    // Two sockets on port 53 of B, one per family: each gets its own family's datagrams, in
    // order, whichever was bound first and whether bound to an unspecified address or not.
    let binds = [
        [sa(Fam::V4.any(), 53), sa(Fam::V6.any(), 53)],
        [sa(Fam::V6.any(), 53), sa(Fam::V4.any(), 53)],
        [sa(Fam::V4.b(), 53), sa(Fam::V6.any(), 53)],
        [sa(Fam::V6.any(), 53), sa(Fam::V4.b(), 53)],
        [sa(Fam::V6.b(), 53), sa(Fam::V4.any(), 53)],
        [sa(Fam::V4.any(), 53), sa(Fam::V6.b(), 53)],
    ];
    for [first, second] in binds {
        let mut w = Wire::new();
        let u1 = w.b.udp_bind(first).unwrap();
        let u2 = w.b.udp_bind(second).unwrap();
        let (u4, u6) = if first.is_ipv4() { (u1, u2) } else { (u2, u1) };
        let a4 = w.a.udp_bind(sa(Fam::V4.any(), 0)).unwrap();
        let a6 = w.a.udp_bind(sa(Fam::V6.any(), 0)).unwrap();
        let (p, p4, p6) = (Probe::new(), Probe::new(), Probe::new());
        for round in 0..3u8 {
            assert!(
                w.b.udp_poll_recv_from(u4, &mut p4.cx(), &mut [0; 8])
                    .is_pending()
            );
            assert!(
                w.b.udp_poll_recv_from(u6, &mut p6.cx(), &mut [0; 8])
                    .is_pending()
            );
            for i in 0..3 {
                let to6 = sa(Fam::V6.b(), 53);
                let to4 = sa(Fam::V4.b(), 53);
                ready(w.a.udp_poll_send_to(a6, &mut p.cx(), &[6, round, i], to6)).unwrap();
                ready(w.a.udp_poll_send_to(a4, &mut p.cx(), &[4, round, i], to4)).unwrap();
            }
            // The first round resolves the neighbours, one request per second.
            w.run();
            w.advance(1000);
            let wakes = (p4.wakes(), p6.wakes());
            assert!(wakes.0 > 0 && wakes.1 > 0, "{first} {round}: {wakes:?}");
            for i in 0..3 {
                let (d6, f6) = recv(&mut w, Side::B, u6, 8);
                assert_eq!((d6, f6.ip()), (vec![6, round, i], Fam::V6.a()), "{first}");
            }
            for i in 0..3 {
                let (d4, f4) = recv(&mut w, Side::B, u4, 8);
                assert_eq!((d4, f4.ip()), (vec![4, round, i], Fam::V4.a()), "{first}");
            }
            assert!(recv_pending(&mut w, u4) && recv_pending(&mut w, u6));
        }
        // Either one closed, the other goes on.
        w.b.close(u4);
        let to6 = sa(Fam::V6.b(), 53);
        ready(w.a.udp_poll_send_to(a6, &mut p.cx(), b"alone", to6)).unwrap();
        w.run();
        assert_eq!(recv(&mut w, Side::B, u6, 8).0, b"alone");
        w.b.close(u6);
        assert_eq!(w.b.socket_count(), 0);
        assert!(w.b.inboxes.is_empty(), "no inbox left behind");
    }
}

/// An ICMP echo request from A to B, and B's answer.
pub(super) fn ping(w: &mut Wire, fam: Fam, data: &[u8]) -> Option<Vec<u8>> {
    let frame = match fam {
        Fam::V4 => {
            let repr = Icmpv4Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 7,
                data,
            };
            ip_frame(fam.a(), fam.b(), IpProtocol::Icmp, repr.buffer_len(), |b| {
                repr.emit(
                    &mut Icmpv4Packet::new_unchecked(b),
                    &ChecksumCapabilities::default(),
                )
            })
        }
        Fam::V6 => {
            let repr = Icmpv6Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 7,
                data,
            };
            ip_frame(
                fam.a(),
                fam.b(),
                IpProtocol::Icmpv6,
                repr.buffer_len(),
                |b| {
                    repr.emit(
                        &V6_A,
                        &V6_B,
                        &mut Icmpv6Packet::new_unchecked(b),
                        &ChecksumCapabilities::default(),
                    )
                },
            )
        }
    };
    let start = w.frames.len();
    assert!(w.b.receive(&frame));
    w.run();
    w.frames[start..]
        .iter()
        .filter(|(side, _)| *side == Side::B)
        .find_map(|(_, f)| echo_reply(f, fam))
}

/// The data of an echo reply (ident 0x1234, seq 7) in `frame`.
fn echo_reply(frame: &[u8], fam: Fam) -> Option<Vec<u8>> {
    let caps = ChecksumCapabilities::default();
    let eth = EthernetFrame::new_checked(frame).ok()?;
    match fam {
        Fam::V4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            let repr = Ipv4Repr::parse(&ip, &caps).ok()?;
            assert_eq!((repr.src_addr, repr.dst_addr), (V4_B, V4_A));
            let icmp = Icmpv4Packet::new_checked(ip.payload()).ok()?;
            match Icmpv4Repr::parse(&icmp, &caps).ok()? {
                Icmpv4Repr::EchoReply {
                    ident: 0x1234,
                    seq_no: 7,
                    data,
                } => Some(data.to_vec()),
                _ => None,
            }
        }
        Fam::V6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            let icmp = Icmpv6Packet::new_checked(ip.payload()).ok()?;
            let repr = Icmpv6Repr::parse(&ip.src_addr(), &ip.dst_addr(), &icmp, &caps).ok()?;
            match repr {
                Icmpv6Repr::EchoReply {
                    ident: 0x1234,
                    seq_no: 7,
                    data,
                } => Some(data.to_vec()),
                _ => None,
            }
        }
    }
}

#[test]
fn icmp_echo() {
    let mut w = Wire::new();
    for fam in [Fam::V4, Fam::V6] {
        // B learns A's hardware address from the wire (it asks if it has to), then answers.
        let mut reply = None;
        for _ in 0..3 {
            reply = ping(&mut w, fam, b"are you there?");
            if reply.is_some() {
                break;
            }
            w.advance(1000);
        }
        assert_eq!(reply.as_deref(), Some(&b"are you there?"[..]), "{fam:?}");
    }
    assert_eq!(w.b.socket_count(), 0, "pings take no socket");
}

#[test]
fn udp_datagrams_must_fit_one_frame() {
    // No IP fragmentation: the largest datagram fills one 1514-byte frame; one byte more is
    // refused rather than accepted and silently dropped.
    let mut w = Wire::new();
    let p = Probe::new();
    for (fam, largest) in [(Fam::V4, 1500 - 20 - 8), (Fam::V6, 1500 - 40 - 8)] {
        let ua = w.a.udp_bind(sa(fam.any(), 0)).unwrap();
        let ub = w.b.udp_bind(sa(fam.any(), 9)).unwrap();
        let to = sa(fam.b(), 9);
        let data: Vec<u8> = (0..largest + 1).map(|i| i as u8).collect();
        assert_eq!(
            w.a.udp_poll_send_to(ua, &mut p.cx(), &data, to),
            Poll::Ready(Err(StackError::MessageTooLong))
        );
        assert_eq!(
            ready(w.a.udp_poll_send_to(ua, &mut p.cx(), &data[..largest], to)),
            Ok(largest)
        );
        w.run();
        w.advance(1000);
        assert_eq!(recv(&mut w, Side::B, ub, 2000).0, &data[..largest]);
        w.a.close(ua);
        w.b.close(ub);
    }
}
