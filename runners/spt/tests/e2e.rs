//! End to end: the test guest in `tests/guest/` (built here for x86_64-unknown-none) run
//! through the `petrel-spt` binary: output, exit status, seccomp kills, devices, and the
//! host-side checks with their exact messages.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use petrel_solo5_abi::elf::{self, AbiTarget, DeviceType};

const RUNNER: &str = env!("CARGO_BIN_EXE_petrel-spt");

/// Builds the test guest once; returns the directory of its binaries.
fn guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        petrel_tender::testing::build_guest(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest"),
            &Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest"),
            &[],
            "the test guest",
        )
    })
}

fn guest(bin: &str) -> PathBuf {
    guest_dir().join(bin)
}

fn run(args: &[&str]) -> Output {
    Command::new(RUNNER)
        .args(args)
        .output()
        .expect("run petrel-spt")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn plain() -> String {
    guest("plain").display().to_string()
}

fn blk() -> String {
    guest("blk").display().to_string()
}

/// Asserts a runner error: status 1, nothing on stdout, and `msg` on stderr.
fn assert_error(o: &Output, msg: &str) {
    assert_error_status(o, 1, msg)
}

/// Asserts a runner error with status `code`, nothing on stdout, and `msg` on stderr.
fn assert_error_status(o: &Output, code: i32, msg: &str) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(o));
    let want = format!("petrel-spt: error: {msg}");
    assert!(
        stderr(o).contains(&want),
        "want {want:?} in {:?}",
        stderr(o)
    );
}

fn assert_sigsys(o: &Output) {
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGSYS),
        "status {:?}",
        o.status
    );
}

