//! TCP through two engines: connections, back-pressure, shutdown, family routing, errors,
//! SYN floods, and the sockets a closed connection leaves (none).

use super::*;
use crate::engine::{
    BACKLOG, MAX_HALF_OPEN, MAX_LISTENER_SOCKETS, MAX_READY, TCP_BUFFER, TCP_TIMEOUT,
};
use petrel_stack::StackError;
use std::vec;

/// A connection from A to B's listener `l`: (A's handle, B's handle).
pub(super) fn connect(w: &mut Wire, l: u64, to: SocketAddr) -> (u64, u64) {
    let (pc, pa) = (Probe::new(), Probe::new());
    assert!(w.b.tcp_poll_accept(l, &mut pa.cx()).is_pending());
    let c = w.a.tcp_connect(to).unwrap();
    assert!(w.a.tcp_poll_connect(c, &mut pc.cx()).is_pending());
    // smoltcp sends one neighbour request per second: the clock may have to move.
    for _ in 0..30 {
        w.advance(100);
        if pa.wakes() > 0 {
            break;
        }
    }
    assert!(pc.wakes() > 0, "connect woke its task");
    assert!(pa.wakes() > 0, "accept woke its task");
    assert_eq!(w.a.tcp_poll_connect(c, &mut pc.cx()), Poll::Ready(Ok(())));
    let (s, peer) = ready(w.b.tcp_poll_accept(l, &mut pa.cx())).unwrap();
    assert_eq!(
        Ok(peer),
        w.a.local_addr(c),
        "accept returns the peer address"
    );
    assert_eq!(w.b.tcp_peer_addr(s), Ok(peer));
    assert_eq!(w.a.tcp_peer_addr(c), Ok(to));
    assert_eq!(w.b.local_addr(s), Ok(to));
    (c, s)
}

/// Writes `data` on `tx` of `from` and reads it on `rx` of the other side, running the wire
/// and the clock in between; checks that back-pressure showed (partial writes, pending
/// writes, wakes when room came back) and that everything arrived in order.
pub(super) fn transfer(w: &mut Wire, from: Side, tx: u64, rx: u64, data: &[u8]) {
    let to = if from == Side::A { Side::B } else { Side::A };
    let (pw, pr) = (Probe::new(), Probe::new());
    let (mut sent, mut got) = (0, Vec::new());
    let (mut partial, mut pending) = (0, 0);
    let mut buf = vec![0; 10_000];
    for _ in 0..100_000 {
        if got.len() == data.len() {
            break;
        }
        while let Poll::Ready(r) = w.side(to).tcp_poll_read(rx, &mut pr.cx(), &mut buf) {
            let n = r.unwrap();
            assert!(n > 0, "no end of stream in the middle");
            got.extend_from_slice(&buf[..n]);
        }
        while sent < data.len() {
            match w.side(from).tcp_poll_write(tx, &mut pw.cx(), &data[sent..]) {
                Poll::Ready(Ok(n)) => {
                    assert!(n > 0 && n <= TCP_BUFFER);
                    if n < data.len() - sent {
                        partial += 1;
                    }
                    sent += n;
                }
                Poll::Ready(Err(e)) => panic!("write: {e}"),
                Poll::Pending => {
                    pending += 1;
                    break;
                }
            }
        }
        w.advance(1);
        while let Poll::Ready(r) = w.side(to).tcp_poll_read(rx, &mut pr.cx(), &mut buf) {
            let n = r.unwrap();
            assert!(n > 0, "no end of stream in the middle");
            got.extend_from_slice(&buf[..n]);
        }
        w.advance(1);
    }
    assert!(
        got == data,
        "{} of {} bytes, in order",
        got.len(),
        data.len()
    );
    if data.len() > TCP_BUFFER {
        assert!(
            partial > 0 && pending > 0,
            "back-pressure: {partial} {pending}"
        );
        assert!(
            pw.wakes() > 0,
            "a pending writer is woken when room comes back"
        );
    }
    assert!(pr.wakes() > 0, "a pending reader is woken when bytes come");
}

