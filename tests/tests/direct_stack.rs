//! Petrel's direct stack (`--net=direct`, petrel-stack-direct) end to end, with real
//! clients: examples/static_website and examples/network on unix over a tap in a fresh
//! network namespace (static addresses, DHCP from dnsmasq, and DHCP with no server),
//! static_website on virtio under QEMU (TCG) with user networking and `--publish`, on spt
//! and hvt (Petrel's runners) with a tap (static addresses and DHCP), and the hvt image
//! checked structurally.
//!
//! Each test makes its own namespace `petrel-<pid>-<n>` (deleted on drop, also after a
//! panic) and kills what it started (dnsmasq, `petrel run` and the unikernel) on drop.
//! Without root, `ip`, /dev/net/tun or the host tools a test prints a loud SKIPPED line,
//! except under CI (`CI` set), where that is a failure.

use petrel_e2e::netns::{Http, Netns, curl, have_tools};
use petrel_e2e::{Background, Scratch, build_lock, can_boot, expect, have_qemu, petrel, wait_for};
use petrel_solo5_abi::elf::{AbiTarget, DeviceType, check};
use std::net::Ipv4Addr;
use std::sync::MutexGuard;
use std::time::Duration;

/// How long the first answer of a unikernel built beforehand may take: `petrel run` still
/// configures and checks the build, then the stack comes up (and asks for a lease).
const STARTUP: Duration = Duration::from_secs(120);

/// How long a virtio guest under TCG may take to boot, get its lease and answer.
const BOOT: Duration = Duration::from_secs(180);

/// How long pings are retried (the first one may wait for ARP or neighbour discovery).
const PING: Duration = Duration::from_secs(10);

