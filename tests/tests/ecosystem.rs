//! The examples built on the embedded Rust ecosystem, end to end with real servers:
//! examples/http_fetch (reqwless over Petrel's stack, the host through DNS) and
//! examples/dns_lookup (Petrel's resolver, bounded by embassy-time's `with_timeout`).
//!
//! - unix, socket stack: http_fetch against an HTTP server of this test on 127.0.0.1, by
//!   address and by name (dnsmasq on 127.0.0.1 as the DNS server), and its failures;
//! - unix, direct stack in a network namespace: dnsmasq gives the lease, the DNS server and
//!   the server's name; nc serves the page on the tap's host side; without DHCP, dns_lookup
//!   says there is no server, and that a silent one timed out;
//! - spt and hvt, direct stack in a namespace: dns_lookup asks dnsmasq (from the lease);
//! - virtio under QEMU (TCG) with user networking: dns_lookup asks dnsmasq on the host's
//!   127.0.0.1 through QEMU's gateway (`--dns-servers=10.0.2.2:PORT`);
//! - spt (libslirp) and virtio (QEMU) with `petrel run`'s user-mode network, unprivileged:
//!   http_fetch gets the page of a server on the host's 127.0.0.1 through the gateway
//!   10.0.2.2, by address and by a name that dnsmasq on the host's 127.0.0.1 gives as
//!   10.0.2.2 (`--dns-servers=10.0.2.2:PORT`); an unknown name is one line and exit 1.
//!
//! Without root, /dev/net/tun, KVM, QEMU, libslirp or the host tools a test prints a loud
//! SKIPPED line, except under CI (`CI` set), where that is a failure.

use petrel_e2e::netns::{Netns, have_tools};
use petrel_e2e::{
    Background, Scratch, build_lock, can_boot, expect, free_port, have_libslirp, have_qemu, petrel,
    unprivileged,
};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a one-shot unikernel may take to finish: `petrel run` checks the build first,
/// a direct stack asks for its lease, and a virtio guest boots under TCG.
const FINISH: Duration = Duration::from_secs(180);

/// The body the test's HTTP servers send.
fn page() -> Vec<u8> {
    (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect()
}

/// One HTTP/1.1 response with `body`, closing the connection after it.
fn response(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// An HTTP server on 127.0.0.1 (a thread of this test): every request gets [`page`].
fn serve_page() -> u16 {
    petrel_e2e::serve_http(response(&page()))
}

/// dnsmasq as a DNS server on 127.0.0.1:`port` knowing `name` (a `.test` name) as `address`;
/// other `.test` names are NXDOMAIN. Returns once it answers.
fn local_dns(dir: &Path, port: u16, name: &str, address: &str) -> Background {
    let mut cmd = Command::new("dnsmasq");
    cmd.args([
        "--no-daemon",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--log-facility=-",
        // Answered here, NXDOMAIN included (without it, unknown names are REFUSED).
        "--local=/test/",
    ])
    .arg(format!("--port={port}"))
    .arg(format!("--host-record={name},{address}"))
    .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()));
    let mut dns = Background::spawn(&mut cmd, dir.join("dnsmasq.log"));
    petrel_e2e::wait_for("dnsmasq to start", FINISH, &mut dns, |d| {
        if d.log().contains("started") {
            Ok(())
        } else {
            Err(d.log())
        }
    });
    dns
}

