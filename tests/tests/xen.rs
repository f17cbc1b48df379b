//! The xen target end to end, on a real Xen: the `xen-hello` fixture (built with cargo for
//! `x86_64-unknown-none` against `petrel-platform-xen`, no configure) booted as PVH guests by
//! `scripts/xen-testbed.sh`, which runs Xen 4.17 and a Debian dom0 under QEMU (TCG) and all
//! the guests of the test in that one dom0, each with `xl create -F -c`. The hello guest
//! also talks to the dom0's xenstored through the runtime's xenstore client.
//!
//! Xen keeps only a shutdown reason; the runtime prints `petrel: exit status N` last, and
//! the testbed maps that back (`NAME.status`), which is what is checked here, beside the
//! reason code and the console text.
//!
//! The same dom0 also boots the examples as `petrel build --target xen` makes them (hello,
//! hello-key with exact arguments, `--help`, a bad argument, a panic, kv_ro crunch, block on a
//! PV disk, static_website on the PV network probed from dom0 with a static address and
//! with DHCP), and real xl parses the xl configurations Petrel writes; then one
//! `petrel run --target xen` goes through the testbed as a user's would.

use petrel_e2e::{
    Background, Scratch, build_lock, expect, free_port, have_qemu, petrel, repo, run, skip,
    wait_for,
};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `GET /` from 127.0.0.1:`port`: the whole response, or why not.
fn http_get(port: u16) -> Result<String, String> {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    conn.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    conn.read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    if response.starts_with("HTTP/1.") {
        Ok(response)
    } else {
        Err(format!("not an HTTP response: {response:?}"))
    }
}

/// The target directory of the fixture build (beside the other e2e caches).
fn fixture_target() -> PathBuf {
    repo().join("target/e2e-cache/xen-fixture")
}

/// Builds the fixture and returns the image.
fn build_fixture() -> PathBuf {
    let dir = repo().join("tests/fixtures/xen-hello");
    let ran = run(Command::new(env!("CARGO"))
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", fixture_target())
        .args(["build", "--release", "--quiet"]));
    assert_eq!(ran.code, 0, "building xen-hello failed:\n{}", ran.all());
    fixture_target().join("x86_64-unknown-none/release/xen-hello")
}

/// Builds `project` with `petrel build --target xen` (and `keys`) and returns its image.
fn build_example(project: &Scratch, name: &str, keys: &[&str]) -> PathBuf {
    expect(
        petrel(&project.dir, "xen")
            .args(["build", "--target", "xen"])
            .args(keys),
        0,
    );
    let xl = project.read(&format!("dist/{name}.xl"));
    assert!(
        xl.contains("type = \"pvh\"") && xl.contains(&format!("/dist/{name}.xen\"")),
        "{xl}"
    );
    project.dir.join(format!("dist/{name}.xen"))
}

/// The `Hello world!` example lines' timestamps (`2026-...T05:08:57-00:00: [INFO] ...`).
fn log_seconds(console: &str, needle: &str) -> Vec<String> {
    console
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| l.split(": [INFO]").next().map(str::to_string))
        .collect()
}

/// What the testbed reported for one guest.
struct Guest {
    console: String,
    reason: String,
    status: String,
}

fn guest(out: &Path, name: &str) -> Guest {
    let read = |ext: &str| {
        std::fs::read_to_string(out.join(format!("{name}.{ext}")))
            .unwrap_or_else(|e| panic!("{name}.{ext}: {e}"))
    };
    Guest {
        console: read("console"),
        reason: read("reason").trim().to_string(),
        status: read("status").trim().to_string(),
    }
}

/// Guest `name`, once its shutdown reason and mapped status are `expected` and its console
/// holds `needle`.
#[track_caller]
fn expect_guest(out: &Path, name: &str, expected: (&str, &str), needle: &str) -> Guest {
    let g = guest(out, name);
    assert_eq!(
        (g.reason.as_str(), g.status.as_str()),
        expected,
        "{name}:\n{}",
        g.console
    );
    assert!(
        g.console.contains(needle),
        "{name}: no {needle:?} in\n{}",
        g.console
    );
    g
}

