//! Regression tests for the faults a hostile probe found in `petrel configure` (issue 14):
//! each runs the real `petrel` binary on a scratch copy of an example.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{scratch, skip, tree};

/// What a `petrel` run printed and how it ended.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn all(&self) -> String {
        format!("exit {:?}\n{}{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs petrel in `dir`, killing it after a minute (the faults include endless walks).
fn petrel(dir: &Path, args: &[&str]) -> Ran {
    let out_file = |name: &str| dir.join(format!("petrel-test-{name}.log"));
    let (out, err) = (out_file("stdout"), out_file("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_petrel"))
        .args(args)
        .current_dir(dir)
        .stdout(std::fs::File::create(&out).expect("log file"))
        .stderr(std::fs::File::create(&err).expect("log file"))
        .spawn()
        .expect("petrel runs");
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| {
        let text = String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        let _ = std::fs::remove_file(p);
        text
    };
    Ran {
        code,
        stdout: read(&out),
        stderr: read(&err),
    }
}

/// Runs petrel and checks its exit code.
fn expect(dir: &Path, args: &[&str], code: i32) -> Ran {
    let ran = petrel(dir, args);
    assert_eq!(ran.code, Some(code), "petrel {args:?}: {}", ran.all());
    ran
}

fn append(path: PathBuf, text: &str) {
    let mut s = std::fs::read_to_string(&path).expect("read");
    s.push_str(text);
    std::fs::write(path, s).expect("write");
}

/// The `kv` line of `petrel describe`.
fn kv_line(dir: &Path) -> String {
    let out = expect(dir, &["describe"], 0).stdout;
    out.lines()
        .find(|l| l.trim_start().starts_with("kv "))
        .unwrap_or_else(|| panic!("no kv line in {out}"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Issue 14 item 3: `[keys]` applies on every configure, not only the first, and `describe`
/// says truthfully where each value came from.
#[test]
fn keys_table_applies_after_the_first_configure() {
    let dir = scratch("kv_ro");
    expect(&dir, &["configure"], 0);
    assert_eq!(kv_line(&dir), "kv = crunch (default)");

    append(dir.join("unikernel.toml"), "\n[keys]\nkv = \"direct\"\n");
    let check = expect(&dir, &["configure", "--check"], 1);
    assert!(check.stderr.contains("stale:"), "{}", check.all());
    expect(&dir, &["configure"], 0);
    assert_eq!(kv_line(&dir), "kv = direct (unikernel.toml)");
    let main = std::fs::read_to_string(dir.join(".petrel/app/Cargo.toml")).expect("read");
    assert!(main.contains("petrel-kv-ro-direct"), "{main}");

    // What was typed is remembered (and said to be typed) until something else is typed.
    expect(&dir, &["configure", "--kv=crunch"], 0);
    assert_eq!(kv_line(&dir), "kv = crunch (command line)");
    expect(&dir, &["configure"], 0);
    assert_eq!(kv_line(&dir), "kv = crunch (command line)");
    expect(&dir, &["configure", "--target", "unix", "--net=socket"], 0);
    assert_eq!(kv_line(&dir), "kv = direct (unikernel.toml)");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 13 item 3: any key is typed with `--key NAME=VALUE` and remembered by name in
/// state.json; a state.json from an older petrel (every key under `keys`) or naming a key
/// that no longer exists is read safely.
#[test]
fn typed_keys_are_remembered_by_name_and_old_state_is_safe() {
    let dir = scratch("kv_ro");
    expect(&dir, &["configure", "--key", "kv=direct"], 0);
    assert_eq!(kv_line(&dir), "kv = direct (command line)");
    let state = std::fs::read_to_string(dir.join(".petrel/state.json")).expect("state.json");
    assert!(
        state.contains("\"command_line\": {\n    \"kv\": \"direct\"\n  }"),
        "{state}"
    );
    std::fs::write(
        dir.join(".petrel/state.json"),
        r#"{"target": "unix", "keys": {"net": "socket", "dhcp": "true", "kv": "crunch"},
            "command_line": {"kv": "direct", "colour": "red"}}"#,
    )
    .expect("write state.json");
    assert_eq!(kv_line(&dir), "kv = direct (command line)");
    // Typed today, an unknown key is an error at the command line.
    let ran = expect(&dir, &["describe", "--key", "colour=red"], 1);
    assert!(ran.stderr.contains("unknown key `colour`"), "{}", ran.all());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14 item 3: a bad value in `[keys]` is refused, with its place, after a first
/// configure and even where the command line overrides it.
#[test]
fn keys_table_is_always_validated() {
    let dir = scratch("kv_ro");
    expect(&dir, &["configure"], 0);
    append(dir.join("unikernel.toml"), "\n[keys]\nnet = \"bogus\"\n");
    for args in [
        &["configure"][..],
        &["configure", "--net=socket"],
        &["describe"],
    ] {
        let ran = expect(&dir, args, 1);
        assert!(
            ran.stderr
                .contains("invalid value `bogus` for the key `net`"),
            "{}",
            ran.all()
        );
        assert!(ran.stderr.contains("unikernel.toml:"), "{}", ran.all());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14 item 1: symbolic links that loop (`ln -s . s1; ln -s . s2`, which made configure
/// run forever) or lead out of a crunched directory (`ln -s .. loop`, which embedded the
/// project about 40 times) are errors at the device's `dir`, and nothing is written.
#[test]
fn crunch_refuses_symlink_loops_and_escapes() {
    for (links, says) in [
        (&[("s1", "."), ("s2", ".")][..], "leads back to `.`"),
        (&[("docs/up", "..")], "leads back to `.`"),
        (&[("loop", "..")], "leads out of the directory"),
        (&[("passwd", "/etc/passwd")], "leads out of the directory"),
    ] {
        let dir = scratch("kv_ro");
        for (link, to) in links {
            std::os::unix::fs::symlink(to, dir.join("data").join(link)).expect("symlink");
        }
        let ran = expect(&dir, &["configure"], 1);
        assert!(ran.stderr.contains(says), "{links:?}: {}", ran.all());
        assert!(
            ran.stderr.contains("unikernel.toml:10:7"),
            "{links:?}: {}",
            ran.all()
        );
        assert!(!dir.join(".petrel").exists(), "{links:?}: wrote files");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Issue 14 item 1: a link inside the directory is followed; hidden files and special files
/// are left out, with a warning naming them.
#[test]
fn crunch_skips_hidden_and_special_files() {
    let dir = scratch("kv_ro");
    let data = dir.join("data");
    std::os::unix::fs::symlink("docs", data.join("latest")).expect("symlink");
    std::fs::write(data.join(".env"), "SECRET=1").expect("write");
    std::fs::create_dir(data.join(".git")).expect("mkdir");
    std::fs::write(data.join(".git/config"), "x").expect("write");
    let fifo = data.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let ran = expect(&dir, &["configure"], 0);
    for name in ["`.env`", "`.git`", "`pipe`"] {
        assert!(ran.stderr.contains(name), "{name}: {}", ran.all());
    }
    let main = std::fs::read_to_string(dir.join(".petrel/app/main.rs")).expect("main.rs");
    assert!(main.contains("(\"latest/about.txt\""), "{main}");
    for hidden in [".env", ".git", "pipe"] {
        assert!(!main.contains(hidden), "{hidden} embedded:\n{main}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14 item 2: a file name that is not UTF-8 is refused by configure, naming the file,
/// instead of breaking the generated main.rs.
#[test]
fn crunch_refuses_names_that_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("kv_ro");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(dir.join("data/docs").join(name), "x").expect("write");
    let ran = expect(&dir, &["configure"], 1);
    assert!(
        ran.stderr.contains("`docs/caf\u{fffd}.txt` is not UTF-8"),
        "{}",
        ran.all()
    );
    assert!(ran.stderr.contains("unikernel.toml:10:7"), "{}", ran.all());
    assert!(!dir.join(".petrel").exists(), "wrote files");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Makes a file immutable (`chattr +i`) for as long as it lives: even root cannot replace
/// it, so a rename onto it fails. `None` (after saying SKIPPED) where chattr is missing or
/// the filesystem has no such attribute.
struct Immutable(PathBuf);

impl Immutable {
    fn set(test: &str, path: PathBuf) -> Option<Immutable> {
        match Command::new("chattr").arg("+i").arg(&path).output() {
            Ok(out) if out.status.success() => Some(Immutable(path)),
            Ok(out) => {
                let why = String::from_utf8_lossy(&out.stderr).into_owned();
                skip(test, &format!("chattr +i failed: {why}"));
                None
            }
            Err(e) => {
                skip(test, &format!("no chattr (e2fsprogs): {e}"));
                None
            }
        }
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// Issue 14 item 4: when Cargo.toml cannot be replaced, configure writes nothing at all: no
/// `.cargo/config.toml`, no `.petrel/`, no temporary file; and after an earlier configure,
/// every file keeps its bytes.
#[test]
fn a_cargo_toml_that_cannot_be_replaced_leaves_everything_as_it_was() {
    let test = "a_cargo_toml_that_cannot_be_replaced_leaves_everything_as_it_was";
    let dir = scratch("hello-key");
    // First configure: nothing existed before.
    let before = tree(&dir);
    let Some(lock) = Immutable::set(test, dir.join("Cargo.toml")) else {
        return;
    };
    let ran = expect(&dir, &["configure"], 1);
    assert!(ran.stderr.contains("Cargo.toml"), "{}", ran.all());
    assert_eq!(tree(&dir), before, "a failed configure left files");
    drop(lock);

    // A later configure with new inputs, when Cargo.toml lost its table (edited by hand):
    // the previous configuration stays whole.
    let original = std::fs::read(dir.join("Cargo.toml")).expect("read");
    expect(&dir, &["configure"], 0);
    std::fs::write(dir.join("Cargo.toml"), original).expect("write");
    append(
        dir.join("unikernel.toml"),
        "\n[args.extra]\ntype = \"u16\"\ndefault = \"1\"\ndoc = \"More.\"\n",
    );
    let before = tree(&dir);
    let lock = Immutable::set(test, dir.join("Cargo.toml"));
    let ran = expect(&dir, &["configure"], 1);
    drop(lock);
    assert!(ran.stderr.contains("Cargo.toml"), "{}", ran.all());
    assert_eq!(tree(&dir), before, "a failed configure changed files");
    // And once Cargo.toml can be written, the same configure goes through.
    let ran = expect(&dir, &["configure"], 0);
    assert!(ran.stderr.contains("Updated Cargo.toml"), "{}", ran.all());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14 item 4: `clean` removes the temporary files a killed configure leaves.
#[test]
fn clean_removes_leftover_temporary_files() {
    let dir = scratch("hello");
    expect(&dir, &["configure"], 0);
    for tmp in [".Cargo.toml.petrel-tmp", ".cargo/.config.toml.petrel-tmp"] {
        std::fs::write(dir.join(tmp), "half").expect("write");
    }
    let ran = expect(&dir, &["clean"], 0);
    for tmp in [".Cargo.toml.petrel-tmp", ".cargo/.config.toml.petrel-tmp"] {
        assert!(!dir.join(tmp).exists(), "{tmp} left: {}", ran.all());
    }
    assert!(!dir.join(".cargo").exists(), "{}", ran.all());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14 item 5: Cargo.toml keeps its mode through configure and clean, and a symbolic
/// link stays a link to the file that is edited.
#[test]
fn cargo_toml_keeps_its_mode_and_stays_a_link() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o600, 0o444, 0o640] {
        let dir = scratch("hello");
        let cargo = dir.join("Cargo.toml");
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let mode_of = || {
            std::fs::metadata(&cargo)
                .expect("stat")
                .permissions()
                .mode()
                & 0o777
        };
        expect(&dir, &["configure"], 0);
        assert!(
            std::fs::read_to_string(&cargo)
                .expect("read")
                .contains("[workspace]")
        );
        assert_eq!(mode_of(), mode, "configure changed {mode:o}");
        expect(&dir, &["clean"], 0);
        assert_eq!(mode_of(), mode, "clean changed {mode:o}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    let dir = scratch("hello");
    std::fs::rename(dir.join("Cargo.toml"), dir.join("Cargo.real.toml")).expect("rename");
    std::os::unix::fs::symlink("Cargo.real.toml", dir.join("Cargo.toml")).expect("symlink");
    let original = std::fs::read_to_string(dir.join("Cargo.real.toml")).expect("read");
    expect(&dir, &["configure"], 0);
    let is_link = || {
        std::fs::symlink_metadata(dir.join("Cargo.toml"))
            .expect("stat")
            .file_type()
            .is_symlink()
    };
    assert!(is_link(), "configure replaced the link");
    let edited = std::fs::read_to_string(dir.join("Cargo.real.toml")).expect("read");
    assert!(
        edited.starts_with(&original) && edited.contains("[workspace]"),
        "{edited}"
    );
    expect(&dir, &["clean"], 0);
    assert!(is_link(), "clean replaced the link");
    assert_eq!(
        std::fs::read_to_string(dir.join("Cargo.real.toml")).expect("read"),
        original
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14 item 9: `--dhcp` and `--no-dhcp` together are a usage error, not "the last wins".
#[test]
fn dhcp_and_no_dhcp_conflict() {
    let dir = scratch("hello");
    for args in [["--dhcp", "--no-dhcp"], ["--no-dhcp", "--dhcp"]] {
        let ran = expect(&dir, &["configure", args[0], args[1]], 2);
        assert!(ran.stderr.contains("cannot be used with"), "{}", ran.all());
    }
    assert!(!dir.join(".petrel").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