/// A file of examples/static_website/htdocs.
fn htdocs(rel: &str) -> Vec<u8> {
    let path = petrel_e2e::repo()
        .join("examples/static_website/htdocs")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `curl url`, successful only with status 200 (for waiting until the server answers).
fn get_200(ns: Option<&Netns>, url: &str) -> Result<Http, String> {
    match curl(ns, url)? {
        r if r.status == 200 => Ok(r),
        r => Err(format!("{url}: status {} ({:?})", r.status, r.content_type)),
    }
}

/// Checks the pages of static_website at `base` (`http://HOST:PORT`): bodies equal to
/// htdocs/, content types, a binary file's bytes, and 404 for a missing path.
fn check_site(ns: Option<&Netns>, base: &str, running: &Background) {
    for (path, file, ty) in [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/style.css", "style.css", "text/css; charset=utf-8"),
        ("/petrel.png", "petrel.png", "image/png"),
        ("/about/", "about/index.html", "text/html; charset=utf-8"),
    ] {
        let url = format!("{base}{path}");
        let r = curl(ns, &url).unwrap_or_else(|e| panic!("{e}\n--- log\n{}", running.log()));
        assert_eq!(r.status, 200, "{url}\n--- log\n{}", running.log());
        assert_eq!(r.content_type, ty, "{url}\n--- log\n{}", running.log());
        assert!(
            r.body == htdocs(file),
            "{url}: body differs from htdocs/{file}: {:?}\n--- log\n{}",
            String::from_utf8_lossy(&r.body),
            running.log()
        );
    }
    let url = format!("{base}/nope");
    let r = curl(ns, &url).unwrap_or_else(|e| panic!("{e}\n--- log\n{}", running.log()));
    assert_eq!(r.status, 404, "{url}\n--- log\n{}", running.log());
}

/// `petrel build` of `example` with `args` (outside any namespace: cargo may need the
/// network), so that `petrel run` later only checks the build.
fn build(example: &Scratch, cache: &str, args: &[&str]) {
    expect(petrel(&example.dir, cache).arg("build").args(args), 0);
}

/// The start of a test over a tap: its host tools, a fresh namespace with tap interface
/// `tap`, the build lock (held for the whole test: `petrel run` re-checks the shared build),
/// and `example` built for `cache` with the configure arguments `configure`. `None`, after
/// a loud SKIPPED line, when this machine cannot run it.
fn tap_test(
    test: &str,
    tools: &[&str],
    tap: &str,
    example: &str,
    cache: &str,
    configure: &[&str],
) -> Option<(Netns, MutexGuard<'static, ()>, Scratch)> {
    if !have_tools(test, tools) {
        return None;
    }
    let ns = Netns::create(test, tap)?;
    let lock = build_lock();
    let scratch = Scratch::example(example);
    build(&scratch, cache, configure);
    Some((ns, lock, scratch))
}

#[test]
fn unix_static_addresses_serve_the_website_over_a_tap() {
    // Not the default tap0: `petrel run --tap service=IF` must reach the unikernel.
    let Some((ns, _lock, site)) = tap_test(
        "unix_static_addresses_serve_the_website_over_a_tap",
        &["ping", "curl"],
        "ptap0",
        "static_website",
        "unix",
        &["--target", "unix", "--net=direct", "--no-dhcp"],
    ) else {
        return;
    };
    let mut cmd = petrel(&site.dir, "unix");
    cmd.args(["run", "--target", "unix", "--tap", "service=ptap0", "--"])
        .args(["--ipv4=10.0.0.2/24", "--ipv6=fd00::2/64"]);
    let mut running = Background::spawn(&mut ns.wrap(&cmd), site.dir.join("run.log"));

    wait_for("GET / over IPv4", STARTUP, &mut running, |_| {
        get_200(Some(&ns), "http://10.0.0.2:8080/")
    });
    check_site(Some(&ns), "http://10.0.0.2:8080", &running);
    check_site(Some(&ns), "http://[fd00::2]:8080", &running);
    for addr in ["10.0.0.2", "fd00::2"] {
        if let Err(e) = ns.ping(addr, PING) {
            panic!("{e}\n--- log\n{}", running.log());
        }
    }
    let log = running.log();
    assert!(log.contains(": 10.0.0.2/24"), "static address: {log}");
    assert!(!log.contains("DHCP"), "--no-dhcp asks for no lease: {log}");
    assert!(
        log.contains("static-website: listening on 0.0.0.0:8080")
            && log.contains("static-website: listening on [::]:8080"),
        "{log}"
    );
}

/// The address of `DHCP lease: A/P, gateway G` in `log`, with its prefix length.
fn leased(log: &str) -> Option<(Ipv4Addr, u8, &str)> {
    let line = log.lines().find_map(|l| l.split_once("DHCP lease: "))?.1;
    let (cidr, rest) = line.split_once(", ")?;
    let (addr, len) = cidr.split_once('/')?;
    Some((addr.parse().ok()?, len.parse().ok()?, rest))
}

#[test]
fn unix_dhcp_lease_from_dnsmasq_serves_the_website() {
    // The default keys: --net=direct off unix only, so name it; --dhcp is the default.
    let Some((ns, _lock, site)) = tap_test(
        "unix_dhcp_lease_from_dnsmasq_serves_the_website",
        &["dnsmasq", "ping", "curl"],
        "tap0",
        "static_website",
        "unix",
        &["--target", "unix", "--net=direct"],
    ) else {
        return;
    };
    let mut dnsmasq = ns.dnsmasq(&site.dir, "10.0.0.50", "10.0.0.60");
    // Without --tap the device would get a user-mode network instead.
    let mut cmd = petrel(&site.dir, "unix");
    cmd.args(["run", "--target", "unix", "--tap", "service=tap0"]);
    let mut running = Background::spawn(&mut ns.wrap(&cmd), site.dir.join("run.log"));

    let (addr, len, rest) = wait_for("a DHCP lease", STARTUP, &mut running, |r| {
        let log = r.log();
        leased(&log)
            .map(|(a, l, rest)| (a, l, rest.to_string()))
            .ok_or_else(|| "no `DHCP lease:` line yet".to_string())
    });
    let range = Ipv4Addr::new(10, 0, 0, 50)..=Ipv4Addr::new(10, 0, 0, 60);
    assert!(
        range.contains(&addr) && len == 24,
        "lease {addr}/{len} outside dnsmasq's range\n--- log\n{}\n--- dnsmasq\n{}",
        running.log(),
        dnsmasq.log()
    );
    assert_eq!(
        rest,
        "gateway 10.0.0.1",
        "dnsmasq's router option\n--- log\n{}",
        running.log()
    );
    // dnsmasq agrees: the lease is in its file.
    let leases = site.dir.join("dnsmasq.leases");
    wait_for("dnsmasq's lease file", PING, &mut dnsmasq, |_| {
        let text = std::fs::read_to_string(&leases).unwrap_or_default();
        if text.contains(&format!(" {addr} ")) {
            Ok(())
        } else {
            Err(format!("lease file: {text:?}"))
        }
    });

    let base = format!("http://{addr}:8080");
    wait_for("GET / at the leased address", STARTUP, &mut running, |_| {
        get_200(Some(&ns), &format!("{base}/"))
    });
    check_site(Some(&ns), &base, &running);
    if let Err(e) = ns.ping(&addr.to_string(), PING) {
        panic!("{e}\n--- log\n{}", running.log());
    }
    // The app started only after the lease.
    let log = running.log();
    let lease_at = log.find("DHCP lease: ").expect("seen above");
    let listen_at = log.find("static-website: listening").expect("served above");
    assert!(
        lease_at < listen_at,
        "the app started before the lease: {log}"
    );
}

#[test]
fn unix_dhcp_without_a_server_says_so_and_does_not_start_the_app() {
    let Some((ns, _lock, site)) = tap_test(
        "unix_dhcp_without_a_server_says_so_and_does_not_start_the_app",
        &[],
        "tap0",
        "static_website",
        "unix",
        &["--target", "unix", "--net=direct"],
    ) else {
        return;
    };
    // No dnsmasq in this namespace: nobody answers the DHCP requests.
    let mut cmd = petrel(&site.dir, "unix");
    cmd.args(["run", "--target", "unix", "--tap", "service=tap0"]);
    let mut running = Background::spawn(&mut ns.wrap(&cmd), site.dir.join("run.log"));
    wait_for("the no-lease reminder", STARTUP, &mut running, |r| {
        let log = r.log();
        if log.contains("no DHCP lease after 10 s") {
            Ok(())
        } else {
            Err("no reminder yet".to_string())
        }
    });
    let log = running.log();
    assert!(
        log.contains("(--ipv4=ADDRESS/PREFIX sets a static address)"),
        "the reminder gives the way out: {log}"
    );
    assert!(
        !log.contains("listening"),
        "the app must not start without an address: {log}"
    );
}

#[test]
fn unix_network_example_echoes_over_a_tap() {
    let Some((ns, _lock, net)) = tap_test(
        "unix_network_example_echoes_over_a_tap",
        &["nc"],
        "tap0",
        "network",
        "unix",
        &["--target", "unix", "--net=direct", "--no-dhcp"],
    ) else {
        return;
    };
    let mut cmd = petrel(&net.dir, "unix");
    cmd.args(["run", "--target", "unix", "--tap", "service=tap0", "--"])
        .args(["--ipv4=10.0.0.2/24", "--ipv6=fd00::2/64", "--port=7777"]);
    let mut running = Background::spawn(&mut ns.wrap(&cmd), net.dir.join("run.log"));

    wait_for("an echo", STARTUP, &mut running, |_| {
        match ns.nc(&net.dir, "10.0.0.2", 7777, b"ping\n")? {
            got if got == b"ping\n" => Ok(()),
            got => Err(format!("sent ping, got {got:?}")),
        }
    });
    // ~100 KB both ways: more than the stack's windows, so the sender must wait for the
    // echo to be read (back-pressure) and the receiver must reopen its window.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for addr in ["10.0.0.2", "fd00::2"] {
        let got = ns
            .nc(&net.dir, addr, 7777, b"hello petrel")
            .unwrap_or_else(|e| panic!("{e}\n--- log\n{}", running.log()));
        assert_eq!(got, b"hello petrel", "{addr}\n--- log\n{}", running.log());
        let got = ns
            .nc(&net.dir, addr, 7777, &big)
            .unwrap_or_else(|e| panic!("{e}\n--- log\n{}", running.log()));
        assert_eq!(
            got.len(),
            big.len(),
            "{addr}: 100 KB echo length\n--- log\n{}",
            running.log()
        );
        assert!(
            got == big,
            "{addr}: 100 KB echo differs\n--- log\n{}",
            running.log()
        );
    }
    let log = running.log();
    assert_eq!(log.matches("closed after 100000 bytes").count(), 2, "{log}");
    assert!(log.contains("network: listening on [::]:7777"), "{log}");
}

