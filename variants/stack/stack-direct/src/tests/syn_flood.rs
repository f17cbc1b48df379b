//! SYN floods from spoofed sources: the listener keeps accepting real clients during and
//! after the flood, within its memory bound (see the engine's module docs).

use super::tcp::connect;
use super::*;
use crate::engine::{BACKLOG, MAX_HALF_OPEN, MAX_LISTENER_SOCKETS, SYN_RECEIVED_TIMEOUT};
use core::net::{Ipv4Addr, Ipv6Addr};

/// A small xorshift generator: the flood's sources, ports and sequence numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A SYN to B's port 80 from a random address of B's network that is neither A nor B
    /// (nobody answers B's SYN-ACK, not even its neighbour request), from a random port.
    fn spoofed_syn(&mut self, fam: Fam) -> Vec<u8> {
        self.spoofed(fam).1
    }

    /// [`Rng::spoofed_syn`], with its source.
    fn spoofed(&mut self, fam: Fam) -> (SocketAddr, Vec<u8>) {
        let r = self.next();
        let host = 3 + (r % 250) as u8;
        let src = match fam {
            Fam::V4 => IpAddr::V4(Ipv4Addr::new(10, 0, 0, host)),
            Fam::V6 => IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(host))),
        };
        let src = sa(src, 1024 + (r >> 8) as u16 % 60_000);
        (src, tcp_frame(src, sa(fam.b(), 80), &syn((r >> 32) as u32)))
    }
}

/// One client connection from A to B's listener `l` with B's receive queue holding `burst`
/// spoofed SYNs in front of the client's SYN: connected and accepted, or what happened.
fn connect_behind(
    w: &mut Wire,
    l: u64,
    fam: Fam,
    rng: &mut Rng,
    burst: usize,
) -> Result<(), std::string::String> {
    let (pc, pa) = (Probe::new(), Probe::new());
    let c = w.a.tcp_connect(sa(fam.b(), 80)).unwrap();
    for _ in 0..burst {
        assert!(
            w.b.receive(&rng.spoofed_syn(fam)),
            "the burst fits B's queue"
        );
    }
    // The client's SYN joins the queue behind the burst, then everything runs.
    w.a.poll(w.now);
    w.carry();
    w.advance(10);
    let connected = w.a.tcp_poll_connect(c, &mut pc.cx()) == Poll::Ready(Ok(()));
    let accepted = match w.b.tcp_poll_accept(l, &mut pa.cx()) {
        Poll::Ready(Ok((s, peer))) => {
            assert_eq!(Ok(peer), w.a.local_addr(c), "the client's connection");
            w.b.close(s);
            true
        }
        Poll::Ready(Err(e)) => panic!("accept: {e:?}"),
        Poll::Pending => false,
    };
    let result = if connected && accepted {
        Ok(())
    } else {
        Err(std::format!(
            "connect: {:?}, accepted: {accepted}",
            w.a.tcp_poll_connect(c, &mut pc.cx())
        ))
    };
    w.a.close(c);
    result
}

#[test]
fn clients_connect_during_and_after_a_spoofed_syn_flood() {
    for fam in [Fam::V4, Fam::V6] {
        let mut w = Wire::new();
        w.capture = false;
        let l = w.b.tcp_listen(sa(fam.any(), 80)).unwrap();
        // Neighbours resolved (as a client's first connection does).
        let (c, s) = connect(&mut w, l, sa(fam.b(), 80));
        w.a.close(c);
        w.b.close(s);
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut max = 0;
        // 30 simulated seconds of 200 SYN/s, in bursts of 40 that land in B's receive queue
        // at once (5 per second), each with a client's SYN behind it; then 10 s without.
        let mut sent = 0;
        for tick in 0..200 {
            let burst = if tick < 150 { 40 } else { 0 };
            sent += burst;
            if let Err(e) = connect_behind(&mut w, l, fam, &mut rng, burst) {
                panic!(
                    "{fam:?}: a client was shut out at {} ms, after {sent} spoofed SYNs ({e})",
                    tick * 200
                );
            }
            max = max.max(w.b.socket_count());
            // The rest of the 200 ms.
            w.advance(190);
            max = max.max(w.b.socket_count());
        }
        // B holds the listener's bounded sets, and the connections closing.
        assert!(
            max <= MAX_LISTENER_SOCKETS + 4,
            "{fam:?}: {max} sockets during the flood"
        );
        assert!(
            max >= BACKLOG + MAX_HALF_OPEN,
            "{fam:?}: the flood filled the half-open set ({max} sockets)"
        );
        // Once the half-open connections have timed out, the listener is back to its pool.
        w.settle_all();
        assert_eq!(w.b.socket_count(), BACKLOG, "{fam:?}");
    }
}

#[test]
fn half_open_connections_are_recycled_oldest_first_and_time_out() {
    let fam = Fam::V4;
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(fam.any(), 80)).unwrap();
    let mut rng = Rng(7);
    // More SYNs than the half-open set holds, a queue at a time: none is refused (no RST),
    // the set stays full, and B allocated no socket beyond it.
    let mut sources = Vec::new();
    for _ in 0..3 {
        for _ in 0..crate::device::RX_QUEUE {
            let (src, frame) = rng.spoofed(fam);
            assert!(w.b.receive(&frame));
            sources.push(src);
        }
        w.b.poll(w.now);
        w.now += Duration::from_millis(1);
    }
    let count = |w: &Wire| w.b.socket_count();
    assert_eq!(count(&w), BACKLOG + MAX_HALF_OPEN);
    // The half-open connections left are the newest, oldest first.
    let Some(crate::engine::Entry::Listener(listener)) = w.b.entries.get(&l) else {
        panic!("the listener");
    };
    let peers: Vec<SocketAddr> = listener
        .half_open
        .iter()
        .map(|&(h, _)| {
            let s = w.b.sockets.get::<smoltcp::socket::tcp::Socket>(h);
            SocketAddr::from(s.remote_endpoint().expect("a half-open peer"))
        })
        .collect();
    assert_eq!(peers, sources[sources.len() - MAX_HALF_OPEN..]);
    let resets = (0..)
        .map_while(|_| {
            let frame = w.b.next_frame()?.to_vec();
            w.b.sent();
            Some(frame)
        })
        .filter(|f| {
            let Ok(eth) = EthernetFrame::new_checked(f.as_slice()) else {
                return false;
            };
            let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
                return false;
            };
            TcpPacket::new_checked(ip.payload()).is_ok_and(|t| t.rst())
        })
        .count();
    assert_eq!(resets, 0, "no SYN was refused, no dropped one was reset");
    // The half-open connections time out: the listener is back to BACKLOG sockets.
    w.now += SYN_RECEIVED_TIMEOUT;
    w.b.poll(w.now);
    assert_eq!(count(&w), BACKLOG);
    // And a client connects.
    let (c, s) = connect(&mut w, l, sa(fam.b(), 80));
    assert_eq!(w.a.tcp_peer_addr(c).map(|a| a.port()), Ok(80));
    w.a.close(c);
    w.b.close(s);
}

#[test]
fn poll_delay_covers_the_half_open_timeout() {
    let fam = Fam::V6;
    let mut w = Wire::new();
    let _l = w.b.tcp_listen(sa(fam.any(), 80)).unwrap();
    let mut rng = Rng(99);
    assert!(w.b.receive(&rng.spoofed_syn(fam)));
    w.b.poll(w.now);
    assert_eq!(w.b.socket_count(), BACKLOG + 1);
    let delay = w.b.poll_delay(w.now).expect("a timer");
    assert!(delay <= SYN_RECEIVED_TIMEOUT, "{delay:?}");
}