#[test]
fn hello_guest_output_and_status() {
    let o = run(&["--mem=2", &plain()]);
    assert_eq!(stdout(&o), "spt-ok\n");
    assert_eq!(o.status.code(), Some(7));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn guest_images_pass_the_structural_check() {
    for (bin, devices) in [
        ("plain", vec![]),
        ("blk", vec![("disk", DeviceType::Block)]),
        ("net", vec![("service", DeviceType::Net)]),
    ] {
        let bytes = std::fs::read(guest(bin)).expect("read guest");
        let img = elf::check(&bytes, AbiTarget::Spt).expect("valid spt image");
        assert_eq!((img.abi.target, img.abi.version), (2, 2));
        let got: Vec<_> = img.manifest.entries[1..]
            .iter()
            .map(|e| (e.name_str().into_owned(), e.device_type))
            .collect();
        let want: Vec<_> = devices.iter().map(|(n, t)| (n.to_string(), *t)).collect();
        assert_eq!(got, want, "{bin}");
        assert!(img.segments.iter().all(|s| s.vaddr >= 0x100000));
        assert_eq!(
            elf::check(&bytes, AbiTarget::Hvt),
            Err(elf::ElfError::WrongTarget {
                expected: AbiTarget::Hvt,
                found: 2
            })
        );
    }
}

#[test]
fn boot_info_and_cmdline() {
    let bytes = std::fs::read(guest("plain")).expect("read guest");
    let img = elf::check(&bytes, AbiTarget::Spt).expect("valid");
    let o = run(&["--mem=4", "--", &plain(), "info", "a", "b"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = stdout(&o).lines().next().unwrap_or_default().to_string();
    assert_eq!(
        first,
        format!(
            "mem=0x400000 kernel_end={:#x} entries=0x1 cmdline=[info a b]",
            img.kernel_end
        )
    );
}

#[test]
fn default_memory_is_512_mib() {
    let o = run(&[&plain(), "info"]);
    assert!(stdout(&o).starts_with("mem=0x20000000 "), "{}", stdout(&o));
}

#[test]
fn memory_is_rounded_down_with_a_warning() {
    let o = run(&["--mem=5", &plain(), "info"]);
    assert!(stdout(&o).starts_with("mem=0x400000 "), "{}", stdout(&o));
    assert_eq!(
        stderr(&o),
        "petrel-spt: warning: adjusting memory to 4194304 bytes\n"
    );
}

#[test]
fn timerfd_epoll_and_clock_are_allowed() {
    let o = run(&["--mem=2", &plain(), "timer"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", o.status);
    assert_eq!(
        stdout(&o),
        "clock_gettime=0x0\ntimerfd_settime=0x0\nepoll_pwait=0x1 data=0xfffffffe\n"
    );
}

#[test]
fn forbidden_syscall_kills_with_sigsys() {
    for scenario in ["getpid", "write2", "read0"] {
        let o = run(&["--mem=2", &plain(), scenario]);
        assert_sigsys(&o);
        assert!(!stdout(&o).contains("survived"), "{scenario}");
    }
    // What a shell reports: 128 + SIGSYS = 159.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "\"{RUNNER}\" --mem=2 \"{}\" getpid; echo status=$?",
            plain()
        ))
        .output()
        .expect("sh");
    assert!(stdout(&o).ends_with("status=159\n"), "{}", stdout(&o));
}

#[test]
fn guest_panic_exits_255() {
    let o = run(&["--mem=2", &plain(), "panic"]);
    assert_eq!(stdout(&o), "guest panicked\n");
    assert_eq!(o.status.code(), Some(255));
}

#[test]
fn text_is_read_only() {
    let o = run(&["--mem=2", &plain(), "fault"]);
    assert_eq!(o.status.signal(), Some(libc::SIGSEGV), "{:?}", o.status);
}

fn disk(dir: &Path, name: &str, size: usize) -> String {
    let p = dir.join(name);
    std::fs::write(&p, vec![b'A'; size]).expect("write disk");
    p.display().to_string()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).expect("tmpdir");
    d
}

#[test]
fn block_device_read_write_and_manifest() {
    let dir = tmpdir("blk-rw");
    let d = disk(&dir, "d.img", 4096);
    let o = run(&["--mem=2", &format!("--block:disk={d}"), &blk(), "info"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o)
            .contains("entry 0x1 name=disk type=0x1 attached=0x1 u0=0x1000 u8=0x200 fdok=0x1"),
        "{}",
        stdout(&o)
    );
    let o = run(&["--mem=2", &format!("--block:disk={d}"), &blk(), "blk-rw"]);
    assert_eq!(stdout(&o), "pwrite=0x200 pread=0x200 first=AAAA\n");
    let data = std::fs::read(&d).expect("read disk");
    assert!(data[..4096 - 512].iter().all(|&b| b == b'A'));
    assert!(data[4096 - 512..].iter().all(|&b| b == b'W'));
    let o = run(&[
        &format!("--block:disk={d}"),
        "--block-sector-size:disk=4096",
        &blk(),
        "info",
    ]);
    assert!(stdout(&o).contains("u0=0x1000 u8=0x1000"), "{}", stdout(&o));
}

#[test]
fn block_io_outside_the_rules_is_killed() {
    let dir = tmpdir("blk-kill");
    let d = disk(&dir, "d.img", 4096);
    for scenario in ["blk-badcount", "blk-badoffset"] {
        let o = run(&["--mem=2", &format!("--block:disk={d}"), &blk(), scenario]);
        assert_sigsys(&o);
        assert!(!stdout(&o).contains("survived"), "{scenario}");
    }
    assert!(std::fs::read(&d).expect("read").iter().all(|&b| b == b'A'));
}

#[test]
fn block_host_side_checks() {
    let dir = tmpdir("blk-checks");
    let odd = disk(&dir, "odd.img", 1000);
    let o = run(&[&format!("--block:disk={odd}"), &blk()]);
    assert_error(
        &o,
        &format!("{odd}: Backing storage size must be block aligned (1000 bytes, block size 512)"),
    );
    let empty = disk(&dir, "empty.img", 0);
    let o = run(&[&format!("--block:disk={empty}"), &blk()]);
    assert_error(
        &o,
        &format!("{empty}: Backing storage must be at least 1 block (512 bytes) in size"),
    );
    let d = disk(&dir, "d.img", 4096);
    for bad in ["1000", "256", "0", "65536", "x"] {
        let o = run(&[
            &format!("--block:disk={d}"),
            &format!("--block-sector-size:disk={bad}"),
            &blk(),
        ]);
        assert_error(
            &o,
            &format!(
                "--block-sector-size={bad}: Block size must be a multiple of 2 greater than or equal 512"
            ),
        );
    }
    let o = run(&[
        &format!("--block:disk={d}"),
        "--block-sector-size:disk=8192",
        &blk(),
    ]);
    assert_error(
        &o,
        &format!("{d}: Backing storage size must be block aligned (4096 bytes, block size 8192)"),
    );
    let o = run(&[&format!("--block:other={d}"), &blk()]);
    assert_error(&o, "Resource not declared in manifest: 'other'");
    let o = run(&[&format!("--net:disk={d}"), &blk()]);
    assert_error(&o, "Resource not declared in manifest: 'disk'");
    let o = run(&[&blk()]);
    assert_error(
        &o,
        "Device 'disk' of type BLOCK_BASIC declared but not attached.",
    );
    assert_error(
        &o,
        "All declared devices must be attached. See --help for syntax.",
    );
    let missing = dir.join("missing.img").display().to_string();
    let o = run(&[&format!("--block:disk={missing}"), &blk()]);
    assert_error(&o, &format!("{missing}: Could not open: "));
}

#[test]
fn image_and_command_line_errors() {
    // A command line the guest cannot be given is a bad boot argument: 64, as mirage.
    let o = run(&["--mem=2", &plain(), &"x".repeat(8192)]);
    assert_error_status(&o, 64, "Guest command line too long (max=8191 characters)");
    let o = run(&["--mem=2", &plain(), "a", ""]);
    assert_error_status(&o, 64, "Guest argument 2 is empty");
    assert_eq!(
        run(&["--mem=2", &plain(), &"x".repeat(8191)]).status.code(),
        Some(0)
    );
    assert_error(
        &run(&["--mem=1", &plain()]),
        "--mem=1: less than the minimum of 2 MiB",
    );
    assert_error(
        &run(&["--bogus", &plain()]),
        "Invalid option: `--bogus' (try --help)",
    );
    assert_error(&run(&[]), "missing KERNEL argument (try --help)");

    // The same image with its ABI note patched to hvt, then to version 1, then to ET_DYN.
    let dir = tmpdir("images");
    let bytes = std::fs::read(guest("plain")).expect("read");
    let note = bytes
        .windows(8)
        .position(|w| w == b"Solo5\0\0\0")
        .expect("ABI note");
    let patched = |name: &str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        f(&mut b);
        let p = dir.join(name);
        std::fs::write(&p, b).expect("write");
        p.display().to_string()
    };
    let hvt = patched("hvt", &|b| b[note + 8] = 1);
    assert_error(
        &run(&[&hvt]),
        &format!("{hvt}: Executable is not for the solo5-spt target (it is for hvt)"),
    );
    let v1 = patched("v1", &|b| b[note + 12] = 1);
    assert_error(
        &run(&[&v1]),
        &format!("{v1}: Executable requests unsupported ABI version 1"),
    );
    let dyn_ = patched("dyn", &|b| b[16] = 3);
    assert_error(
        &run(&[&dyn_]),
        &format!("{dyn_}: invalid or unsupported executable (not ET_EXEC"),
    );
    let missing = dir.join("nothing").display().to_string();
    assert_error(&run(&[&missing]), &format!("{missing}: Could not open: "));
}

#[test]
fn help_and_version() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("usage: petrel-spt [OPTIONS] [--] KERNEL [ARGS...]"));
    let o = run(&["--version"]);
    assert!(stdout(&o).contains("ABI version 2"));
}

