//! Petrel's direct stack under a SYN flood, for real: examples/static_website on unix with
//! `--net=direct` over a tap in a fresh network namespace, flooded with SYNs from spoofed
//! sources of the namespace's subnet (a raw IP socket in the test, 200 SYN/s for 20 s, none
//! of them ever answered), while a client connects and fetches `/` every second, during the
//! flood and after it. Every client must be served.
//!
//! Meanwhile a client asks for a 1 MiB file with a 4 KiB receive buffer and stops reading:
//! static_website must give up on it at its minimum send rate (16 KiB in 16 s), not keep
//! the connection while the client sits on it. (Over the direct stack, whose buffers are
//! 32 KiB, the stall shows at once; over host sockets the kernel's autotuned buffers would
//! absorb megabytes first.)
//!
//! The flood and the clients run in threads of this test moved into the namespace
//! (`setns(2)` changes the network namespace of the calling thread only); nothing leaves the
//! namespace, which is deleted at the end. Without root, `ip`, /dev/net/tun or curl the test
//! prints a loud SKIPPED line, except under CI, where that is a failure.

use petrel_e2e::netns::{Netns, curl, have_tools};
use petrel_e2e::{Background, Scratch, build_lock, expect, petrel, wait_for};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How long the first answer may take (`petrel run` re-checks the build first).
const STARTUP: Duration = Duration::from_secs(120);
/// How long the flood lasts.
const FLOOD: Duration = Duration::from_secs(20);
/// Spoofed SYNs per second.
const RATE: u32 = 200;
/// How long clients keep coming after the flood (the half-open connections' timeout, and
/// some).
const AFTER: Duration = Duration::from_secs(7);
/// The unikernel's address and port.
const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 8080);
/// The size of the file the stalled reader asks for.
const BIG: usize = 1 << 20;
/// static_website's `SEND_TIMEOUT`: the most time the client may take for 16 KiB.
const SEND_TIMEOUT: Duration = Duration::from_secs(16);

/// Runs `f` in a thread moved into network namespace `ns`.
fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = std::path::Path::new("/run/netns").join(ns);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // SAFETY: a valid namespace file descriptor; CLONE_NEWNET moves only this thread.
        let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
}

/// [`SERVER`] as the C library takes it.
fn server_sockaddr() -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: SERVER.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(SERVER.ip().octets()),
        },
        sin_zero: [0; 8],
    }
}

/// The Internet checksum of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 packet carrying a TCP SYN from `src` to [`SERVER`].
fn syn_packet(src: SocketAddrV4, seq: u32) -> [u8; 40] {
    let mut p = [0u8; 40];
    // IPv4 header: version 4, 20 bytes, total length 40, TTL 64, TCP.
    p[0] = 0x45;
    p[2..4].copy_from_slice(&40u16.to_be_bytes());
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&src.ip().octets());
    p[16..20].copy_from_slice(&SERVER.ip().octets());
    let ip_sum = checksum(&p[..20]);
    p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    // TCP header: ports, sequence number, 20 bytes, SYN, window.
    p[20..22].copy_from_slice(&src.port().to_be_bytes());
    p[22..24].copy_from_slice(&SERVER.port().to_be_bytes());
    p[24..28].copy_from_slice(&seq.to_be_bytes());
    p[32] = 5 << 4;
    p[33] = 0x02;
    p[34..36].copy_from_slice(&64240u16.to_be_bytes());
    // The checksum over the pseudo-header (addresses, protocol, TCP length) and the segment.
    let mut pseudo = Vec::with_capacity(32);
    pseudo.extend_from_slice(&p[12..20]);
    pseudo.extend_from_slice(&[0, 6, 0, 20]);
    pseudo.extend_from_slice(&p[20..40]);
    let tcp_sum = checksum(&pseudo);
    p[36..38].copy_from_slice(&tcp_sum.to_be_bytes());
    p
}

/// Sends [`RATE`] spoofed SYNs per second for [`FLOOD`] through a raw IP socket (this
/// thread must be in the namespace): random sources in 10.0.0.3–10.0.0.254 (nobody there
/// answers the SYN-ACK or its ARP request), random ports and sequence numbers. Returns how
/// many it sent.
fn flood() -> u32 {
    // SAFETY: plain socket call; the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
    assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
    let dst = server_sockaddr();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id());
    let start = Instant::now();
    let mut sent = 0;
    while start.elapsed() < FLOOD {
        // On schedule: SYN number `sent` leaves at sent / RATE seconds.
        let due = Duration::from_secs_f64(f64::from(sent) / f64::from(RATE));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let src = SocketAddrV4::new(
            Ipv4Addr::new(10, 0, 0, 3 + (x % 252) as u8),
            1024 + ((x >> 8) % 60_000) as u16,
        );
        let packet = syn_packet(src, (x >> 32) as u32);
        // SAFETY: `packet` and `dst` outlive the call; the lengths are theirs.
        let n = unsafe {
            libc::sendto(
                fd,
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&raw const dst).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        assert_eq!(n, 40, "sendto: {}", std::io::Error::last_os_error());
        sent += 1;
    }
    // SAFETY: the descriptor opened above, closed once.
    unsafe { libc::close(fd) };
    sent
}

