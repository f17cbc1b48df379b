//! Helpers for Petrel's end-to-end tests: copies of the examples in scratch directories,
//! the real `petrel` binary, and commands with their output.
//!
//! Every test runs real `cargo` builds of generated workspaces and real boots (a process,
//! Petrel's spt and hvt runners, QEMU under TCG). Builds share one cache per target
//! (`<target-dir>/e2e-cache/<target>`) so each dependency compiles once; tests that build
//! take a process-wide lock, because two builds of the same example would race for the same
//! output file.

pub mod inspect;
pub mod netns;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// The cargo target directory the tests were built in (`.../target`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>
    exe.parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Builds `petrel`, `petrel-spt` and `petrel-hvt` once and returns the directory holding
/// them.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .current_dir(repo())
            .args([
                "build",
                "--bins",
                "-p",
                "petrel-cli",
                "-p",
                "petrel-spt",
                "-p",
                "petrel-hvt",
                "--target-dir",
            ])
            .arg(target_dir())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building petrel and its runners failed");
        target_dir().join("debug")
    })
}

/// A `petrel` command in `dir`, with a shared build cache for `cache` (a target name).
pub fn petrel(dir: &Path, cache: &str) -> Command {
    let mut cmd = Command::new(bin_dir().join("petrel"));
    cmd.current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            target_dir().join("e2e-cache").join(cache),
        )
        .env("PETREL_SPT", bin_dir().join("petrel-spt"))
        .env("PETREL_HVT", bin_dir().join("petrel-hvt"))
        .env("PETREL_HOME", repo());
    cmd
}

/// Serialises the tests that build (see the module docs).
pub fn build_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A scratch copy of `examples/<name>` (or of a fixture under `tests/fixtures/`), whose
/// dependency on the facade points at this repository.
pub struct Scratch {
    /// The project directory.
    pub dir: PathBuf,
    /// The lock that reserves `dir` (see [`Scratch::copy`]), released after `dir` is removed.
    _slot: std::fs::File,
}

impl Scratch {
    /// Copies `examples/<name>`.
    pub fn example(name: &str) -> Scratch {
        Self::copy(&repo().join("examples").join(name), name)
    }

    /// Copies `tests/fixtures/<name>`.
    pub fn fixture(name: &str) -> Scratch {
        Self::copy(&repo().join("tests/fixtures").join(name), name)
    }

    /// Copies `from` to `<tmp>/petrel-e2e/<name>-<slot>`, the first slot no other scratch copy
    /// holds (a lock file per slot, so other test processes count too). The same directory
    /// from one test to the next keeps an image's path remaps (rustflags, see configure's
    /// `remap`) the same, so the shared build cache keeps every dependency instead of
    /// rebuilding all of them for each copy.
    fn copy(from: &Path, name: &str) -> Scratch {
        // Outside the repository: a project under its directory would be taken for an
        // undeclared member of Petrel's own workspace.
        let root = std::env::temp_dir().join("petrel-e2e");
        std::fs::create_dir_all(&root).expect("create the scratch root");
        let (dir, slot) = (0..)
            .find_map(|slot| {
                let lock = std::fs::File::create(root.join(format!("{name}-{slot}.lock")))
                    .expect("create a scratch slot's lock file");
                lock.try_lock().ok()?;
                Some((root.join(format!("{name}-{slot}")), lock))
            })
            .expect("slots are unbounded");
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(from, &dir);
        let cargo_toml = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&cargo_toml).expect("example has a Cargo.toml");
        let facade = repo().join("petrel");
        let text = text
            .replace(
                "\"../../petrel\"",
                &format!("{:?}", facade.display().to_string()),
            )
            .replace(
                "\"../../../petrel\"",
                &format!("{:?}", facade.display().to_string()),
            );
        std::fs::write(&cargo_toml, text).expect("write Cargo.toml");
        Scratch { dir, _slot: slot }
    }

    /// A file's contents.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Every file under the project (except build outputs), with its bytes, sorted.
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("read_dir") {
                let path = entry.expect("entry").path();
                let rel = path
                    .strip_prefix(&self.dir)
                    .expect("under project")
                    .to_path_buf();
                if rel.starts_with("target")
                    || rel.starts_with("dist")
                    || rel == Path::new("Cargo.lock")
                {
                    continue;
                }
                // Never through a link (.petrel/petrel-src leads to the Petrel checkout).
                if path.is_symlink() {
                    continue;
                } else if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push((rel, std::fs::read(&path).expect("read")));
                }
            }
        }
        out.sort();
        out
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create scratch dir");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == "target"
            || name == ".petrel"
            || name == "dist"
            || name == ".cargo"
            || name == "Cargo.lock"
        {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_dir(&src, &dst)
        } else {
            std::fs::copy(&src, &dst).expect("copy file");
        }
    }
}

/// What a command did.
#[derive(Debug)]
pub struct Ran {
    /// Exit status code (128 + signal if killed).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Ran {
    /// stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// How many lines of stdout contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.stdout.lines().filter(|l| l.contains(needle)).count()
    }
}

/// Runs `cmd` and collects its output.
pub fn run(cmd: &mut Command) -> Ran {
    let start = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    use std::os::unix::process::ExitStatusExt;
    Ran {
        code: status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Runs `cmd` and panics with its output unless it exits `code`.
#[track_caller]
pub fn expect(cmd: &mut Command, code: i32) -> Ran {
    let ran = run(cmd);
    assert_eq!(
        ran.code, code,
        "{cmd:?} exited {} instead of {code}\n--- stdout\n{}\n--- stderr\n{}",
        ran.code, ran.stdout, ran.stderr
    );
    ran
}

/// `qemu-system-x86_64` is installed. Without it, virtio tests cannot run: they print a loud
/// SKIPPED line, except under CI (`CI` set), where its absence is a failure.
pub fn have_qemu(test: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("qemu-system-x86_64").is_file()));
    if !found {
        skip(
            test,
            "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)",
        );
    }
    found
}

