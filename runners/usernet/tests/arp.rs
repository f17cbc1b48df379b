//! The network answers a guest: an ARP request for the gateway gets the gateway's reply
//! through the socketpair (libslirp loaded and running), and a published port is bound.

use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use petrel_usernet::{Forward, GATEWAY, GUEST, UserNet};

const GUEST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x15];

fn arp_request() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&GUEST_MAC);
    f.extend_from_slice(&[0x08, 0x06]); // ARP
    f.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]); // Ethernet/IPv4, request
    f.extend_from_slice(&GUEST_MAC);
    f.extend_from_slice(&GUEST.octets());
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&GATEWAY.octets());
    f
}

fn recv_frame(fd: i32, within: Duration) -> io::Result<Vec<u8>> {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n > 0 {
            return Ok(buf[..n as usize].to_vec());
        }
        if start.elapsed() > within {
            return Err(io::Error::other("no frame"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether libslirp can be loaded; if not, a loud SKIPPED line, or a failure under CI (`CI`
/// set), where scripts/test.sh installs libslirp0.
fn have_libslirp(test: &str) -> bool {
    match UserNet::start(&[]) {
        Ok(_) => true,
        Err(e) if e.contains("needs libslirp") => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: {e}, and CI must run it"
            );
            eprintln!("\n*** SKIPPED {test}: {e} ***\n");
            false
        }
        Err(e) => panic!("{test}: {e}"),
    }
}

#[test]
fn the_gateway_answers_arp_and_forwards_are_bound() {
    if !have_libslirp("the_gateway_answers_arp_and_forwards_are_bound") {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let forward = Forward::parse(&format!("{port}:8080")).expect("parse");
    let net = UserNet::start(&[forward]).expect("libslirp starts (Debian: libslirp0)");
    assert!(net.backend.starts_with("libslirp 4."), "{}", net.backend);
    // The host port is libslirp's now.
    assert!(forward.check_free().is_err(), "the forward's port is bound");

    let fd = net.guest.as_raw_fd();
    let req = arp_request();
    // SAFETY: `req` is readable for its length.
    let n = unsafe { libc::send(fd, req.as_ptr().cast(), req.len(), 0) };
    assert_eq!(n, req.len() as isize, "{}", io::Error::last_os_error());
    // Frames until the ARP reply (libslirp may send IPv6 router advertisements first).
    let start = Instant::now();
    let reply = loop {
        let f = recv_frame(fd, Duration::from_secs(5)).expect("a frame from the network");
        if f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[20..22] == [0, 2] {
            break f;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no ARP reply");
    };
    assert_eq!(&reply[0..6], &GUEST_MAC, "to the guest");
    assert_eq!(&reply[28..32], &GATEWAY.octets(), "the gateway's address");
    assert_eq!(&reply[38..42], &GUEST.octets(), "for the guest");
}

#[test]
fn a_port_in_use_fails_to_start() {
    if !have_libslirp("a_port_in_use_fails_to_start") {
        return;
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let forward = Forward::parse(&format!("{port}:80")).expect("parse");
    let err = UserNet::start(&[forward]).expect_err("port in use");
    assert!(err.contains("cannot use host port tcp 127.0.0.1:"), "{err}");
}