/// Runs `cmd` (a one-shot unikernel) to its end: its exit code and output.
fn finish(cmd: &mut Command, log: &Path) -> (i32, String) {
    let mut running = Background::spawn(cmd, log.to_path_buf());
    let start = Instant::now();
    loop {
        if let Some(status) = running.exited() {
            return (status.code().unwrap_or(255), running.log());
        }
        assert!(
            start.elapsed() < FINISH,
            "still running after {FINISH:?}\n--- log\n{}",
            running.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Configures and builds `example` for `cache` with `configure` (outside any namespace).
fn build(example: &Scratch, cache: &str, configure: &[&str]) {
    expect(petrel(&example.dir, cache).arg("build").args(configure), 0);
}

/// Checks that http_fetch of `uri` failed as it should: exit 1 and one error line, which
/// names `uri` and says `why`.
#[track_caller]
fn fetch_failed(uri: &str, why: &str, code: i32, log: &str) {
    assert_eq!(code, 1, "{uri}\n--- log\n{log}");
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("[ERROR]")).collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(errors[0].contains(&format!("http-fetch: {uri}: ")), "{log}");
    assert!(
        errors[0].contains(why),
        "{uri}: want {why:?}\n--- log\n{log}"
    );
}

#[test]
fn unix_http_fetch_gets_a_local_page_by_address_and_by_name() {
    let test = "unix_http_fetch_gets_a_local_page_by_address_and_by_name";
    if !have_tools(test, &["dnsmasq"]) {
        return;
    }
    let _lock = build_lock();
    let fetch = Scratch::example("http_fetch");
    build(&fetch, "unix", &["--target", "unix"]);
    let port = serve_page();
    let dns_port = free_port();
    let _dns = local_dns(&fetch.dir, dns_port, "www.petrel.test", "127.0.0.1");
    let dns_servers = format!("--dns-servers=127.0.0.1:{dns_port}");
    let run = |args: &[&str]| {
        let mut cmd = petrel(&fetch.dir, "unix");
        cmd.args(["run", "--target", "unix", "--", &dns_servers])
            .args(args);
        finish(&mut cmd, &fetch.dir.join("run.log"))
    };
    let len = page().len();

    for uri in [
        format!("http://127.0.0.1:{port}/page"),
        format!("http://www.petrel.test:{port}/page"),
    ] {
        let (code, log) = run(&[&format!("--uri={uri}")]);
        assert_eq!(code, 0, "{uri}\n--- log\n{log}");
        assert!(
            log.contains(&format!("http-fetch: {uri}: status 200, {len} bytes")),
            "{log}"
        );
    }

    // Failures: one line each, exit 1.
    let closed = free_port();
    for (uri, why) in [
        (
            format!("http://nowhere.petrel.test:{port}/"),
            "no such name (NXDOMAIN)",
        ),
        (
            format!("http://127.0.0.1:{closed}/"),
            "Network(ConnectionRefused)",
        ),
        ("ftp://x/".to_string(), "not an http:// URI with a host"),
    ] {
        let (code, log) = run(&[&format!("--uri={uri}")]);
        fetch_failed(&uri, why, code, &log);
    }
    // A malformed server is a bad boot argument.
    let mut cmd = petrel(&fetch.dir, "unix");
    cmd.args([
        "run",
        "--target",
        "unix",
        "--",
        "--uri=http://x/",
        "--dns-servers=nonsense",
    ]);
    let (code, log) = finish(&mut cmd, &fetch.dir.join("bad.log"));
    assert_eq!(code, 64, "{log}");
    assert!(log.contains("--dns-servers=nonsense: expected IP"), "{log}");
}

#[test]
fn spt_http_fetch_gets_a_page_on_the_host_by_name_through_user_networking() {
    usernet_http_fetch(
        "spt_http_fetch_gets_a_page_on_the_host_by_name_through_user_networking",
        "spt",
    );
}

#[test]
fn virtio_http_fetch_gets_a_page_on_the_host_by_name_through_user_networking() {
    usernet_http_fetch(
        "virtio_http_fetch_gets_a_page_on_the_host_by_name_through_user_networking",
        "virtio",
    );
}

/// http_fetch on `target` with `petrel run`'s user-mode network (libslirp on spt, QEMU's on
/// virtio), without privileges: the page of a server on the host's 127.0.0.1, reached through
/// the gateway 10.0.2.2, by address and by a name that dnsmasq (also on the host's 127.0.0.1)
/// gives as 10.0.2.2; an unknown name fails with one line.
fn usernet_http_fetch(test: &str, target: &str) {
    let backend = match target {
        "spt" => have_libslirp(test),
        _ => can_boot(test, target),
    };
    if !backend || !have_tools(test, &["dnsmasq"]) {
        return;
    }
    let fetch = {
        let _lock = build_lock();
        let fetch = Scratch::example("http_fetch");
        build(&fetch, target, &["--target", target]);
        fetch
    };
    let port = serve_page();
    let dns_port = free_port();
    let _dns = local_dns(&fetch.dir, dns_port, "www.petrel.test", "10.0.2.2");
    let run = |uri: &str, log: &str| {
        let mut cmd = petrel(&fetch.dir, target);
        cmd.args(["run", "--target", target, "--"])
            .arg(format!("--dns-servers=10.0.2.2:{dns_port}"))
            .arg(format!("--uri={uri}"));
        finish(&mut unprivileged(&cmd), &fetch.dir.join(log))
    };
    let len = page().len();
    for (uri, log) in [
        (format!("http://10.0.2.2:{port}/page"), "address.log"),
        (format!("http://www.petrel.test:{port}/page"), "name.log"),
    ] {
        let (code, log) = run(&uri, log);
        assert_eq!(code, 0, "{uri}\n--- log\n{log}");
        assert!(
            log.contains(&format!("http-fetch: {uri}: status 200, {len} bytes")),
            "{log}"
        );
    }
    let uri = format!("http://nowhere.petrel.test:{port}/");
    let (code, log) = run(&uri, "missing.log");
    fetch_failed(&uri, "no such name (NXDOMAIN)", code, &log);
}

/// The start of a namespace test: tools, namespace with `tap0`, build lock, `example` built.
fn tap_test(
    test: &str,
    tools: &[&str],
    example: &str,
    cache: &str,
    configure: &[&str],
) -> Option<(Netns, std::sync::MutexGuard<'static, ()>, Scratch)> {
    if !have_tools(test, tools) {
        return None;
    }
    let ns = Netns::create(test, "tap0")?;
    let lock = build_lock();
    let scratch = Scratch::example(example);
    build(&scratch, cache, configure);
    Some((ns, lock, scratch))
}

#[test]
fn unix_direct_stack_fetches_by_the_name_dnsmasq_gives() {
    let Some((ns, _lock, fetch)) = tap_test(
        "unix_direct_stack_fetches_by_the_name_dnsmasq_gives",
        &["dnsmasq", "nc"],
        "http_fetch",
        "unix",
        &["--target", "unix", "--net=direct"],
    ) else {
        return;
    };
    // DHCP, and DNS from the lease: www.petrel.test is the tap's host side.
    let _dnsmasq = ns.dnsmasq_with_names(
        &fetch.dir,
        "10.0.0.50",
        "10.0.0.60",
        &[("www.petrel.test", "10.0.0.1")],
    );
    let body = page();
    std::fs::write(fetch.dir.join("response"), response(&body)).expect("write the response");
    // nc sends the response to the first connection (its stdin is the file: Background's
    // own stdin is null), then closes its side.
    let mut nc = ns.tool("sh");
    nc.arg("-c")
        .arg("exec nc -N -l 10.0.0.1 8000 < \"$0\"")
        .arg(fetch.dir.join("response"));
    let _server = Background::spawn(&mut nc, fetch.dir.join("nc.log"));

    let uri = "http://www.petrel.test:8000/page";
    let mut cmd = petrel(&fetch.dir, "unix");
    cmd.args(["run", "--target", "unix", "--tap", "service=tap0", "--"])
        .arg(format!("--uri={uri}"));
    let (code, log) = finish(&mut ns.wrap(&cmd), &fetch.dir.join("run.log"));
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("DHCP lease: "), "{log}");
    let want = format!("http-fetch: {uri}: status 200, {} bytes", body.len());
    assert!(log.contains(&want), "{log}");
}

#[test]
fn spt_dns_lookup_asks_the_lease_dns_server() {
    solo5_dns_lookup_asks_the_lease_dns_server("spt_dns_lookup_asks_the_lease_dns_server", "spt");
}

/// UDP on hvt too: DHCP and DNS over the tender's NET_BASIC device.
#[test]
fn hvt_dns_lookup_asks_the_lease_dns_server() {
    solo5_dns_lookup_asks_the_lease_dns_server("hvt_dns_lookup_asks_the_lease_dns_server", "hvt");
}

fn solo5_dns_lookup_asks_the_lease_dns_server(test: &str, target: &str) {
    if !petrel_e2e::can_boot(test, target) {
        return;
    }
    let Some((ns, _lock, lookup)) = tap_test(
        test,
        &["dnsmasq"],
        "dns_lookup",
        target,
        &["--target", target],
    ) else {
        return;
    };
    let _dnsmasq = ns.dnsmasq_with_names(
        &lookup.dir,
        "10.0.0.50",
        "10.0.0.60",
        &[
            ("www.petrel.test", "10.0.0.1"),
            ("www.petrel.test", "fd00::1"),
        ],
    );
    let run = |name: &str, log: &str| {
        let mut cmd = petrel(&lookup.dir, target);
        cmd.args(["run", "--target", target, "--tap", "service=tap0", "--"])
            .arg(format!("--name={name}"));
        finish(&mut ns.wrap(&cmd), &lookup.dir.join(log))
    };
    let (code, log) = run("www.petrel.test", "found.log");
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("www.petrel.test has address 10.0.0.1 ("),
        "{log}"
    );
    assert!(
        log.contains("www.petrel.test has address fd00::1 ("),
        "{log}"
    );
    let (code, log) = run("nowhere.petrel.test", "missing.log");
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("dns-lookup: nowhere.petrel.test: no such name (NXDOMAIN)"),
        "{log}"
    );
}