/// The two_stacks boot arguments of static addresses, each from its instance's argument.
const STATIC: &[&str] = &["--public-ipv4=10.0.0.2/24", "--private-ipv4=10.0.1.2/24"];

/// examples/two_stacks on `target`: two direct stacks on two taps of one namespace, each
/// with its own address from its own prefixed boot argument (`--public-ipv4`,
/// `--private-ipv4`), each tap attached to its instance with `--tap NAME=IF` (on unix, the
/// boot arguments `--pubnet-interface` and `--privnet-interface`); each stack answers with
/// its own name. `args` are the boot arguments after the taps.
fn two_stacks_answer_on_their_own_taps(
    test: &str,
    target: &str,
    configure: &[&str],
    args: &[&str],
) {
    let Some((ns, _lock, two)) = tap_test(test, &["nc"], "tap0", "two_stacks", target, configure)
    else {
        return;
    };
    ns.add_tap("tap1", "10.0.1.1/24")
        .unwrap_or_else(|e| panic!("second tap: {e}"));
    let mut cmd = petrel(&two.dir, target);
    cmd.args(["run", "--target", target])
        .args(["--tap", "pubnet=tap0", "--tap", "privnet=tap1", "--"])
        .args(args);
    let mut running = Background::spawn(&mut ns.wrap(&cmd), two.dir.join("run.log"));
    for (addr, name) in [("10.0.0.2", "public"), ("10.0.1.2", "private")] {
        wait_for(name, STARTUP, &mut running, |_| {
            match ns.nc(&two.dir, addr, 7, b"")? {
                got if got == format!("{name}\n").as_bytes() => Ok(()),
                got => Err(format!("{addr}: expected {name}, got {got:?}")),
            }
        });
    }
    let log = running.log();
    assert!(
        log.contains("stack `public` on `pubnet`: 10.0.0.2/24"),
        "{log}"
    );
    assert!(
        log.contains("stack `private` on `privnet`: 10.0.1.2/24"),
        "{log}"
    );
    if matches!(target, "unix" | "spt") {
        // A stack's message names its instance's arguments as typed (`--private-ipv4`).
        drop(running);
        let mut cmd = petrel(&two.dir, target);
        cmd.args(["run", "--target", target])
            .args(["--tap", "pubnet=tap0", "--tap", "privnet=tap1", "--"])
            .args([
                "--private-ipv4=10.0.1.2/24",
                "--private-ipv4-gateway=10.0.9.1",
            ]);
        let ran = expect(&mut ns.wrap(&cmd), 64);
        assert!(
            ran.all().contains(
                "stack `private`: --private-ipv4-gateway=10.0.9.1 is not in the network --private-ipv4=10.0.1.2/24"
            ),
            "{}",
            ran.all()
        );
    }
}