/// Reads until end of stream; the bytes read.
fn read_to_end(w: &mut Wire, side: Side, s: u64) -> Vec<u8> {
    let p = Probe::new();
    let mut out = Vec::new();
    let mut buf = [0; 4096];
    for _ in 0..1000 {
        match w.side(side).tcp_poll_read(s, &mut p.cx(), &mut buf) {
            Poll::Ready(Ok(0)) => return out,
            Poll::Ready(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Poll::Ready(Err(e)) => panic!("read: {e}"),
            Poll::Pending => w.advance(10),
        }
    }
    panic!("no end of stream");
}

fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt) ^ (i >> 8) as u8)
        .collect()
}

fn round_trip(fam: Fam) {
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(fam.any(), 7)).unwrap();
    assert_eq!(
        w.b.socket_count(),
        BACKLOG,
        "a listener keeps BACKLOG sockets"
    );
    let (c, s) = connect(&mut w, l, sa(fam.b(), 7));
    assert_eq!(w.a.tcp_peer_addr(c).unwrap().ip(), fam.b());
    assert_eq!(w.b.tcp_peer_addr(s).unwrap().ip(), fam.a());
    assert_eq!(w.b.socket_count(), BACKLOG + 1, "the pool was topped up");

    // Small messages both ways, then more than the buffers hold, both ways.
    transfer(&mut w, Side::A, c, s, b"hello");
    transfer(&mut w, Side::B, s, c, b"world");
    transfer(&mut w, Side::A, c, s, &pattern(5 * TCP_BUFFER + 123, 1));
    transfer(&mut w, Side::B, s, c, &pattern(3 * TCP_BUFFER + 7, 2));

    // Shutdown: the peer reads what was queued, then end of stream; the other way goes on.
    let p = Probe::new();
    assert_eq!(ready(w.a.tcp_poll_write(c, &mut p.cx(), b"last")), Ok(4));
    assert_eq!(w.a.tcp_poll_shutdown(c), Poll::Ready(Ok(())));
    assert_eq!(
        w.a.tcp_poll_write(c, &mut p.cx(), b"x"),
        Poll::Ready(Err(StackError::Closed))
    );
    assert_eq!(read_to_end(&mut w, Side::B, s), b"last");
    assert_eq!(
        w.b.tcp_poll_read(s, &mut p.cx(), &mut [0; 4]),
        Poll::Ready(Ok(0))
    );
    transfer(&mut w, Side::B, s, c, b"still open");
    assert_eq!(w.b.tcp_poll_shutdown(s), Poll::Ready(Ok(())));
    assert_eq!(read_to_end(&mut w, Side::A, c), b"");

    // Closing frees every socket once the timers ran out.
    w.a.close(c);
    w.b.close(s);
    w.settle_all();
    assert_eq!(w.a.socket_count(), 0, "A keeps nothing");
    assert_eq!(w.b.socket_count(), BACKLOG, "B keeps its listener's pool");
    w.b.close(l);
    w.settle_all();
    assert_eq!(w.b.socket_count(), 0);
}

#[test]
fn tcp_ipv4() {
    round_trip(Fam::V4);
}

#[test]
fn tcp_ipv6() {
    round_trip(Fam::V6);
}

#[test]
fn close_without_shutdown_frees_both_sides() {
    for fam in [Fam::V4, Fam::V6] {
        let mut w = Wire::new();
        let l = w.b.tcp_listen(sa(fam.any(), 80)).unwrap();
        let (c, s) = connect(&mut w, l, sa(fam.b(), 80));
        transfer(&mut w, Side::A, c, s, &pattern(1000, 3));
        // B closes with bytes still queued: they are sent, then the FIN.
        let p = Probe::new();
        let data = pattern(2 * TCP_BUFFER, 4);
        let n = ready(w.b.tcp_poll_write(s, &mut p.cx(), &data)).unwrap();
        w.b.close(s);
        assert_eq!(read_to_end(&mut w, Side::A, c), &data[..n]);
        w.a.close(c);
        w.b.close(l);
        w.settle_all();
        assert_eq!((w.a.socket_count(), w.b.socket_count()), (0, 0));
    }
}

