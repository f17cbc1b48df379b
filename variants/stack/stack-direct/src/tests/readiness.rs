//! Readiness, abort and the lease's DNS servers (`readiness.rs`): what the ecosystem's traits
//! (`ReadReady`, `WriteReady`, edge-nal's `Readable` and `TcpShutdown::abort`) rest on.

use super::tcp::connect;
use super::*;
use petrel_stack::{Readiness, StackError};

#[test]
fn tcp_readiness_follows_data_end_of_stream_and_resets() {
    let mut w = Wire::new();
    let l = w.b.tcp_listen(sa(Fam::V4.any(), 80)).unwrap();
    let (c, s) = connect(&mut w, l, sa(Fam::V4.b(), 80));
    let both = |readable, writable| Ok(Readiness { readable, writable });
    assert_eq!(w.b.readiness(s), both(false, true));
    // Waiting for bytes: pending, then woken when they come.
    let probe = Probe::new();
    assert!(w.b.poll_readable(s, &mut probe.cx()).is_pending());
    assert_eq!(ready(w.a.tcp_poll_write(c, &mut probe.cx(), b"hi")), Ok(2));
    w.advance(10);
    assert!(probe.wakes() > 0, "bytes woke the reader");
    assert_eq!(w.b.poll_readable(s, &mut probe.cx()), Poll::Ready(Ok(())));
    assert_eq!(w.b.readiness(s), both(true, true));
    let mut buf = [0u8; 8];
    assert_eq!(
        ready(w.b.tcp_poll_read(s, &mut probe.cx(), &mut buf)),
        Ok(2)
    );
    assert_eq!(w.b.readiness(s), both(false, true));
    // The peer's FIN: readable (a read returns 0 without waiting).
    assert_eq!(ready(w.a.tcp_poll_shutdown(c)), Ok(()));
    w.advance(10);
    assert_eq!(w.b.readiness(s).map(|r| r.readable), Ok(true));
    assert_eq!(
        ready(w.b.tcp_poll_read(s, &mut probe.cx(), &mut buf)),
        Ok(0)
    );

    // Abort: the peer sees a reset, and the aborting side's calls fail.
    let (c, s) = connect(&mut w, l, sa(Fam::V4.b(), 80));
    assert_eq!(w.a.tcp_abort(c), Ok(()));
    w.advance(10);
    assert_eq!(w.b.readiness(s).map(|r| r.readable), Ok(true));
    assert_eq!(
        ready(w.b.tcp_poll_read(s, &mut probe.cx(), &mut buf)),
        Err(StackError::Reset)
    );
    assert!(ready(w.a.tcp_poll_write(c, &mut probe.cx(), b"x")).is_err());
    // Wrong kinds and unknown handles.
    assert_eq!(w.b.readiness(l), Err(StackError::WrongKind));
    assert_eq!(w.b.tcp_abort(l), Err(StackError::WrongKind));
    assert_eq!(w.b.readiness(12345), Err(StackError::BadHandle));
    assert_eq!(
        w.b.poll_readable(12345, &mut probe.cx()),
        Poll::Ready(Err(StackError::BadHandle))
    );
}

#[test]
fn udp_readable_once_a_datagram_is_there() {
    let mut w = Wire::new();
    let ua = w.a.udp_bind(sa(Fam::V4.any(), 0)).unwrap();
    let ub = w.b.udp_bind(sa(Fam::V4.any(), 53)).unwrap();
    let probe = Probe::new();
    assert!(w.b.poll_readable(ub, &mut probe.cx()).is_pending());
    assert_eq!(w.b.readiness(ub).map(|r| r.readable), Ok(false));
    let sent =
        w.a.udp_poll_send_to(ua, &mut probe.cx(), b"q", sa(Fam::V4.b(), 53));
    assert_eq!(ready(sent), Ok(1));
    for _ in 0..30 {
        w.advance(100);
        if probe.wakes() > 0 {
            break;
        }
    }
    assert_eq!(w.b.poll_readable(ub, &mut probe.cx()), Poll::Ready(Ok(())));
    assert_eq!(w.b.readiness(ub).map(|r| r.readable), Ok(true));
}

#[test]
fn a_static_stack_knows_no_dns_server() {
    let w = Wire::new();
    let mut out = [IpAddr::V4(Ipv4Addr::UNSPECIFIED); 4];
    assert_eq!(w.a.dns_servers(&mut out), 0);
}