#[test]
fn unix_two_stacks_answer_on_their_own_taps() {
    two_stacks_answer_on_their_own_taps(
        "unix_two_stacks_answer_on_their_own_taps",
        "unix",
        &["--target", "unix", "--net=direct", "--no-dhcp"],
        STATIC,
    );
}

/// On spt, DHCP stays on for the unikernel but the public stack has its own key
/// `dhcp = false` (`--key public.dhcp=false`): it takes the static default 10.0.0.2/24 without
/// asking for a lease (there is no DHCP server: asking would never end), while the private
/// stack, built with DHCP, takes the address its boot argument gives.
#[test]
fn spt_two_stacks_answer_on_their_own_taps() {
    two_stacks_answer_on_their_own_taps(
        "spt_two_stacks_answer_on_their_own_taps",
        "spt",
        &["--target", "spt", "--dhcp", "--key", "public.dhcp=false"],
        &["--private-ipv4=10.0.1.2/24"],
    );
}

#[test]
fn hvt_two_stacks_answer_on_their_own_taps() {
    const TEST: &str = "hvt_two_stacks_answer_on_their_own_taps";
    if can_boot(TEST, "hvt") {
        two_stacks_answer_on_their_own_taps(TEST, "hvt", &["--target", "hvt", "--no-dhcp"], STATIC);
    }
}

#[test]
fn virtio_two_stacks_answer_on_their_own_taps() {
    if have_qemu("virtio_two_stacks_answer_on_their_own_taps") {
        two_stacks_answer_on_their_own_taps(
            "virtio_two_stacks_answer_on_their_own_taps",
            "virtio",
            &["--target", "virtio", "--no-dhcp"],
            STATIC,
        );
    }
}

#[test]
fn virtio_serves_the_website_through_qemu_user_networking() {
    const TEST: &str = "virtio_serves_the_website_through_qemu_user_networking";
    if !have_qemu(TEST) || !have_tools(TEST, &["curl"]) {
        return;
    }
    let _lock = build_lock();
    let site = Scratch::example("static_website");
    // The defaults off unix: the direct stack, with DHCP (QEMU's user networking answers).
    build(&site, "virtio", &["--target", "virtio"]);
    let image = site.dir.join("dist/static-website.virtio");
    petrel_e2e::inspect::check(&site, "static-website", "virtio", &image);
    let port = petrel_e2e::free_port();
    let mut cmd = petrel(&site.dir, "virtio");
    cmd.args(["run", "--target", "virtio", "--publish"])
        .arg(format!("{port}:8080"));
    let mut running = Background::spawn(&mut cmd, site.dir.join("run.log"));

    // QEMU accepts on the forwarded port before the guest listens: wait for a reply.
    let base = format!("http://127.0.0.1:{port}");
    wait_for("GET / through hostfwd", BOOT, &mut running, |_| {
        get_200(None, &format!("{base}/"))
    });
    check_site(None, &base, &running);
    let log = running.log();
    assert!(log.contains("DHCP lease: 10.0.2.15/24"), "{log}");
}