#[test]
fn a_peer_that_vanishes_is_timed_out() {
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let (_c, s) = connect(&mut w, l, sa(Fam::V4.b(), 80));
    // B writes and closes; A is gone: nothing B sends is answered.
    let p = Probe::new();
    ready(w.b.tcp_poll_write(s, &mut p.cx(), b"anyone?")).unwrap();
    w.b.close(s);
    w.mute_b = true;
    w.settle_all();
    assert_eq!(w.b.socket_count(), BACKLOG, "the connection was given up");
}

#[test]
fn family_routing_one_listener() {
    // A listener on 0.0.0.0 only: an IPv6 connection to its port is not given to it.
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let pa = Probe::new();
    assert!(w.b.tcp_poll_accept(l, &mut pa.cx()).is_pending());
    let c = w.a.tcp_connect(sa(Fam::V6.b(), 80)).unwrap();
    w.settle(Duration::from_secs(1));
    let p = Probe::new();
    let refused = match w.a.tcp_poll_connect(c, &mut p.cx()) {
        Poll::Ready(Err(StackError::Refused)) => true,
        Poll::Ready(Ok(())) => {
            // The handshake completed before B routed it: it must be reset right away.
            w.a.tcp_poll_read(c, &mut p.cx(), &mut [0; 8]) == Poll::Ready(Err(StackError::Reset))
        }
        other => panic!("{other:?}"),
    };
    assert!(refused, "the IPv6 connection was reset");
    assert!(w.b.tcp_poll_accept(l, &mut pa.cx()).is_pending());
    assert_eq!(pa.wakes(), 0, "the IPv4 listener was not woken");
    w.a.close(c);
    w.settle_all();
    assert_eq!(w.a.socket_count(), 0);
    assert_eq!(w.b.socket_count(), BACKLOG);
    // IPv4 still works on it.
    let (c, s) = connect(&mut w, l, sa(Fam::V4.b(), 80));
    transfer(&mut w, Side::A, c, s, b"v4");
}

#[test]
fn family_routing_two_listeners() {
    let mut w = Wire::new();
    let l4 = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let l6 = w.b.tcp_listen(sa(Fam::V6.any(), 80)).unwrap();
    assert_eq!(w.b.socket_count(), 2 * BACKLOG);
    for _ in 0..3 {
        for (fam, mine, other) in [(Fam::V6, l6, l4), (Fam::V4, l4, l6)] {
            let p = Probe::new();
            assert!(w.b.tcp_poll_accept(other, &mut p.cx()).is_pending());
            let (c, s) = connect(&mut w, mine, sa(fam.b(), 80));
            assert_eq!(w.b.tcp_peer_addr(s).unwrap().ip(), fam.a());
            assert!(w.b.tcp_poll_accept(other, &mut p.cx()).is_pending());
            assert_eq!(p.wakes(), 0, "the other family's listener was not woken");
            transfer(&mut w, Side::A, c, s, b"ping");
            transfer(&mut w, Side::B, s, c, b"pong");
            w.a.close(c);
            w.b.close(s);
        }
    }
    w.settle_all();
    assert_eq!(w.b.socket_count(), 2 * BACKLOG);
    w.b.close(l4);
    w.settle_all();
    assert_eq!(w.b.socket_count(), BACKLOG);
    // With the IPv4 listener gone, IPv6 goes on.
    let (c, s) = connect(&mut w, l6, sa(Fam::V6.b(), 80));
    transfer(&mut w, Side::A, c, s, b"still");
}

#[test]
fn listener_on_a_specific_address() {
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(Fam::V6.b(), 8080)).unwrap();
    assert_eq!(w.b.local_addr(l), Ok(sa(Fam::V6.b(), 8080)));
    let (c, s) = connect(&mut w, l, sa(Fam::V6.b(), 8080));
    transfer(&mut w, Side::A, c, s, b"specific");
    // The same port on the other family is free.
    let l4 = w.b.tcp_listen(sa(Fam::V4.any(), 8080)).unwrap();
    let (c, s) = connect(&mut w, l4, sa(Fam::V4.b(), 8080));
    transfer(&mut w, Side::A, c, s, b"other family");
}

