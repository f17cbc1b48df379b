//! examples/network end to end: the socket stack on unix echoes bytes over 127.0.0.1, and
//! configure refuses the socket stack where there are no host sockets.

use petrel_e2e::{Background, Scratch, build_lock, expect, free_port, petrel, run};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long the first echo may take: `petrel run` configures and builds the example first.
const STARTUP: Duration = Duration::from_secs(120);

/// Connects to `addr`, sends `data` (from another thread, so that back-pressure cannot
/// deadlock), closes the sending side and reads until the end of the stream.
fn echo(addr: SocketAddr, data: &[u8]) -> io::Result<Vec<u8>> {
    let conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = conn.try_clone()?;
    let data = data.to_vec();
    let sender = std::thread::spawn(move || -> io::Result<()> {
        writer.write_all(&data)?;
        writer.shutdown(Shutdown::Write)
    });
    let mut got = Vec::new();
    (&conn).read_to_end(&mut got)?;
    sender
        .join()
        .map_err(|_| io::Error::other("sender thread panicked"))??;
    Ok(got)
}

#[test]
fn network_echoes_over_127_0_0_1() {
    let _lock = build_lock();
    let p = Scratch::example("network");
    let port = free_port();
    let mut running = Background::start(&p, &[format!("--port={port}")]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    // Wait for an application-level echo, not just an open port.
    let start = Instant::now();
    loop {
        match echo(addr, b"ping\n") {
            Ok(got) if got == b"ping\n" => break,
            Ok(got) => panic!(
                "first echo: sent ping, got {got:?}\n--- log\n{}",
                running.log()
            ),
            Err(e) => {
                if let Ok(Some(status)) = running.child.try_wait() {
                    panic!("petrel run exited {status}\n--- log\n{}", running.log());
                }
                assert!(
                    start.elapsed() < STARTUP,
                    "no echo on {addr} after {STARTUP:?} ({e})\n--- log\n{}",
                    running.log()
                );
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }

    // Several messages on one connection, each echoed before the next is sent.
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    for msg in [&b"hello"[..], b"petrel", &[0u8, 1, 2, 255], b"x"] {
        conn.write_all(msg).expect("write");
        let mut back = vec![0u8; msg.len()];
        conn.read_exact(&mut back).expect("read echo");
        assert_eq!(back, msg);
    }

    // A second connection while the first is open: one task per connection.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let got = echo(addr, &big).expect("100 KB echo");
    assert_eq!(got.len(), big.len(), "100 KB echo length");
    assert!(got == big, "100 KB echo differs");

    // The first connection still works, and ends cleanly when we close our side.
    conn.write_all(b"still here").expect("write");
    conn.shutdown(Shutdown::Write).expect("shutdown");
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).expect("read to end");
    assert_eq!(rest, b"still here");

    let log = running.log();
    assert!(
        log.contains(&format!("listening on 0.0.0.0:{port}")),
        "{log}"
    );
    assert!(log.contains("closed after 100000 bytes"), "{log}");
}

#[test]
fn unix_uses_the_socket_stack_by_default() {
    let p = Scratch::example("network");
    expect(
        petrel(&p.dir, "unix").args(["configure", "--target", "unix"]),
        0,
    );
    let app = p.read(".petrel/app/Cargo.toml");
    assert!(app.contains("petrel-stack-socket"), "{app}");
}

#[test]
fn socket_stack_on_hvt_is_a_configure_error_with_the_reason() {
    let p = Scratch::example("network");
    let ran = run(petrel(&p.dir, "hvt").args(["configure", "--target", "hvt", "--net=socket"]));
    assert_ne!(ran.code, 0, "{}", ran.all());
    let all = ran.all();
    assert!(
        all.contains("`net = socket` is not available on hvt"),
        "{all}"
    );
    assert!(
        all.contains("the socket stack exists only on unix: it uses the host's sockets"),
        "{all}"
    );
    assert!(all.contains("--net=direct"), "{all}");
    assert!(
        !p.dir.join(".petrel").exists(),
        "a refused configure writes nothing"
    );
}
