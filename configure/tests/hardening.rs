//! Regression tests for the faults a hostile probe found in `petrel configure` (issue 14):
//! each runs the real `petrel` binary on a scratch copy of an example.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::scratch;

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

fn petrel(dir: &Path, args: &[&str]) -> Ran {
    let out = Command::new(env!("CARGO_BIN_EXE_petrel"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("petrel runs");
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
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