/// `/dev/kvm` can be opened read-write, so hvt guests can run. Otherwise the test prints a
/// loud SKIPPED line, or fails under CI (`CI` set), which has KVM.
pub fn have_kvm(test: &str) -> bool {
    match petrel_tender::testing::kvm_usable() {
        Ok(()) => true,
        Err(why) => {
            skip(test, &why);
            false
        }
    }
}

/// libslirp (`libslirp.so.0`, Debian `libslirp0`) is installed, so `petrel run` can give a
/// device a user-mode network. Otherwise the test prints a loud SKIPPED line, or fails under
/// CI (`CI` set), where scripts/test.sh installs it.
pub fn have_libslirp(test: &str) -> bool {
    let found = [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
    ]
    .iter()
    .any(|dir| Path::new(dir).join("libslirp.so.0").exists());
    if !found {
        skip(
            test,
            "libslirp.so.0 is not installed (apt-get install libslirp0)",
        );
    }
    found
}

/// Whether `target`'s guests can run on this machine: hvt needs KVM, virtio QEMU (see
/// [`have_kvm`], [`have_qemu`]); the others always can.
pub fn can_boot(test: &str, target: &str) -> bool {
    match target {
        "hvt" => have_kvm(test),
        "virtio" => have_qemu(test),
        _ => true,
    }
}

/// Says loudly that `test` is skipped because of `reason` (something this machine lacks),
/// or fails under CI (`CI` set), where everything the tests need must be there.
#[track_caller]
pub fn skip(test: &str, reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: {reason}, and CI must be able to run it"
    );
    eprintln!("\n*** SKIPPED {test}: {reason} ***\n");
}

/// Polls `ready` every 250 ms until it gives a value, and panics with `running`'s log if
/// `within` passes first (with `ready`'s last error) or if `running` exits.
#[track_caller]
pub fn wait_for<T>(
    what: &str,
    within: Duration,
    running: &mut Background,
    mut ready: impl FnMut(&Background) -> Result<T, String>,
) -> T {
    let start = Instant::now();
    loop {
        let err = match ready(running) {
            Ok(v) => return v,
            Err(e) => e,
        };
        if let Some(status) = running.exited() {
            panic!(
                "waiting for {what}: the process exited {status} ({err})\n--- log\n{}",
                running.log()
            );
        }
        assert!(
            start.elapsed() < within,
            "waiting for {what}: not after {within:?} ({err})\n--- log\n{}",
            running.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Copies the arguments, environment and directory of `from` onto `to` (a command that
/// runs `from`'s program through a wrapper such as `ip netns exec` or `setpriv`).
pub fn copy_setup(from: &Command, to: &mut Command) {
    to.args(from.get_args());
    for (k, v) in from.get_envs() {
        match v {
            Some(v) => to.env(k, v),
            None => to.env_remove(k),
        };
    }
    if let Some(dir) = from.get_current_dir() {
        to.current_dir(dir);
    }
}

/// `cmd` without privileges: as root, with every capability dropped (bounding and inheritable
/// sets: the unikernel and its runner have none, so no tap can be created or attached); as
/// another user, as it is. As root, checks first that the wrapper really leaves no effective
/// capability.
pub fn unprivileged(cmd: &Command) -> Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        let mut c = Command::new(cmd.get_program());
        copy_setup(cmd, &mut c);
        return c;
    }
    let drop_all = ["--bounding-set=-all", "--inh-caps=-all", "--"];
    let caps = Command::new("setpriv")
        .args(drop_all)
        .args(["grep", "^CapEff:", "/proc/self/status"])
        .output()
        .expect("run setpriv (util-linux)");
    let caps = String::from_utf8_lossy(&caps.stdout);
    assert_eq!(
        caps.split_whitespace().nth(1),
        Some("0000000000000000"),
        "setpriv left capabilities: {caps}"
    );
    let mut c = Command::new("setpriv");
    c.args(drop_all).arg(cmd.get_program());
    copy_setup(cmd, &mut c);
    c
}

/// An HTTP server on 127.0.0.1 (a thread of the test) that answers every request with the
/// bytes `response` and closes; its port.
pub fn serve_http(response: Vec<u8>) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = conn.write_all(&response);
        }
    });
    port
}

/// A port nobody listens on right now (the kernel's pick for a socket bound to port 0).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// A process in the background (`petrel run -- ARGS` on unix, or any command), in its own
/// process group, with its output in a log file. Dropping it kills the group (petrel and
/// the unikernel it started), also when an assertion failed.
pub struct Background {
    /// The process.
    pub child: std::process::Child,
    log: PathBuf,
}

impl Background {
    /// Starts `petrel run -- ARGS` in `project`, its output in `run.log`.
    pub fn start(project: &Scratch, args: &[String]) -> Background {
        let mut cmd = petrel(&project.dir, "unix");
        cmd.arg("run").arg("--").args(args);
        Self::spawn(&mut cmd, project.dir.join("run.log"))
    }

    /// Starts `cmd`, its stdout and stderr in `log`.
    pub fn spawn(cmd: &mut Command, log: PathBuf) -> Background {
        use std::os::unix::process::CommandExt;
        let out =
            std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone the log file");
        let child = cmd
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        Background { child, log }
    }

    /// Everything the process (and its children) printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status, once the process has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // The group id is the child's pid (process_group(0)): this reaches petrel and the
        // unikernel it runs, and nothing else.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}