#[test]
fn virtio_dns_lookup_asks_a_server_on_the_host_through_user_networking() {
    const TEST: &str = "virtio_dns_lookup_asks_a_server_on_the_host_through_user_networking";
    if !have_qemu(TEST) || !have_tools(TEST, &["dnsmasq"]) {
        return;
    }
    let _lock = build_lock();
    let lookup = Scratch::example("dns_lookup");
    build(&lookup, "virtio", &["--target", "virtio"]);
    let dns_port = free_port();
    let _dns = local_dns(&lookup.dir, dns_port, "www.petrel.test", "127.0.0.1");
    let mut cmd = petrel(&lookup.dir, "virtio");
    // QEMU's gateway 10.0.2.2 is the host's 127.0.0.1.
    cmd.args(["run", "--target", "virtio", "--", "--name=www.petrel.test"])
        .arg(format!("--dns-servers=10.0.2.2:{dns_port}"));
    let (code, log) = finish(&mut cmd, &lookup.dir.join("run.log"));
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("www.petrel.test has address 127.0.0.1 ("),
        "{log}"
    );
}

#[test]
fn unix_direct_stack_dns_lookup_says_no_server_and_timed_out() {
    let Some((ns, _lock, lookup)) = tap_test(
        "unix_direct_stack_dns_lookup_says_no_server_and_timed_out",
        &[],
        "dns_lookup",
        "unix",
        &["--target", "unix", "--net=direct", "--no-dhcp"],
    ) else {
        return;
    };
    let run = |extra: &[&str], log: &str| {
        let mut cmd = petrel(&lookup.dir, "unix");
        cmd.args(["run", "--target", "unix", "--tap", "service=tap0", "--"])
            .arg("--ipv4=10.0.0.2/24")
            .arg("--name=www.petrel.test")
            .args(extra);
        finish(&mut ns.wrap(&cmd), &lookup.dir.join(log))
    };
    // No DHCP lease and no --dns-servers: nobody to ask.
    let (code, log) = run(&[], "none.log");
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("dns-lookup: www.petrel.test: no DNS server (give --dns-servers=IP"),
        "{log}"
    );
    // A server that does not answer (nothing listens on the host side's port 5999).
    let (code, log) = run(&["--dns-servers=10.0.0.1:5999"], "silent.log");
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("dns-lookup: www.petrel.test: no DNS server answered in time"),
        "{log}"
    );
}
