//! Zero-setup networking (issue 18): `petrel run` gives a network device with no tap a
//! private user-mode network (libslirp on spt, hvt and unix with the direct stack; QEMU's on
//! virtio), and `--publish [ADDR:]HOST:GUEST[/tcp|/udp]` opens host ports into it.
//!
//! Every run here is unprivileged (as root: `setpriv` drops every capability, so no tap can
//! be created or attached; checked), with no tap and no namespace. Clients talk only to
//! 127.0.0.1:
//! - static_website over `--publish` with DHCP on spt, hvt and unix (direct stack), and with
//!   `--no-dhcp` and a static address on spt and unix: a real GET, its reply checked;
//! - a UDP echo (tests/fixtures/udp_echo) over `--publish .../udp` on spt and virtio;
//! - bad `--publish` values, a host port in use, and an image without a network device: one
//!   line and exit 1 before anything runs.
//!
//! Guests reaching out through the gateway 10.0.2.2 (the host's 127.0.0.1) are tested with
//! http_fetch on spt and virtio in tests/tests/ecosystem.rs.

use petrel_e2e::netns::curl;
use petrel_e2e::{
    Background, Scratch, build_lock, can_boot, expect, free_port, have_libslirp, petrel,
    unprivileged, wait_for,
};
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

/// How long a unikernel built beforehand may take to answer: `petrel run` still checks the
/// build, the stack gets its lease, and a virtio guest boots under TCG.
const STARTUP: Duration = Duration::from_secs(180);

/// `project` configured and built for `target` with `configure` (under the build lock).
fn built(project: Scratch, target: &str, configure: &[&str]) -> Scratch {
    let _lock = build_lock();
    expect(
        petrel(&project.dir, target)
            .args(["build", "--target", target])
            .args(configure),
        0,
    );
    project
}

/// Boots static_website on `target` (built with `configure`) with `--publish PORT:8080` and
/// the boot arguments `args`, and checks a page through 127.0.0.1:PORT and the setup `-v`
/// printed.
fn serves_the_website(target: &str, configure: &[&str], args: &[&str]) {
    let site = built(Scratch::example("static_website"), target, configure);
    let port = free_port();
    let mut cmd = petrel(&site.dir, target);
    cmd.args(["run", "--target", target, "-v", "--publish"])
        .arg(format!("{port}:8080"))
        .arg("--")
        .args(args);
    let mut running = Background::spawn(&mut unprivileged(&cmd), site.dir.join("run.log"));
    let url = format!("http://127.0.0.1:{port}/");
    let page = wait_for(
        "GET / through --publish",
        STARTUP,
        &mut running,
        |_| match curl(None, &url)? {
            r if r.status == 200 => Ok(r),
            r => Err(format!("status {}", r.status)),
        },
    );
    let index = std::fs::read(petrel_e2e::repo().join("examples/static_website/htdocs/index.html"))
        .expect("htdocs/index.html");
    assert!(
        page.body == index,
        "the page differs from htdocs/index.html"
    );
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    let log = running.log();
    assert!(
        log.contains("user-mode network (libslirp ")
            && log.contains(&format!("127.0.0.1:{port}:8080/tcp")),
        "-v names the backend and the forward:\n{log}"
    );
    assert!(log.contains("10.0.2.15/24"), "the guest's address:\n{log}");
}

#[test]
fn spt_serves_the_website_through_publish_with_dhcp() {
    if !have_libslirp("spt_serves_the_website_through_publish_with_dhcp") {
        return;
    }
    serves_the_website("spt", &[], &[]);
}

#[test]
fn hvt_serves_the_website_through_publish_with_dhcp() {
    let test = "hvt_serves_the_website_through_publish_with_dhcp";
    if !have_libslirp(test) || !can_boot(test, "hvt") {
        return;
    }
    serves_the_website("hvt", &[], &[]);
}

