//! The socket stack end to end in one process, over 127.0.0.1 (and ::1 when the host has
//! IPv6), on Petrel's own executor.
//!
//! One test function: the executor's task queue and the timer queue are process-wide and
//! single-threaded, so two tests may not run executors on parallel threads.

use petrel_stack::{Stack, StackError, TcpStream};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;

// The unix time implementation, which the executor calls (the platform is linked already).
use petrel_time_unix as _;

/// Echoes one connection: reads until end of stream, writing back what arrives, then closes.
async fn echo(conn: TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if conn.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Connects to an echo server at `addr`, sends `data` while reading the echo beside it (so
/// that back-pressure cannot deadlock), shuts down and returns all it read.
async fn round_trip(stack: &Stack, addr: SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let conn = Rc::new(stack.connect(addr).await.expect("connect"));
    let writer = conn.clone();
    petrel_executor::spawn(async move {
        writer.write_all(&data).await.expect("write_all");
        writer.shutdown().await.expect("shutdown");
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = conn.read(&mut buf).await.expect("read");
        if n == 0 {
            return got;
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// Serves echo on `listener` forever.
fn serve(listener: petrel_stack::TcpListener) {
    petrel_executor::spawn(async move {
        while let Ok((conn, _peer)) = listener.accept().await {
            petrel_executor::spawn(echo(conn));
        }
    });
}

async fn scenario() {
    let stack = Stack::acquire("stack").expect("acquire");
    let any4 = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0);

    // TCP over IPv4, with a transfer much larger than the socket buffers.
    let listener = stack.listen(any4).await.expect("listen");
    let addr = listener.local_addr().expect("local_addr");
    assert_ne!(addr.port(), 0);
    assert_eq!(
        stack.listen(addr).await.err(),
        Some(StackError::AddrInUse),
        "a second listener on {addr}"
    );
    serve(listener);
    let small = b"hello, petrel".to_vec();
    assert_eq!(round_trip(&stack, addr, small.clone()).await, small);
    let big: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    let echoed = round_trip(&stack, addr, big.clone()).await;
    assert!(
        echoed == big,
        "4 MiB echo differs ({} bytes back)",
        echoed.len()
    );

    // Errors are values.
    let closed = {
        let l = stack.listen(any4).await.expect("listen");
        l.local_addr().expect("local_addr")
    };
    assert_eq!(stack.connect(closed).await.err(), Some(StackError::Refused));
    let nowhere = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0);
    assert_eq!(
        stack.connect(nowhere).await.err(),
        Some(StackError::InvalidInput)
    );

    // UDP over IPv4.
    let a = stack.bind_udp(any4).await.expect("bind a");
    let b = stack.bind_udp(any4).await.expect("bind b");
    let b_addr = b.local_addr().expect("b addr");
    assert_eq!(a.send_to(b"ping", b_addr).await, Ok(4));
    let mut buf = [0u8; 16];
    let (n, from) = b.recv_from(&mut buf).await.expect("recv_from");
    assert_eq!(
        (&buf[..n], from),
        (&b"ping"[..], a.local_addr().expect("a addr"))
    );
    let any6 = SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0);
    assert!(
        a.send_to(b"x", any6).await.is_err(),
        "IPv4 socket sent to IPv6"
    );

    // IPv6, when the host has it.
    match stack.listen(any6).await {
        Ok(listener6) => {
            let addr6 = listener6.local_addr().expect("local_addr");
            assert!(addr6.is_ipv6());
            serve(listener6);
            assert_eq!(round_trip(&stack, addr6, small.clone()).await, small);
            let u = stack.bind_udp(any6).await.expect("bind v6");
            let u_addr = u.local_addr().expect("u addr");
            assert_eq!(u.send_to(b"six", u_addr).await, Ok(3));
            let (n, _) = u.recv_from(&mut buf).await.expect("recv v6");
            assert_eq!(&buf[..n], b"six");
            // IPv6-only: the same port is still free on IPv4.
            let v4_same_port = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr6.port());
            assert!(stack.listen(v4_same_port).await.is_ok());
        }
        Err(e) => eprintln!("no IPv6 on this host ({e}): IPv6 checks skipped"),
    }
}

#[test]
fn tcp_and_udp_over_loopback() {
    petrel_executor::block_on(scenario());
}