/// static_website on a Solo5 `target` over a tap: static addresses (both families, a few
/// GETs and pings), or with `dhcp` a lease from dnsmasq (GETs and a ping at that address).
fn solo5_serves_the_website_over_a_tap(test: &str, target: &str, dhcp: bool) {
    if !can_boot(test, target) {
        return;
    }
    let tools: &[&str] = if dhcp {
        &["dnsmasq", "ping", "curl"]
    } else {
        &["ping", "curl"]
    };
    let keys = [
        "--target",
        target,
        if dhcp { "--dhcp" } else { "--no-dhcp" },
    ];
    let Some((ns, _lock, site)) = tap_test(test, tools, "tap0", "static_website", target, &keys)
    else {
        return;
    };
    let image = site.dir.join(format!("dist/static-website.{target}"));
    petrel_e2e::inspect::check(&site, "static-website", target, &image);
    let _dnsmasq = dhcp.then(|| ns.dnsmasq(&site.dir, "10.0.0.50", "10.0.0.60"));
    let mut cmd = petrel(&site.dir, target);
    cmd.args(["run", "--target", target, "--tap", "service=tap0", "--"]);
    if !dhcp {
        cmd.args(["--ipv4=10.0.0.2/24", "--ipv6=fd00::2/64"]);
    }
    let mut running = Background::spawn(&mut ns.wrap(&cmd), site.dir.join("run.log"));

    let addrs: Vec<String> = if dhcp {
        let addr = wait_for("a DHCP lease", STARTUP, &mut running, |r| {
            leased(&r.log())
                .map(|(a, _, _)| a)
                .ok_or_else(|| "no `DHCP lease:` line yet".to_string())
        });
        vec![addr.to_string()]
    } else {
        vec!["10.0.0.2".to_string(), "fd00::2".to_string()]
    };
    let v4 = format!("http://{}:8080", addrs[0]);
    wait_for("GET / over IPv4", STARTUP, &mut running, |_| {
        get_200(Some(&ns), &format!("{v4}/"))
    });
    check_site(Some(&ns), &v4, &running);
    if !dhcp {
        check_site(Some(&ns), "http://[fd00::2]:8080", &running);
    }
    for addr in &addrs {
        if let Err(e) = ns.ping(addr, PING) {
            panic!("{e}\n--- log\n{}", running.log());
        }
    }
}

#[test]
fn spt_serves_the_website_over_a_tap() {
    solo5_serves_the_website_over_a_tap("spt_serves_the_website_over_a_tap", "spt", false);
}

#[test]
fn hvt_serves_the_website_over_a_tap() {
    solo5_serves_the_website_over_a_tap("hvt_serves_the_website_over_a_tap", "hvt", false);
}

#[test]
fn hvt_dhcp_lease_from_dnsmasq_serves_the_website() {
    solo5_serves_the_website_over_a_tap(
        "hvt_dhcp_lease_from_dnsmasq_serves_the_website",
        "hvt",
        true,
    );
}

#[test]
fn hvt_image_with_the_direct_stack_follows_the_abi() {
    let _lock = build_lock();
    let site = Scratch::example("static_website");
    build(&site, "hvt", &["--target", "hvt"]);
    let app = site.read(".petrel/app/Cargo.toml");
    assert!(app.contains("petrel-stack-direct"), "{app}");
    let path = site.dir.join("dist/static-website.hvt");
    petrel_e2e::inspect::check(&site, "static-website", "hvt", &path);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let image = check(&bytes, AbiTarget::Hvt).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(image.abi.version, 2);
    let devices: Vec<(String, DeviceType)> = image
        .manifest
        .entries
        .iter()
        .skip(1)
        .map(|e| (e.name_str().into_owned(), e.device_type))
        .collect();
    assert_eq!(devices, [("service".to_string(), DeviceType::Net)]);
    assert!(
        check(&bytes, AbiTarget::Spt).is_err(),
        "the hvt image passes for spt"
    );
}