#[test]
fn unix_direct_stack_serves_the_website_through_publish_with_static_addresses() {
    if !have_libslirp("unix_direct_stack_serves_the_website_through_publish_with_static_addresses")
    {
        return;
    }
    serves_the_website(
        "unix",
        &["--net=direct", "--no-dhcp"],
        &["--ipv4=10.0.2.15/24", "--ipv4-gateway=10.0.2.2"],
    );
}

#[test]
fn spt_serves_the_website_through_publish_with_static_addresses() {
    if !have_libslirp("spt_serves_the_website_through_publish_with_static_addresses") {
        return;
    }
    serves_the_website(
        "spt",
        &["--no-dhcp"],
        &["--ipv4=10.0.2.15/24", "--ipv4-gateway=10.0.2.2"],
    );
}

#[test]
fn unix_direct_stack_serves_the_website_through_publish_with_dhcp() {
    if !have_libslirp("unix_direct_stack_serves_the_website_through_publish_with_dhcp") {
        return;
    }
    serves_the_website("unix", &["--net=direct"], &[]);
}

/// Boots tests/fixtures/udp_echo on `target` with `--publish PORT:7/udp` and waits for a
/// datagram sent to 127.0.0.1:PORT to come back.
fn udp_echo_answers(target: &str) {
    let echo = built(Scratch::fixture("udp_echo"), target, &[]);
    let port = free_port();
    let mut cmd = petrel(&echo.dir, target);
    cmd.args(["run", "--target", target, "--publish"])
        .arg(format!("{port}:7/udp"));
    let mut running = Background::spawn(&mut unprivileged(&cmd), echo.dir.join("run.log"));
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let got = wait_for(
        "a UDP echo through --publish",
        STARTUP,
        &mut running,
        |_| {
            sock.send_to(b"petrel", ("127.0.0.1", port))
                .map_err(|e| e.to_string())?;
            let mut buf = [0u8; 64];
            let (n, _) = sock.recv_from(&mut buf).map_err(|e| e.to_string())?;
            Ok(buf[..n].to_vec())
        },
    );
    assert_eq!(got, b"petrel", "{}", running.log());
}

#[test]
fn spt_udp_echo_answers_through_publish_udp() {
    if !have_libslirp("spt_udp_echo_answers_through_publish_udp") {
        return;
    }
    udp_echo_answers("spt");
}

#[test]
fn virtio_udp_echo_answers_through_publish_udp() {
    if !can_boot("virtio_udp_echo_answers_through_publish_udp", "virtio") {
        return;
    }
    udp_echo_answers("virtio");
}

#[test]
fn publish_errors_are_one_line_before_anything_runs() {
    let site = Scratch::example("static_website");
    let one_line = |args: &[&str], want: &str| {
        let mut cmd = petrel(&site.dir, "spt");
        cmd.args(["run", "--target", "spt"]).args(args);
        let ran = expect(&mut unprivileged(&cmd), 1);
        let errors: Vec<&str> = ran.stderr.lines().filter(|l| l.contains("error")).collect();
        assert!(
            errors.len() == 1 && errors[0].contains(want),
            "want one error line with {want:?}:\n{}",
            ran.stderr
        );
        assert!(!ran.all().contains("Running"), "nothing ran: {}", ran.all());
    };
    one_line(
        &["--publish", "8080:0"],
        "guest port `0` is not a number from 1 to 65535",
    );
    one_line(&["--publish", "8080:65536"], "guest port `65536`");
    one_line(&["--publish", "8080:80/sctp"], "unknown protocol `sctp`");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    one_line(
        &["--publish", &format!("{port}:8080")],
        &format!("cannot use host port tcp 127.0.0.1:{port}"),
    );
    // An image without a network device (hello on unix): refused once configured.
    let hello = Scratch::example("hello");
    let mut cmd = petrel(&hello.dir, "unix");
    cmd.args(["run", "--target", "unix", "--publish", "8080:80"]);
    let ran = expect(&mut cmd, 1);
    assert!(
        ran.stderr
            .contains("--publish 127.0.0.1:8080:80/tcp: this image has no network device"),
        "{}",
        ran.stderr
    );
}