#[test]
fn listen_errors_and_ephemeral_ports() {
    let mut w = Wire::new();
    let e = &mut w.b;
    let l = e.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    // Same family and port: in use, whatever the address.
    assert_eq!(
        e.tcp_listen(sa(Fam::V4.any(), 80)),
        Err(StackError::AddrInUse)
    );
    assert_eq!(
        e.tcp_listen(sa(Fam::V4.b(), 80)),
        Err(StackError::AddrInUse)
    );
    // The other family is free.
    let l6 = e.tcp_listen(sa(Fam::V6.any(), 80)).unwrap();
    assert_eq!(
        e.tcp_listen(sa(Fam::V6.b(), 80)),
        Err(StackError::AddrInUse)
    );
    // Addresses that are not ours.
    for ip in [Fam::V4.a(), Fam::V6.a(), "192.168.1.1".parse().unwrap()] {
        assert_eq!(e.tcp_listen(sa(ip, 81)), Err(StackError::AddrNotAvailable));
    }
    assert_eq!(
        e.tcp_listen(sa("224.0.0.1".parse().unwrap(), 81)),
        Err(StackError::InvalidInput)
    );
    // Port 0 picks an ephemeral port, a different one each time.
    let p1 = e.tcp_listen(sa(Fam::V4.any(), 0)).unwrap();
    let p2 = e.tcp_listen(sa(Fam::V6.b(), 0)).unwrap();
    let a1 = e.local_addr(p1).unwrap();
    let a2 = e.local_addr(p2).unwrap();
    assert_eq!(a1.ip(), Fam::V4.any());
    assert_eq!(a2.ip(), Fam::V6.b());
    assert!(a1.port() >= 49152 && a2.port() >= 49152 && a1.port() != a2.port());
    // Closing frees the port.
    e.close(l);
    let l = e.tcp_listen(sa(Fam::V4.b(), 80)).unwrap();
    // And a connection to the ephemeral port works.
    let (c, s) = connect(&mut w, p1, sa(Fam::V4.b(), a1.port()));
    transfer(&mut w, Side::A, c, s, b"ephemeral");
    for h in [l, l6, p1, p2, c, s] {
        w.a.close(h);
        w.b.close(h);
    }
    w.settle_all();
    assert_eq!((w.a.socket_count(), w.b.socket_count()), (0, 0));
}

#[test]
fn connect_errors() {
    let mut w = Wire::new();
    for fam in [Fam::V4, Fam::V6] {
        // Nothing listens: refused, and the socket is freed when closed.
        let c = w.a.tcp_connect(sa(fam.b(), 99)).unwrap();
        let p = Probe::new();
        assert!(w.a.tcp_poll_connect(c, &mut p.cx()).is_pending());
        w.advance(1000);
        assert!(p.wakes() > 0);
        assert_eq!(
            w.a.tcp_poll_connect(c, &mut p.cx()),
            Poll::Ready(Err(StackError::Refused))
        );
        assert_eq!(
            w.a.tcp_poll_read(c, &mut p.cx(), &mut [0; 4]),
            Poll::Ready(Err(StackError::Reset))
        );
        assert_eq!(
            w.a.tcp_poll_write(c, &mut p.cx(), b"x"),
            Poll::Ready(Err(StackError::Reset))
        );
        assert_eq!(w.a.tcp_peer_addr(c), Err(StackError::NotConnected));
        w.a.close(c);
        w.settle_all();
        assert_eq!(w.a.socket_count(), 0);
    }
    // Arguments.
    let e = &mut w.a;
    assert_eq!(
        e.tcp_connect(sa(Fam::V4.any(), 80)),
        Err(StackError::InvalidInput)
    );
    assert_eq!(
        e.tcp_connect(sa(Fam::V6.b(), 0)),
        Err(StackError::InvalidInput)
    );
    assert_eq!(
        e.tcp_connect(sa("ff02::1".parse().unwrap(), 80)),
        Err(StackError::InvalidInput)
    );
    assert_eq!(e.socket_count(), 0, "a refused call allocates nothing");
}

