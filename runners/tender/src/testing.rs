//! For the tenders' tests (feature `testing`): building a test guest project and knowing
//! whether KVM can run one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the standalone guest project `src` (release, all binaries, with `features`, for
/// the target its `.cargo/config.toml` or build names) into `target_dir`, and returns the
/// directory of its x86_64-unknown-none binaries; `what` names it in messages. The environment of the calling cargo (rustflags, build target) is removed so
/// the project's own configuration applies. Panics with cargo's output if it fails.
pub fn build_guest(src: &Path, target_dir: &Path, features: &[&str], what: &str) -> PathBuf {
    assert!(
        src.join("Cargo.toml").is_file(),
        "{what} {} is missing",
        src.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--bins"])
        .args(features.iter().flat_map(|f| ["--features", f]))
        .current_dir(src)
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building {what} {} failed (is the x86_64-unknown-none target installed? \
         `rustup target add x86_64-unknown-none`):\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join("x86_64-unknown-none/release")
}

/// Whether `/dev/kvm` can be opened read-write; why not otherwise.
pub fn kvm_usable() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(drop)
        .map_err(|e| format!("/dev/kvm cannot be used ({e})"))
}

/// [`kvm_usable`], or a loud SKIPPED line for `test` — a failure under CI (`CI` set),
/// which must be able to run every test.
pub fn kvm_or_skip(test: &str) -> bool {
    match kvm_usable() {
        Ok(()) => true,
        Err(why) => {
            skip(test, &why);
            false
        }
    }
}

/// Says loudly that `test` is skipped because of `why` (something this machine lacks), or
/// fails under CI (`CI` set), where everything the tests need must be there.
pub fn skip(test: &str, why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: {why}, and CI must be able to run it"
    );
    eprintln!("\n*** SKIPPED {test}: {why} ***\n");
}

/// Makes system call `nr` with `args` in a forked child under seccomp filter `prog`, and
/// returns the child's wait status: exit 0 if the call was let through and returned, the
/// call's own effect otherwise (e.g. `exit_group`), SIGSYS if the filter refused it.
pub fn run_in_child(prog: &seccompiler::BpfProgram, nr: libc::c_long, args: [u64; 4]) -> i32 {
    // SAFETY: the child only calls async-signal-safe functions (prctl, seccomp, syscall,
    // _exit) and touches memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: in the child: install the filter, make the call, leave with _exit.
        unsafe {
            if seccompiler::apply_filter(prog).is_err() {
                libc::_exit(99);
            }
            libc::syscall(nr, args[0], args[1], args[2], args[3]);
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

/// Whether seccomp filter `prog` allows system call `nr` with `args` (see [`run_in_child`]).
pub fn allowed_in_child(prog: &seccompiler::BpfProgram, nr: libc::c_long, args: [u64; 4]) -> bool {
    let status = run_in_child(prog, nr, args);
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return true;
    }
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
        "unexpected child status {status:#x}"
    );
    false
}