/// One client: connects to [`SERVER`] and fetches `/`; the status line, or why not.
fn client() -> Result<String, String> {
    let addr = SocketAddr::V4(SERVER);
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.lines().next().unwrap_or_default().to_string();
    // The reason phrase is optional (RFC 9112, section 4): picoserve sends none.
    if status.starts_with("HTTP/1.1 200 ") {
        Ok(status)
    } else {
        Err(format!("answer {status:?}"))
    }
}

/// Asks for `/big.bin` on a connection with a 4 KiB receive buffer, reads nothing for
/// longer than [`SEND_TIMEOUT`], then reads what comes: how many bytes, fewer than the
/// answer's if the server gave up.
fn stalled_reader() -> usize {
    // SAFETY: plain socket calls on a descriptor this function owns; the TcpStream takes it.
    let stream = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let size: libc::c_int = 4096;
        let r = libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const size).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
        assert_eq!(r, 0, "SO_RCVBUF: {}", std::io::Error::last_os_error());
        let to = server_sockaddr();
        let r = libc::connect(
            fd,
            (&raw const to).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(r, 0, "connect: {}", std::io::Error::last_os_error());
        <TcpStream as std::os::fd::FromRawFd>::from_raw_fd(fd)
    };
    let mut s = stream;
    s.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    std::thread::sleep(SEND_TIMEOUT + Duration::from_secs(4));
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got += n;
    }
    got
}

#[test]
fn unix_direct_stack_serves_clients_during_a_spoofed_syn_flood() {
    const TEST: &str = "unix_direct_stack_serves_clients_during_a_spoofed_syn_flood";
    if !have_tools(TEST, &["curl"]) {
        return;
    }
    let Some(ns) = Netns::create(TEST, "ftap0") else {
        return;
    };
    let _lock = build_lock();
    let site = Scratch::example("static_website");
    // Embedded in the image (crunch), for the stalled reader.
    std::fs::write(site.dir.join("htdocs/big.bin"), vec![7u8; BIG]).expect("write big.bin");
    expect(
        petrel(&site.dir, "unix").arg("build").args([
            "--target",
            "unix",
            "--net=direct",
            "--no-dhcp",
        ]),
        0,
    );
    let mut cmd = petrel(&site.dir, "unix");
    cmd.args(["run", "--target", "unix", "--tap", "service=ftap0", "--"])
        .arg("--ipv4=10.0.0.2/24");
    let mut running = Background::spawn(&mut ns.wrap(&cmd), site.dir.join("run.log"));
    wait_for("GET / over the tap", STARTUP, &mut running, |_| match curl(
        Some(&ns),
        "http://10.0.0.2:8080/",
    )? {
        r if r.status == 200 => Ok(()),
        r => Err(format!("status {}", r.status)),
    });

    let flooder = in_netns(ns.name(), flood);
    let stalled = in_netns(ns.name(), stalled_reader);
    let clients = in_netns(ns.name(), || {
        let start = Instant::now();
        let mut results = Vec::new();
        while start.elapsed() < FLOOD + AFTER {
            let at = start.elapsed();
            results.push((at, client()));
            // One client a second, on schedule.
            let next = Duration::from_secs(results.len() as u64);
            if let Some(wait) = next.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        results
    });
    let sent = flooder.join().expect("the flood thread");
    let results = clients.join().expect("the client thread");
    let got = stalled.join().expect("the stalled reader");

    let during: Vec<_> = results.iter().filter(|(at, _)| *at < FLOOD).collect();
    let after: Vec<_> = results.iter().filter(|(at, _)| *at >= FLOOD).collect();
    let served =
        |set: &[&(Duration, Result<String, String>)]| set.iter().filter(|(_, r)| r.is_ok()).count();
    eprintln!(
        "{sent} spoofed SYNs in {FLOOD:?}: {} of {} clients served during the flood, {} of {} \
         after",
        served(&during),
        during.len(),
        served(&after),
        after.len()
    );
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(at, r)| r.as_ref().err().map(|e| format!("at {at:.1?}: {e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "clients not served ({} of {}):\n{}\n--- log\n{}",
        failed.len(),
        results.len(),
        failed.join("\n"),
        running.log()
    );
    assert!(
        sent >= RATE * FLOOD.as_secs() as u32 * 9 / 10,
        "the flood sent only {sent} SYNs"
    );
    assert!(during.len() >= 15 && after.len() >= 5, "{results:?}");
    eprintln!("the stalled reader got {got} bytes of a {BIG}-byte file");
    assert!(
        got < BIG,
        "a client that stopped reading for {:?} still got the whole file ({got} bytes): the \
         server kept the connection\n--- log\n{}",
        SEND_TIMEOUT + Duration::from_secs(4),
        running.log()
    );
}