/// The `t = N ms` of each "Hello world!" line.
fn hello_times(console: &str) -> Vec<u64> {
    console
        .lines()
        .filter_map(|l| l.strip_prefix("Hello world! (t = "))
        .filter_map(|l| l.strip_suffix(" ms)"))
        .filter_map(|n| n.parse().ok())
        .collect()
}

#[test]
fn xen_hello_runs_on_a_real_xen() {
    const TEST: &str = "xen_hello_runs_on_a_real_xen";
    if !have_qemu(TEST) {
        return;
    }
    let script = repo().join("scripts/xen-testbed.sh");
    let setup = run(Command::new(&script).arg("setup"));
    match setup.code {
        0 => {}
        2 => return skip(TEST, setup.stderr.trim()),
        code => panic!("xen-testbed.sh setup exited {code}:\n{}", setup.all()),
    }
    let (hello_ex, key_ex, panics_ex, kv_ex, block_ex, web_ex) = (
        Scratch::example("hello"),
        Scratch::example("hello-key"),
        Scratch::fixture("panics"),
        Scratch::example("kv_ro"),
        Scratch::example("block"),
        Scratch::example("static_website"),
    );
    let (disks_ex, stacks_ex) = (
        Scratch::example("two_disks"),
        Scratch::example("two_stacks"),
    );
    let (image, hello_img, key_img, panics_img, kv_img, block_img, web_img) = {
        let _lock = build_lock();
        (
            build_fixture(),
            build_example(&hello_ex, "hello", &[]),
            build_example(&key_ex, "hello-key", &[]),
            build_example(&panics_ex, "panics", &[]),
            build_example(&kv_ex, "kv-ro", &[]),
            build_example(&block_ex, "block", &[]),
            build_example(&web_ex, "static-website", &[]),
        )
    };
    let (disks_img, stacks_img) = {
        let _lock = build_lock();
        (
            build_example(&disks_ex, "two-disks", &[]),
            build_example(&stacks_ex, "two-stacks", &["--no-dhcp", "--mem", "48"]),
        )
    };
    // static_website's network device (net-xen: the first is device/vif/0).
    let web_xl = web_ex.read("dist/static-website.xl");
    assert!(web_xl.contains("vif = [ \"bridge=xenbr0\" ]"), "{web_xl}");
    // The block example's disk, in manifest order (block-xen: the first is xvda).
    let block_xl = block_ex.read("dist/block.xl");
    assert!(
        block_xl.contains("disk = [ \"format=raw,vdev=xvda,access=rw,target=")
            && block_xl.contains("/dist/storage.img\" ]"),
        "{block_xl}"
    );

    // Outside Xen (plain QEMU loads the same PVH note): one clear line, and it stops.
    let plain = run(Command::new("timeout")
        .args([
            "30",
            "qemu-system-x86_64",
            "-accel",
            "tcg",
            "-display",
            "none",
        ])
        .args(["-nodefaults", "-no-reboot", "-serial", "stdio"])
        .args([
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel",
        ])
        .arg(&image));
    assert_eq!(plain.code, 255, "{}", plain.all());
    assert_eq!(
        plain.stdout.trim(),
        "petrel: this is a Xen PVH image, but CPUID shows no Xen hypervisor (no \"XenVMMXenVMM\" leaf): stopping",
    );

    // All the guests in one dom0.
    let out = fixture_target().join("testbed-out");
    let _ = std::fs::remove_dir_all(&out);
    let img = image.to_str().expect("UTF-8 path");
    let path = |p: &PathBuf| p.to_str().expect("UTF-8 path").to_string();
    let (hello_img, key_img, panics_img, kv_img, block_img, web_img) = (
        path(&hello_img),
        path(&key_img),
        path(&panics_img),
        path(&kv_img),
        path(&block_img),
        path(&web_img),
    );
    let (disks_img, stacks_img) = (path(&disks_img), path(&stacks_img));
    // static_website is a server: dom0 probes it over the PV network (busybox ping and wget
    // on the bridge, 10.0.0.1/24), with a static address and with a lease from dom0's DHCP.
    std::fs::create_dir_all(&out).expect("output directory");
    let probe = |name: &str, find_address: &str| {
        let file = out.join(format!("{name}.sh"));
        let script = format!(
            "{find_address}\n\
             i=0\n\
             until ping -c 1 -W 1 \"$addr\" >/dev/null 2>&1; do\n\
             \x20   i=$((i + 1)); [ $i -lt 60 ] || {{ echo \"probe: no ping reply from $addr\"; exit 1; }}\n\
             done\n\
             echo \"probe: ping $addr answered\"\n\
             wget -q -O - \"http://$addr:8080/\"\n"
        );
        std::fs::write(&file, script).expect("probe script");
        format!("{name}={}", file.display())
    };
    let probes = [
        probe("ex-web-static", "addr=10.0.0.2"),
        // The lease, from the guest's console as dom0's xenconsoled logs it.
        probe(
            "ex-web-dhcp",
            "i=0\n\
             until addr=$(sed -n 's/.*DHCP lease: \\([0-9.]*\\)\\/.*/\\1/p' /var/log/xen/console/guest-$1.log) && [ -n \"$addr\" ]; do\n\
             \x20   i=$((i + 1)); [ $i -lt 100 ] || { echo 'probe: no DHCP lease'; exit 1; }; sleep 0.2\n\
             done\n\
             echo \"probe: leased $addr\"",
        ),
    ];
    // two_stacks: a vif on each bridge, in manifest order (by name): privnet's vif/0 on
    // xenbr1 (10.0.1.0/24), pubnet's vif/1 on xenbr0 (10.0.0.0/24); each stack answers its
    // port 7 with its own name.
    let stacks_probe = out.join("ex-two-stacks.sh");
    std::fs::write(
        &stacks_probe,
        "for addr in 10.0.0.3 10.0.1.3; do\n\
         \x20   i=0\n\
         \x20   until ping -c 1 -W 1 $addr >/dev/null 2>&1; do\n\
         \x20       i=$((i + 1)); [ $i -lt 8 ] || { echo \"probe: no ping reply from $addr\"; exit 1; }\n\
         \x20   done\n\
         \x20   echo \"probe: $addr says $(nc -w 5 $addr 7 </dev/null)\"\n\
         done\n",
    )
    .expect("probe script");
    let probes = [
        probes[0].clone(),
        probes[1].clone(),
        format!("ex-two-stacks={}", stacks_probe.display()),
    ];
    // petrel itself on the dom0 (the host's binary, on the host's glibc copied in): its
    // dom0 path, `xl create -F -c` on a real xl, with the console and the exit status
    // mapped back. `run-image` is what `petrel run` boots with once the image is built.
    let dom0_run = |name: &str, args: &str| {
        let file = out.join(format!("{name}.sh"));
        std::fs::write(
            &file,
            format!("petrel run-image --target xen \"$1\" {args}\necho \"petrel exited $?\"\n"),
        )
        .expect("command script");
        format!("{name}={}", file.display())
    };
    let commands = [
        dom0_run("dom0-key", r#"'--hello=Hello, "world" \o/'"#),
        dom0_run("dom0-key-bad", "--helo=x"),
        dom0_run("dom0-panic", ""),
    ];
    // Its storage (xvdb, the second by name) smaller than its backup (xvda): swapped
    // devices would fail ("backup has 128 sectors, storage 2048").
    let small_disk = out.join("storage-64k.img");
    std::fs::write(&small_disk, vec![0u8; 64 * 1024]).expect("disk file");
    // The examples' command lines as `petrel run` quotes them for the bootvar splitter
    // (the testbed escapes them once more for xl).
    let tricky_line = r#""--hello=Hello, \"world\" \\o/""#;
    let guests = [
        ("hello", img, "xenstore grant bulk"),
        ("help", img, "--help"),
        ("bad", img, "--frobnicate"),
        ("panic", img, "panic"),
        ("fault", img, "fault"),
        ("overflow", img, "overflow"),
        ("devices", img, "vif disk"),
        ("ex-hello", &hello_img, ""),
        ("ex-key", &key_img, tricky_line),
        ("ex-key-help", &key_img, "--help"),
        ("ex-key-bad", &key_img, "--helo=x"),
        ("ex-panic", &panics_img, ""),
        ("ex-kv", &kv_img, "--key=docs/about.txt"),
        ("ex-block", &block_img, ""),
        ("ex-web-static", &web_img, "--ipv4=10.0.0.2/24"),
        ("ex-web-dhcp", &web_img, ""),
        ("ex-two-disks", &disks_img, ""),
        (
            "ex-two-stacks",
            &stacks_img,
            "--public-ipv4=10.0.0.3/24 --private-ipv4=10.0.1.3/24",
        ),
        ("dom0-key", &key_img, ""),
        ("dom0-key-bad", &key_img, ""),
        ("dom0-panic", &panics_img, ""),
    ];
    // The xl configurations Petrel writes, parsed by the dom0's real xl (`xl -N create`):
    // static_website's and block's from `petrel build`, and the one `petrel run` would boot
    // hello-key with on a dom0 (the tricky argument quoted twice).
    let run_xl = out.join("hello-key-run.xl");
    let tricky_arg = r#"--hello=Hello, "world" \o/"#.to_string();
    let text = petrel_cli::run::xen::config(
        "hello-key",
        Path::new(&key_img),
        &run_xl,
        std::slice::from_ref(&tricky_arg),
        &petrel_cli::run::BootDevices {
            mem_mib: Some(48),
            ..petrel_cli::run::BootDevices::default()
        },
        "run",
    )
    .expect("renders");
    std::fs::write(&run_xl, text).expect("write");
    let xl_checks = [
        run_xl.clone(),
        web_ex.dir.join("dist/static-website.xl"),
        block_ex.dir.join("dist/block.xl"),
        disks_ex.dir.join("dist/two-disks.xl"),
        stacks_ex.dir.join("dist/two-stacks.xl"),
    ];
    let mut cmd = Command::new(&script);
    cmd.env("XEN_TESTBED_GUEST_TIMEOUT", "20")
        .env(
            "XEN_TESTBED_XL_CHECK",
            xl_checks
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
        )
        .env(
            "XEN_TESTBED_VIF",
            "devices ex-web-static ex-web-dhcp ex-two-stacks=xenbr1,xenbr0",
        )
        .env("XEN_TESTBED_PROBE", probes.join(" "))
        .env(
            "XEN_TESTBED_DISK",
            format!(
                "devices ex-block ex-two-disks ex-two-disks={}",
                small_disk.display()
            ),
        )
        .env("XEN_TESTBED_MEMORY", "hello=48")
        .env("XEN_TESTBED_TOOLS", petrel_e2e::bin_dir().join("petrel"))
        .env("XEN_TESTBED_COMMAND", commands.join(" "))
        .arg("run")
        .arg(&out);
    for (name, image, cmdline) in guests {
        cmd.args([name, image, cmdline]);
    }
    let start = Instant::now();
    let ran = run(&mut cmd);
    eprintln!(
        "xen testbed: {} guests in one dom0 in {:.1} s\n{}",
        guests.len(),
        start.elapsed().as_secs_f64(),
        ran.stdout
    );
    let serial = || std::fs::read_to_string(out.join("serial.log")).unwrap_or_default();
    assert_eq!(ran.code, 0, "{}\n--- serial.log\n{}", ran.all(), serial());

    let hello = guest(&out, "hello");
    assert_eq!(
        (hello.reason.as_str(), hello.status.as_str()),
        ("0", "0"),
        "{}",
        hello.console
    );
    assert!(
        hello
            .console
            .starts_with("cmdline: \"xenstore grant bulk\"\n"),
        "{}",
        hello.console
    );
    // XEN_TESTBED_MEMORY gave it 48 MiB: the heap is the rest after the image.
    let heap: u64 = hello
        .console
        .lines()
        .find_map(|l| l.strip_prefix("heap: "))
        .and_then(|l| l.strip_suffix(" KiB"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no heap line:\n{}", hello.console));
    assert!((40_000..49_152).contains(&heap), "heap {heap} KiB");
    // The xenstore client against the dom0's real xenstored.
    for line in [
        "xenstore: name Ok(\"hello\"), domid Ok(\"1\")",
        "xenstore: write Ok(()), read back Ok(\"hello from the guest\")",
        "xenstore: missing key Err(Store(\"ENOENT\"))",
        // Reference 8: the first after the toolstack's reserved ones.
        "grant: ref 8 for frame ",
        ", revoked Ok(()), 2040 free",
        " for dom0, closed",
    ] {
        assert!(
            hello.console.contains(line),
            "no {line:?} in\n{}",
            hello.console
        );
    }
    // 6.4 KiB through the 2 KiB console ring, nothing lost or reordered.
    let bulk: Vec<&str> = hello
        .console
        .lines()
        .filter(|l| l.starts_with("bulk "))
        .collect();
    let expected: Vec<String> = (0..100)
        .map(|i| format!("bulk {i:03} {}", "#".repeat(55)))
        .collect();
    assert_eq!(bulk, expected, "{}", hello.console);
    let times = hello_times(&hello.console);
    assert_eq!(times.len(), 4, "{}", hello.console);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (1000..1200).contains(&gap),
            "hellos {gap} ms apart by the guest's clock:\n{}",
            hello.console
        );
    }
    // Xen's wall clock is the host's (the testbed's QEMU RTC starts from it).
    let wall: u64 = hello
        .console
        .lines()
        .find_map(|l| l.strip_prefix("wall clock: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no wall clock line:\n{}", hello.console));
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert!(
        wall + 300 > host && wall <= host,
        "guest wall clock {wall}, host {host}"
    );
    assert!(
        hello.console.ends_with("petrel: exit status 0\n"),
        "{}",
        hello.console
    );

    let help = guest(&out, "help");
    assert_eq!((help.reason.as_str(), help.status.as_str()), ("3", "63"));
    assert!(
        help.console.contains("usage: xen-hello"),
        "{}",
        help.console
    );

    let bad = guest(&out, "bad");
    assert_eq!((bad.reason.as_str(), bad.status.as_str()), ("3", "64"));
    assert!(
        bad.console.contains("cmdline: \"--frobnicate\"\nheap: ")
            && bad.console.contains("unknown argument \"--frobnicate\""),
        "{}",
        bad.console
    );

    let panic = guest(&out, "panic");
    assert_eq!((panic.reason.as_str(), panic.status.as_str()), ("3", "255"));
    assert!(
        panic.console.contains("panicked at src/main.rs")
            && panic.console.contains("the command line asked for a panic"),
        "{}",
        panic.console
    );

    let fault = guest(&out, "fault");
    assert_eq!((fault.reason.as_str(), fault.status.as_str()), ("3", "255"));
    assert!(
        fault
            .console
            .contains("petrel: CPU exception 14 (page fault), error code 0x0")
            && fault.console.contains(", address 0x0\n"),
        "{}",
        fault.console
    );

    let overflow = guest(&out, "overflow");
    assert_eq!(
        (overflow.reason.as_str(), overflow.status.as_str()),
        ("3", "255")
    );
    assert!(
        overflow
            .console
            .contains(": stack overflow (the boot stack is 512 KiB)"),
        "{}",
        overflow.console
    );

    // A guest with a vif and a disk. The vif: dom0's netback has set up its backend (InitWait) and the hotplug
    // script put it on the bridge (or xl would have failed to create the domain); then the
    // guest's netfront connects and dom0's bridge address answers its ARP request.
    let net = guest(&out, "devices");
    assert_eq!((net.reason.as_str(), net.status.as_str()), ("0", "0"));
    assert!(
        net.console
            .contains("vif: backend /local/domain/0/backend/vif/")
            && net.console.contains("/0, backend state 2, mac 00:16:3e:")
            // netfront connected, and dom0's bridge answered its ARP request.
            && net.console.contains("net: OK, 10.0.0.1 is at "),
        "{}",
        net.console
    );
    // And its PV disk (a fresh 1 MiB in dom0 behind blkback): blkfront reads zeros, writes
    // and reads back.
    assert!(
        net.console
            .contains("disk: 1048576 bytes, read-only false\n")
            && net
                .console
                .contains("disk: OK (3 x 8 sectors written and read back)"),
        "{}",
        net.console
    );

    // The examples, as `petrel build --target xen` made them.
    let ex = guest(&out, "ex-hello");
    assert_eq!(
        (ex.reason.as_str(), ex.status.as_str()),
        ("0", "0"),
        "{}",
        ex.console
    );
    let seconds = log_seconds(&ex.console, "[hello] Hello world!");
    assert_eq!(seconds.len(), 4, "{}", ex.console);
    assert!(
        seconds.windows(2).all(|w| w[0] < w[1]),
        "one a second: {seconds:?}"
    );
    let tricky = r#"Hello, "world" \o/"#;
    let ex = guest(&out, "ex-key");
    assert_eq!(
        (ex.reason.as_str(), ex.status.as_str()),
        ("0", "0"),
        "{}",
        ex.console
    );
    assert_eq!(
        ex.console
            .matches(&format!("[INFO] [hello_key] {tricky}\n"))
            .count(),
        4,
        "{}",
        ex.console
    );
    expect_guest(&out, "ex-key-help", ("3", "63"), "--hello=STRING");
    expect_guest(&out, "ex-key-bad", ("3", "64"), "did you mean '--hello'");
    expect_guest(&out, "ex-panic", ("3", "255"), "the answer was not 42");
    let ex = guest(&out, "ex-kv");
    assert_eq!(
        (ex.reason.as_str(), ex.status.as_str()),
        ("0", "0"),
        "{}",
        ex.console
    );
    let about = std::fs::read_to_string(repo().join("examples/kv_ro/data/docs/about.txt"))
        .expect("the example's data");
    assert!(ex.console.contains(about.trim()), "{}", ex.console);
    // The block example on a PV disk (a fresh 1 MiB behind blkback in dom0).
    let ex = guest(&out, "ex-block");
    assert_eq!(
        (ex.reason.as_str(), ex.status.as_str()),
        ("0", "0"),
        "{}",
        ex.console
    );
    assert!(
        ex.console.contains("block: 2048 sectors of 512 bytes") && ex.console.contains("block: OK"),
        "{}",
        ex.console
    );
    // static_website over the PV network: ping and the index page from dom0.
    let index = std::fs::read_to_string(repo().join("examples/static_website/htdocs/index.html"))
        .expect("the example's page");
    for (name, line) in [
        ("ex-web-static", "probe: ping 10.0.0.2 answered\n"),
        ("ex-web-dhcp", "probe: leased 10.0.0."),
    ] {
        let probe = std::fs::read_to_string(out.join(format!("{name}.probe"))).unwrap_or_default();
        let status =
            std::fs::read_to_string(out.join(format!("{name}.probe-status"))).unwrap_or_default();
        let console = guest(&out, name).console;
        assert_eq!(
            status.trim(),
            "0",
            "{name}: {probe}\n--- console\n{console}"
        );
        assert!(
            probe.contains(line) && probe.contains("answered\n") && probe.contains(index.trim()),
            "{name}: {probe}\n--- console\n{console}"
        );
        assert!(
            console.contains("static-website: listening on 0.0.0.0:8080"),
            "{console}"
        );
    }

    // Two disks, found by name (backup is xvda, storage xvdb).
    expect_guest(
        &out,
        "ex-two-disks",
        ("0", "0"),
        "two_disks: OK copied 128 sectors",
    );
    // Two stacks, each on its own vif and bridge.
    let probe = std::fs::read_to_string(out.join("ex-two-stacks.probe")).unwrap_or_default();
    let console = guest(&out, "ex-two-stacks").console;
    for line in [
        "probe: 10.0.0.3 says public\n",
        "probe: 10.0.1.3 says private\n",
    ] {
        assert!(probe.contains(line), "{probe}\n--- console\n{console}");
    }
    assert!(
        console.contains("stack `private` on `privnet`: 10.0.1.3/24"),
        "{console}"
    );

    // petrel on the dom0: console through real xl, exit statuses mapped back.
    for (name, code, line) in [
        ("dom0-key", 0, format!("[INFO] [hello_key] {tricky}\n")),
        ("dom0-key-bad", 64, "did you mean '--hello'".to_string()),
        ("dom0-panic", 255, "the answer was not 42".to_string()),
    ] {
        let output = std::fs::read_to_string(out.join(format!("{name}.command")))
            .unwrap_or_default()
            .replace('\r', "");
        let status =
            std::fs::read_to_string(out.join(format!("{name}.command-status"))).unwrap_or_default();
        assert_eq!(status.trim(), "0", "{name}: the script ran:\n{output}");
        // xl's own messages (its stderr) may come between the guest's last line and the end.
        assert!(
            output.contains(&line)
                && output.contains(&format!("petrel: exit status {code}\n"))
                && output.ends_with(&format!("\npetrel exited {code}\n")),
            "{name}:\n{output}"
        );
        if code == 0 {
            assert_eq!(output.matches(&line).count(), 4, "{output}");
        }
    }

    // What libxl read from Petrel's xl configurations (its JSON, after "Parsing config").
    let parsed: Vec<serde_json::Value> = (1..=xl_checks.len())
        .map(|n| {
            let text =
                std::fs::read_to_string(out.join(format!("xl-check-{n}.out"))).unwrap_or_default();
            let status = std::fs::read_to_string(out.join(format!("xl-check-{n}.status")))
                .unwrap_or_default();
            assert_eq!(
                status.trim(),
                "0",
                "xl -N create {:?}:\n{text}",
                xl_checks[n - 1]
            );
            let json = text.find('{').map(|i| &text[i..]).unwrap_or("");
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {text}"))
        })
        .collect();
    let b_info = &parsed[0]["b_info"];
    assert_eq!(parsed[0]["c_info"]["type"], "pvh");
    assert_eq!(b_info["max_memkb"], 48 * 1024, "petrel run --mem 48");
    assert_eq!(b_info["kernel"], key_img.as_str());
    // The guest's splitter gets back exactly the argument.
    let cmdline = b_info["cmdline"].as_str().expect("a cmdline");
    assert_eq!(
        petrel_bootvar::split(cmdline).expect("splits"),
        std::slice::from_ref(&tricky_arg)
    );
    assert_eq!(parsed[1]["nics"][0]["bridge"], "xenbr0", "{}", parsed[1]);
    let disk = &parsed[2]["disks"][0];
    assert_eq!(disk["vdev"], "xvda", "{}", parsed[2]);
    assert_eq!(
        disk["pdev_path"],
        block_ex.dir.join("dist/storage.img").display().to_string()
    );
    // Several devices, in manifest order (by name), as the guest numbers them.
    for (n, (vdev, file)) in [("xvda", "backup"), ("xvdb", "storage")].iter().enumerate() {
        let disk = &parsed[3]["disks"][n];
        assert_eq!(disk["vdev"], *vdev, "{}", parsed[3]);
        assert_eq!(
            disk["pdev_path"],
            disks_ex
                .dir
                .join(format!("dist/{file}.img"))
                .display()
                .to_string()
        );
    }
    assert_eq!(
        parsed[4]["b_info"]["max_memkb"],
        48 * 1024,
        "petrel build --mem 48"
    );
    let nics = parsed[4]["nics"].as_array().expect("nics");
    assert_eq!(nics.len(), 2, "{}", parsed[4]);
    assert!(
        nics.iter().all(|n| n["bridge"] == "xenbr0"),
        "{}",
        parsed[4]
    );

    // `petrel run --target xen` as a user types it: not a dom0 here, so the testbed boots
    // the image. A server: its console streams while it runs, 127.0.0.1:PORT reaches it
    // through --publish (QEMU's user network to dom0, dom0 to the guest), and it runs until
    // Ctrl-C (SIGINT to the process group, as a terminal sends it), which ends petrel, the
    // testbed and QEMU.
    let port = free_port();
    let mut cmd = petrel(&web_ex.dir, "xen");
    cmd.args(["run", "--target", "xen", "--publish"])
        .arg(format!("{port}:8080"))
        .args(["--", "--ipv4=10.0.0.2/24"]);
    // As from a terminal: SIGINT at its default, even when this test runs in a background
    // job (which starts with SIGINT ignored, and an ignored signal stays ignored in children).
    // SAFETY: signal() is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut server = Background::spawn(&mut cmd, web_ex.dir.join("run.log"));
    let page = wait_for(
        "the website through --publish",
        Duration::from_secs(120),
        &mut server,
        |_| http_get(port),
    );
    assert!(page.contains(index.trim()), "{page}");
    // The console streams while the guest runs (tail -F reads the serial log each second).
    wait_for(
        "the console, streamed while the guest runs",
        Duration::from_secs(10),
        &mut server,
        |s| {
            s.log()
                .contains("static-website: listening on 0.0.0.0:8080")
                .then_some(())
                .ok_or_else(|| "not yet".to_string())
        },
    );
    let group = format!("-{}", server.child.id());
    let _ = Command::new("kill").args(["-INT", "--", &group]).status();
    let start = Instant::now();
    // The whole group (petrel, the testbed script, QEMU) ends: `kill -0` finds none (petrel
    // reaped first: a zombie still counts).
    while server.exited().is_none()
        || Command::new("kill")
            .args(["-0", "--", &group])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "Ctrl-C left processes running:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "xen testbed: Ctrl-C ended the server's group in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    // Only xen's deploy file carries a memory size at build time.
    let refused = expect(
        petrel(&hello_ex.dir, "virtio").args(["build", "--target", "virtio", "--mem", "64"]),
        1,
    );
    assert!(
        refused.stderr.contains(
            "--mem on build sizes xen's dist/NAME.xl; a virtio image takes it when it boots"
        ),
        "{}",
        refused.all()
    );

    // And with the user's disk file (the testbed boots a copy of it): too small for the
    // block example, which says so and exits 255.
    let small = block_ex.dir.join("small.img");
    std::fs::write(&small, vec![0u8; 1024]).expect("write");
    let mut cmd = petrel(&block_ex.dir, "xen");
    cmd.args(["run", "--target", "xen", "--disk"])
        .arg(format!("storage={}", small.display()));
    let ran = expect(&mut cmd, 255);
    assert!(
        ran.stdout.contains("block: FAILED the disk has 2 sectors"),
        "{}",
        ran.all()
    );
}