#[test]
fn a_silent_peer_times_the_connect_out() {
    let mut w = Wire::new();
    w.mute_b = true;
    let c = w.a.tcp_connect(sa(Fam::V4.b(), 80)).unwrap();
    let p = Probe::new();
    assert!(w.a.tcp_poll_connect(c, &mut p.cx()).is_pending());
    w.settle_all();
    assert!(p.wakes() > 0);
    assert_eq!(
        w.a.tcp_poll_connect(c, &mut p.cx()),
        Poll::Ready(Err(StackError::TimedOut))
    );
    w.a.close(c);
    w.settle_all();
    assert_eq!(w.a.socket_count(), 0);
}

#[test]
fn handle_errors() {
    let mut w = Wire::new();
    let e = &mut w.b;
    let p = Probe::new();
    let u = e.udp_bind(sa(Fam::V4.any(), 53)).unwrap();
    let l = e.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let unknown = 0xdead_0001;
    let mut buf = [0; 4];
    for (h, err) in [(unknown, StackError::BadHandle), (u, StackError::WrongKind)] {
        assert_eq!(e.tcp_poll_accept(h, &mut p.cx()), Poll::Ready(Err(err)));
        assert_eq!(e.tcp_poll_connect(h, &mut p.cx()), Poll::Ready(Err(err)));
        assert_eq!(
            e.tcp_poll_read(h, &mut p.cx(), &mut buf),
            Poll::Ready(Err(err))
        );
        assert_eq!(
            e.tcp_poll_write(h, &mut p.cx(), b"x"),
            Poll::Ready(Err(err))
        );
        assert_eq!(e.tcp_poll_shutdown(h), Poll::Ready(Err(err)));
        assert_eq!(e.tcp_peer_addr(h), Err(err));
    }
    // A listener is not a connection, and not a UDP socket.
    assert_eq!(
        e.tcp_poll_read(l, &mut p.cx(), &mut buf),
        Poll::Ready(Err(StackError::WrongKind))
    );
    assert_eq!(e.tcp_peer_addr(l), Err(StackError::WrongKind));
    let to = sa(Fam::V4.a(), 9);
    assert_eq!(
        e.udp_poll_send_to(l, &mut p.cx(), b"x", to),
        Poll::Ready(Err(StackError::WrongKind))
    );
    assert_eq!(
        e.udp_poll_recv_from(unknown, &mut p.cx(), &mut buf),
        Poll::Ready(Err(StackError::BadHandle))
    );
    assert_eq!(e.local_addr(unknown), Err(StackError::BadHandle));
    // Closing an unknown handle, or one twice, is ignored.
    let before = e.socket_count();
    e.close(unknown);
    assert_eq!(e.socket_count(), before);
    e.close(u);
    e.close(u);
    assert_eq!(e.local_addr(u), Err(StackError::BadHandle));
    e.close(l);
    e.close(l);
    w.settle_all();
    assert_eq!(w.b.socket_count(), 0);
}

#[test]
fn socket_calls_wake_the_driver() {
    let mut w = Wire::new();
    let driver = Probe::new();
    w.a.driver = Some(driver.waker());
    let c = w.a.tcp_connect(sa(Fam::V4.b(), 80)).unwrap();
    assert_eq!(driver.wakes(), 1, "connect has a SYN to send");
    w.a.close(c);
    assert_eq!(driver.wakes(), 2, "close has a FIN or RST to send");
}

