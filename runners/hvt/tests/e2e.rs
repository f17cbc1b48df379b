//! End to end: the test guest in `tests/guest/` (built here for x86_64-unknown-none) run
//! through the `petrel-hvt` binary on KVM: output and exit status, every hypercall, the
//! wrong guest values that end the guest with 1, the faults that end it with 255, and the
//! host-side checks (malformed images, command line, devices) with their exact messages.
//!
//! Tests that boot need `/dev/kvm`: without it they print a loud SKIPPED line, except under
//! CI (`CI` set), where that is a failure. The host-side checks come before KVM is opened,
//! so they run everywhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const RUNNER: &str = env!("CARGO_BIN_EXE_petrel-hvt");

/// Builds the test guest once; returns the directory of its binaries.
fn guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        petrel_tender::testing::build_guest(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest"),
            &Path::new(env!("CARGO_TARGET_TMPDIR")).join("hvt-guest"),
            &[],
            "the test guest",
        )
    })
}

fn guest(bin: &str) -> String {
    guest_dir().join(bin).display().to_string()
}

use petrel_tender::testing::kvm_or_skip as kvm;

fn run(args: &[&str]) -> Output {
    Command::new(RUNNER)
        .args(args)
        .output()
        .expect("run petrel-hvt")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts status `code`, and `msg` on stderr after `petrel-hvt: PREFIX`.
fn assert_stderr(o: &Output, code: i32, msg: &str) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    assert!(stderr(o).contains(msg), "want {msg:?} in {:?}", stderr(o));
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hvt-e2e");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

#[test]
fn guest_output_exit_status_and_boot_info() {
    if !kvm("guest_output_exit_status_and_boot_info") {
        return;
    }
    let o = run(&["--mem=2", &guest("plain")]);
    assert_eq!(stdout(&o), "hvt-ok\n");
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    assert_eq!(
        run(&["--mem=2", &guest("plain"), "exit-3"]).status.code(),
        Some(3)
    );

    let bytes = std::fs::read(guest("plain")).expect("read guest");
    let image = petrel_solo5_abi::elf::check(&bytes, petrel_solo5_abi::AbiTarget::Hvt)
        .expect("a valid hvt image");
    let o = run(&["--mem=5", &guest("plain"), "info"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "mem=0x400000 kernel_end={:#x} tsc=0x1 entries=0x1 ring=0x0 cmdline=[info]\n\
             walltime after 2020: 0x1\npoll ready=0x0 ret=0x0\nscenario done\n",
            image.kernel_end
        )
    );
    assert!(
        stderr(&o).contains("warning: adjusting memory to 4194304 bytes"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_run_loop_is_under_seccomp() {
    if !kvm("the_run_loop_is_under_seccomp") {
        return;
    }
    let child = Command::new(RUNNER)
        .args(["--mem=2", &guest("plain"), "sleep"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start petrel-hvt");
    std::thread::sleep(std::time::Duration::from_millis(400));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .expect("the tender is still running");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    // 2: SECCOMP_MODE_FILTER.
    assert!(
        status.lines().any(|l| l == "Seccomp:\t2"),
        "no filter while the guest runs:\n{status}"
    );
}

#[test]
fn guest_panic_exits_255_with_its_message() {
    if !kvm("guest_panic_exits_255_with_its_message") {
        return;
    }
    let o = run(&["--mem=2", &guest("plain"), "panic"]);
    assert_eq!(stdout(&o), "guest panicked\n");
    assert_eq!(o.status.code(), Some(255));
}

#[test]
fn bad_guest_values_end_the_guest_with_1() {
    if !kvm("bad_guest_values_end_the_guest_with_1") {
        return;
    }
    for (scenario, msg) in [
        (
            "bad-puts",
            "petrel-hvt: error: Invalid guest access: gpa=0x1ffffc, len=8",
        ),
        (
            "huge-puts",
            "petrel-hvt: error: Invalid guest access: gpa=0x100000, len=18446744073709551615",
        ),
        (
            "bad-struct",
            "petrel-hvt: error: Invalid guest access: gpa=0x1ffff8, len=16",
        ),
        (
            "bad-port",
            "petrel-hvt: error: Invalid guest port access: port=0x509",
        ),
        (
            "out-byte",
            "petrel-hvt: error: Invalid guest port access: port=0x502",
        ),
        (
            "walltime-in-text",
            "petrel-hvt: error: Invalid guest access: gpa=0x100",
        ),
        (
            "no-block",
            "petrel-hvt: error: Invalid guest hypercall: num=5",
        ),
    ] {
        let o = run(&["--mem=2", &guest("plain"), scenario]);
        assert_stderr(&o, 1, msg);
        assert!(o.stdout.is_empty(), "{scenario}: {}", stdout(&o));
    }
}

#[test]
fn guest_faults_end_with_255_and_one_line() {
    if !kvm("guest_faults_end_with_255_and_one_line") {
        return;
    }
    let o = run(&["--mem=2", &guest("plain"), "fault"]);
    assert_stderr(
        &o,
        255,
        "petrel-hvt: guest fault: triple fault (KVM exit SHUTDOWN), rip=0x",
    );
    assert!(stderr(&o).trim_end().ends_with("cr2=0x8"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    // Text is read-only, as upstream: a write to it is a fault (how KVM reports it
    // depends on the host: an MMIO exit or EFAULT).
    let o = run(&["--mem=2", &guest("plain"), "write-text"]);
    assert_stderr(&o, 255, "petrel-hvt: guest fault: write");
    assert!(stderr(&o).contains("to read-only memory"), "{}", stderr(&o));
    let o = run(&["--mem=2", &guest("plain"), "hlt"]);
    assert_stderr(
        &o,
        255,
        "petrel-hvt: guest fault: hlt with interrupts off (KVM exit HLT), rip=0x",
    );
}

#[test]
fn block_device_hypercalls() {
    if !kvm("block_device_hypercalls") {
        return;
    }
    let disk = scratch("disk.img");
    std::fs::write(&disk, vec![0u8; 4096]).expect("write disk");
    let attach = format!("--block:disk={}", disk.display());
    let o = run(&["--mem=2", &attach, &guest("blk"), "blk"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Written and read back; offsets past or across the end and handles that are not a
    // block device are EINVAL (2), as upstream.
    assert_eq!(
        stdout(&o),
        "write=0x0 read=0x0 same=0x1 past-end=0x2 straddle=0x2 bad-handle=0x2 \
         reserved-handle=0x2\nscenario done\n"
    );
    let bytes = std::fs::read(&disk).expect("read disk");
    assert_eq!(bytes[512], 0x5a);
    assert_eq!(bytes[513], 1 ^ 0x5a);
    // A buffer running past the end of guest memory ends the guest.
    let o = run(&["--mem=2", &attach, &guest("blk"), "blk-bad-buffer"]);
    assert_stderr(&o, 1, "Invalid guest access: gpa=0x1fff00, len=512");
}

#[test]
fn malformed_images_are_refused() {
    let bytes = std::fs::read(guest("plain")).expect("read guest");
    let refused = |name: &str, bytes: &[u8], msg: &str| {
        let path = scratch(name);
        std::fs::write(&path, bytes).expect("write image");
        let o = run(&[path.to_str().expect("utf-8 path")]);
        assert_stderr(
            &o,
            1,
            &format!("petrel-hvt: error: {}: {msg}", path.display()),
        );
    };
    refused("not-elf", b"hello", "invalid or unsupported executable");
    refused(
        "truncated",
        &bytes[..100],
        "invalid executable: the program header table lies outside the file",
    );
    let mut dyn_ = bytes.clone();
    dyn_[16] = 3;
    refused(
        "dyn",
        &dyn_,
        "invalid or unsupported executable (not ET_EXEC",
    );
    // The ABI note says spt: the target is the word after "Solo5\0\0\0" in the ABI1 note.
    let note = bytes
        .windows(12)
        .position(|w| w == b"ABI1Solo5\0\0\0")
        .expect("the ABI note")
        + 12;
    let mut spt = bytes.clone();
    spt[note] = 2;
    refused(
        "spt",
        &spt,
        "Executable is not for the solo5-hvt target (it is for spt)",
    );
    let mut version = bytes.clone();
    version[note + 4] = 3;
    refused(
        "version",
        &version,
        "Executable requests unsupported ABI version 3",
    );
}

#[test]
fn command_line_and_device_errors() {
    // A command line the guest cannot be given: 64, mirage's bad boot argument.
    let o = run(&["--mem=2", &guest("plain"), &"x".repeat(8192)]);
    assert_stderr(
        &o,
        64,
        "petrel-hvt: error: Guest command line too long (max=8191 characters)",
    );
    let o = run(&["--mem=2", &guest("plain"), "a", ""]);
    assert_stderr(&o, 64, "petrel-hvt: error: Guest argument 2 is empty");
    let o = run(&["--mem=2", &guest("blk")]);
    assert_stderr(
        &o,
        1,
        "Device 'disk' of type BLOCK_BASIC declared but not attached.",
    );
    let o = run(&["--block:other=/dev/null", &guest("blk")]);
    assert_stderr(&o, 1, "Resource not declared in manifest: 'other'");
    let o = run(&["--mem=1", &guest("plain")]);
    assert_stderr(&o, 1, "--mem=1: less than the minimum of 2 MiB");
    let o = run(&["--bogus", &guest("plain")]);
    assert_stderr(
        &o,
        1,
        "petrel-hvt: error: Invalid option: `--bogus' (try --help)",
    );
}

#[test]
fn without_kvm_the_error_says_so_in_one_line() {
    const TEST: &str = "without_kvm_the_error_says_so_in_one_line";
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        petrel_tender::testing::skip(TEST, "not root (hiding /dev/kvm takes a mount namespace)");
        return;
    }
    // An empty /dev in a private mount namespace: no /dev/kvm.
    let o = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs none /dev && exec "$0" "$1""#)
        .args([RUNNER, &guest("plain")])
        .output()
        .expect("run unshare");
    assert_stderr(
        &o,
        1,
        "petrel-hvt: error: cannot use KVM (/dev/kvm: No such file or directory (os error 2)): \
         hvt guests need KVM",
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn help_and_version() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("usage: petrel-hvt [OPTIONS] [--] KERNEL [ARGS...]"));
    assert!(stdout(&o).contains("KVM"), "{}", stdout(&o));
    let o = run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with("petrel-hvt (Petrel's Solo5 hvt runner), version "),
        "{}",
        stdout(&o)
    );
}