/// Runs `script` in a new network namespace (so the tap it creates disappears with it).
fn in_netns(script: &str) -> Output {
    Command::new("unshare")
        .args(["--net", "sh", "-ec", script])
        .output()
        .expect("run unshare")
}

#[test]
fn net_device_tap_attach_mac_mtu_and_io() {
    let net = guest("net").display().to_string();
    let o = in_netns(&format!(
        "ip tuntap add dev ptap0 mode tap; ip link set ptap0 mtu 1400 up
         \"{RUNNER}\" --mem=2 --net:service=ptap0 --net-mac:service=02:11:22:33:44:55 \"{net}\" info
         \"{RUNNER}\" --mem=2 --net:service=ptap0 \"{net}\" net-rw
         \"{RUNNER}\" --mem=2 --net:service=ptap0 \"{net}\" getpid || echo status=$?
         \"{RUNNER}\" --mem=2 --net:service=nope0 \"{net}\" || echo status=$?"
    ));
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "needs root (CAP_NET_ADMIN) and `ip`: {}\n{out}",
        stderr(&o)
    );
    // u0 = mac (6 bytes) then the MTU (u16) = 1400 = 0x578, little-endian.
    assert!(
        out.contains(
            "entry 0x1 name=service type=0x2 attached=0x1 u0=0x578554433221102 u8=0x0 fdok=0x1"
        ),
        "{out}"
    );
    // A write of one frame is allowed; the read finds nothing (-EAGAIN: non-blocking).
    assert!(
        out.contains("net write=0x3c read=0xfffffffffffffff5\n"),
        "{out}"
    );
    assert!(out.contains("status=159\n"), "{out}");
    assert!(out.ends_with("status=1\n"), "{out}");
    assert!(
        stderr(&o)
            .contains("petrel-spt: error: Could not attach interface: nope0: no such interface"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--net:service=@1", &net]);
    assert_error(
        &o,
        "Could not attach interface: @1: neither a tap descriptor opened with IFF_TAP|IFF_NO_PI nor an AF_UNIX SOCK_SEQPACKET or SOCK_DGRAM socket",
    );
}