#[test]
fn syn_flood_is_bounded() {
    // `answers`: the spoofed source resets the SYN-ACKs (the half-open sockets go back to
    // listening), or never answers (they time out).
    for (fam, answers) in [
        (Fam::V4, true),
        (Fam::V4, false),
        (Fam::V6, true),
        (Fam::V6, false),
    ] {
        let mut w = Wire::new();
        let l = w.b.tcp_listen(sa(fam.any(), 80)).unwrap();
        let p = Probe::new();
        // Resolve neighbours first so that B can answer (with the SYN-ACKs the flood
        // never acknowledges).
        let (c, s) = connect(&mut w, l, sa(fam.b(), 80));
        w.mute_b = true;
        let mut max = 0;
        for i in 0..2000u32 {
            let src = sa(fam.a(), 10_000 + i as u16);
            let frame = tcp_frame(src, sa(fam.b(), 80), &syn(i.wrapping_mul(7919)));
            if !w.b.receive(&frame) {
                w.b.poll(w.now);
                assert!(w.b.receive(&frame));
            }
            if i % 16 == 0 {
                w.advance(1);
            }
            max = max.max(w.b.socket_count());
        }
        w.run();
        max = max.max(w.b.socket_count());
        // The accepted connection, and the listener's bounded sets.
        assert!(max <= MAX_LISTENER_SOCKETS + 1, "{max} sockets");
        assert!(
            max >= BACKLOG + MAX_HALF_OPEN,
            "the flood filled the half-open set: {max}"
        );
        assert!(w.b.tcp_poll_accept(l, &mut p.cx()).is_pending());
        // The half-open connections are reset or time out; the listener works again.
        w.mute_b = !answers;
        w.a.close(c);
        w.b.close(s);
        w.settle_all();
        w.mute_b = false;
        assert_eq!(
            w.b.socket_count(),
            BACKLOG,
            "back to the pool after the flood"
        );
        let (c, s) = connect(&mut w, l, sa(fam.b(), 80));
        transfer(&mut w, Side::A, c, s, b"after the flood");
    }
}

#[test]
fn connections_not_accepted_are_bounded() {
    // Complete handshakes the application does not accept yet wait in the listener, within
    // MAX_READY; beyond that connections are refused until it accepts.
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let p = Probe::new();
    let mut conns = Vec::new();
    for _ in 0..3 * MAX_READY {
        conns.push(w.a.tcp_connect(sa(Fam::V4.b(), 80)).unwrap());
        w.advance(1);
        assert!(
            w.b.socket_count() <= MAX_LISTENER_SOCKETS,
            "{}",
            w.b.socket_count()
        );
    }
    w.settle(Duration::from_secs(1));
    let mut ok = 0;
    for &c in &conns {
        if w.a.tcp_poll_connect(c, &mut p.cx()) == Poll::Ready(Ok(())) {
            ok += 1;
        }
    }
    let mut accepted = Vec::new();
    while let Poll::Ready(r) = w.b.tcp_poll_accept(l, &mut p.cx()) {
        accepted.push(r.unwrap().0);
    }
    assert!(accepted.len() <= MAX_READY && accepted.len() >= BACKLOG);
    assert_eq!(
        ok,
        accepted.len(),
        "connections beyond the bound were refused"
    );
    // Once accepted, new connections come in again.
    let c = w.a.tcp_connect(sa(Fam::V4.b(), 80)).unwrap();
    w.run();
    assert_eq!(w.a.tcp_poll_connect(c, &mut p.cx()), Poll::Ready(Ok(())));
    accepted.push(ready(w.b.tcp_poll_accept(l, &mut p.cx())).unwrap().0);
    for h in conns.into_iter().chain(accepted).chain([c, l]) {
        w.a.close(h);
        w.b.close(h);
    }
    w.settle_all();
    assert_eq!((w.a.socket_count(), w.b.socket_count()), (0, 0));
}

