//! Unit checks, and one round trip through a real tap interface: an ARP request for the
//! host's side of the tap, answered by the host's kernel.
//!
//! The tap is created inside a private user and network namespace (`unshare -rn`), where
//! this test re-runs itself; nothing outside that namespace is touched. Without user
//! namespaces the round trip is reported as SKIPPED.

use super::*;
use std::process::Command;
use std::time::Duration;

// The unix time implementation, which the executor calls (the platform is linked already).
use petrel_time_unix as _;

/// Set (to the tap's name) inside the namespace.
const ENV: &str = "PETREL_TEST_TAP";

#[test]
fn interface_names_must_fit() {
    assert!(ifreq("tap0").is_ok());
    assert!(ifreq("").is_err());
    assert!(ifreq("a-name-far-too-long").is_err());
    assert!(ifreq("t\0p").is_err());
    assert!(open("").is_err());
}

#[test]
fn an_inherited_frame_socket_is_a_device() {
    let mut fds = [0; 2];
    // SAFETY: socketpair writes two descriptors into `fds`.
    let rc = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET, 0, fds.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: fds[1] is ours; `open` took fds[0].
    let host = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    let mut guest = open(&format!("@{}", fds[0])).expect("a SOCK_SEQPACKET end");
    guest.write_all(b"frame").expect("one record");
    let mut buf = [0u8; 16];
    // SAFETY: `buf` is writable for its length.
    let n = unsafe { libc::recv(host.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    assert_eq!(&buf[..n as usize], b"frame");
    // Not a descriptor number, a standard stream, or not a frame socket: refused.
    assert!(open("@x").is_err());
    assert!(open("@1").is_err());
    let file = std::fs::File::open("/dev/null").expect("/dev/null");
    let err = open(&format!("@{}", file.as_raw_fd())).expect_err("not a socket");
    assert!(!err.to_string().is_empty());
}

#[test]
fn macs_are_local_unicast() {
    for _ in 0..16 {
        let mac = random_mac();
        assert_eq!(mac[0] & 0x03, 0x02, "{mac:02x?}");
    }
}

#[test]
fn unknown_handles_are_errors() {
    assert_eq!(
        <UnixNet as petrel_net::NetBackend>::info(99),
        Err(NetError::NotFound)
    );
    assert_eq!(
        <UnixNet as petrel_net::NetBackend>::acquire("nothing"),
        Err(NetError::NotFound)
    );
}

/// An ARP request from `mac`/10.0.0.2 for 10.0.0.1.
fn arp_request(mac: [u8; 6]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&[0x08, 0x06]); // ARP
    f.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]); // Ethernet/IPv4, request
    f.extend_from_slice(&mac);
    f.extend_from_slice(&[10, 0, 0, 2]);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&[10, 0, 0, 1]);
    f
}

async fn arp_round_trip(tap: &str) {
    let file = open(tap).unwrap_or_else(|e| panic!("open {tap}: {e}"));
    let mac = random_mac();
    TAPS.with(|t| {
        t.borrow_mut().push(Tap {
            name: "service",
            file,
            info: NetInfo {
                mac,
                mtu: mtu(tap).unwrap_or(DEFAULT_MTU),
            },
            acquired: false,
        })
    });
    let net = Net::acquire("service").expect("acquire");
    assert_eq!(Net::acquire("service").err(), Some(NetError::Busy));
    assert_eq!(net.mtu(), 1500);
    assert_eq!(net.write(&[]).await, Err(NetError::Invalid));
    let mut small = [0u8; 100];
    assert_eq!(net.read(&mut small).await, Err(NetError::Invalid));

    // Ask every half second (a freshly attached tap may drop the first frames), for 10 s.
    let net = std::rc::Rc::new(net);
    let asker = net.clone();
    petrel_executor::spawn(async move {
        for _ in 0..20 {
            asker.write(&arp_request(mac)).await.expect("write");
            petrel_time::sleep(Duration::from_millis(500)).await;
        }
        panic!("no ARP reply from the host within 10 s");
    });
    let mut buf = vec![0u8; net.frame_len()];
    loop {
        let n = net.read(&mut buf).await.expect("read");
        let f = &buf[..n];
        // An ARP reply to us: EtherType 0x0806, operation 2, target hardware address = ours.
        if n >= 42 && f[12..14] == [0x08, 0x06] && f[20..22] == [0, 2] && f[0..6] == mac {
            assert_eq!(&f[28..32], &[10, 0, 0, 1], "sender IP");
            return;
        }
    }
}

#[test]
fn tap_round_trip() {
    if let Ok(tap) = std::env::var(ENV) {
        petrel_executor::block_on(arp_round_trip(&tap));
        return;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let script = format!(
        "ip tuntap add tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up \
         && {ENV}=tap0 exec '{}' tests::tap_round_trip --exact --nocapture",
        exe.display()
    );
    match Command::new("unshare")
        .args(["-rn", "sh", "-c", &script])
        .output()
    {
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if out.status.success() {
                assert!(
                    text.contains("1 passed"),
                    "the round trip did not run:\n{text}"
                );
                return;
            }
            // Only a missing namespace or tap facility is a skip; a failed check is a failure.
            if text.contains("test tests::tap_round_trip") {
                panic!("the round trip failed in the namespace:\n{text}");
            }
            eprintln!(
                "\n*** SKIPPED tap_round_trip: cannot create a tap in a private namespace ***\n{text}"
            );
        }
        Err(e) => eprintln!("\n*** SKIPPED tap_round_trip: cannot run unshare: {e} ***\n"),
    }
}