#[test]
fn connections_not_accepted_are_bounded_per_family() {
    // Listeners on 0.0.0.0:80 and [::]:80: smoltcp may complete an IPv4 handshake on a
    // socket of the IPv6 listener (both listen on any address), which hands it over. The
    // bound holds for the listener receiving it, in either order of listening, with only
    // IPv4 connections or a mix.
    for (v6_first, v6_every) in [(true, 0), (false, 0), (true, 3), (false, 3)] {
        let mut w = Wire::new();
        let (l4, l6) = if v6_first {
            let l6 = w.b.tcp_listen(sa(Fam::V6.any(), 80)).unwrap();
            (w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap(), l6)
        } else {
            let l4 = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
            (l4, w.b.tcp_listen(sa(Fam::V6.any(), 80)).unwrap())
        };
        let p = Probe::new();
        let mut conns = Vec::new();
        for i in 0..3 * MAX_READY {
            let v6 = v6_every > 0 && i % v6_every == 0;
            let fam = if v6 { Fam::V6 } else { Fam::V4 };
            conns.push(w.a.tcp_connect(sa(fam.b(), 80)).unwrap());
            w.advance(1);
            assert!(
                w.b.socket_count() <= 2 * MAX_LISTENER_SOCKETS,
                "{}",
                w.b.socket_count()
            );
        }
        w.settle(Duration::from_secs(2));
        assert!(
            w.b.socket_count() <= 2 * MAX_LISTENER_SOCKETS,
            "{}",
            w.b.socket_count()
        );
        let ok = conns
            .iter()
            .filter(|&&c| w.a.tcp_poll_connect(c, &mut p.cx()) == Poll::Ready(Ok(())))
            .count();
        let mut accepted = Vec::new();
        for (l, fam) in [(l4, Fam::V4), (l6, Fam::V6)] {
            let mut n = 0;
            while let Poll::Ready(r) = w.b.tcp_poll_accept(l, &mut p.cx()) {
                let (s, peer) = r.unwrap();
                assert_eq!(peer.ip(), fam.a(), "each listener gets its family");
                accepted.push(s);
                n += 1;
            }
            assert!(n <= MAX_READY, "{fam:?}: {n} waiting for accept");
        }
        assert!(accepted.len() >= BACKLOG);
        assert_eq!(ok, accepted.len(), "the others were refused");
        for h in conns.into_iter().chain(accepted).chain([l4, l6]) {
            w.a.close(h);
            w.b.close(h);
        }
        w.settle_all();
        assert_eq!((w.a.socket_count(), w.b.socket_count()), (0, 0));
    }
}

#[test]
fn idle_connections_stay_open() {
    // Nothing to send either way for ten minutes: the connection is still there (smoltcp's
    // timeout alone counts from the last segment received, idle or not).
    for fam in [Fam::V4, Fam::V6] {
        let mut w = Wire::new();
        let l = w.b.tcp_listen(sa(fam.any(), 80)).unwrap();
        let (c, s) = connect(&mut w, l, sa(fam.b(), 80));
        transfer(&mut w, Side::A, c, s, b"hello");
        transfer(&mut w, Side::B, s, c, b"world");
        w.settle(Duration::from_secs(600));
        let p = Probe::new();
        assert!(w.b.tcp_poll_read(s, &mut p.cx(), &mut [0; 8]).is_pending());
        assert!(w.a.tcp_poll_read(c, &mut p.cx(), &mut [0; 8]).is_pending());
        transfer(&mut w, Side::A, c, s, b"still there");
        transfer(&mut w, Side::B, s, c, b"yes");
    }
}

#[test]
fn an_idle_peer_that_vanishes_is_given_up() {
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let (c, s) = connect(&mut w, l, sa(Fam::V4.b(), 80));
    transfer(&mut w, Side::A, c, s, b"hello");
    // B goes silent: A gives the idle connection up within twice the timeout.
    w.mute_b = true;
    let start = w.now;
    w.settle(TCP_TIMEOUT * 2);
    let p = Probe::new();
    assert_eq!(
        w.a.tcp_poll_read(c, &mut p.cx(), &mut [0; 8]),
        Poll::Ready(Err(StackError::Reset)),
        "after {}",
        w.now - start
    );
}

#[test]
fn a_closed_connection_does_not_wait_for_the_peer_forever() {
    // B closes; A reads the end of the stream but keeps its side open and answers
    // everything: B's socket is still freed (a FIN-WAIT-2 timeout, as on Linux).
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let (c, s) = connect(&mut w, l, sa(Fam::V4.b(), 80));
    transfer(&mut w, Side::A, c, s, b"request");
    let p = Probe::new();
    ready(w.b.tcp_poll_write(s, &mut p.cx(), b"response")).unwrap();
    w.b.close(s);
    assert_eq!(read_to_end(&mut w, Side::A, c), b"response");
    w.settle(TCP_TIMEOUT * 3);
    assert_eq!(w.b.socket_count(), BACKLOG);
}
