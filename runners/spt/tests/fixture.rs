//! The Solo5 runtime's fixture (`tests/fixtures/solo5-hello`, built with `--features spt`)
//! run through `petrel-spt`: the hello image prints its greeting and exits 0, the panic
//! image exits 255. Fails, with the build output, if the fixture is missing or does not
//! build.

use std::path::{Path, PathBuf};
use std::process::Command;

use petrel_solo5_abi::elf::{self, AbiTarget};

const RUNNER: &str = env!("CARGO_BIN_EXE_petrel-spt");

fn build_fixture() -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/solo5-hello");
    assert!(
        src.join("Cargo.toml").is_file(),
        "the Solo5 fixture {} is missing",
        src.display()
    );
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("solo5-hello");
    let out = Command::new(env!("CARGO"))
        .args(["build", "--release", "--bins", "--features", "spt"])
        .current_dir(&src)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the Solo5 fixture {} (cargo build --release --features spt) failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("x86_64-unknown-none/release")
}

#[test]
fn solo5_hello_fixture_runs_on_spt() {
    let dir = build_fixture();
    for bin in ["hello", "panic"] {
        let bytes = std::fs::read(dir.join(bin)).expect("read fixture image");
        if let Err(e) = elf::check(&bytes, AbiTarget::Spt) {
            panic!("{bin}: {e}");
        }
    }
    let o = Command::new(RUNNER)
        .args(["--mem=32"])
        .arg(dir.join("hello"))
        .args(["a", "b"])
        .output()
        .expect("run petrel-spt");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Hello from Solo5\n"), "{out}");
    assert!(out.contains("cmdline: \"a b\"\n"), "{out}");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = Command::new(RUNNER)
        .args(["--mem=32"])
        .arg(dir.join("panic"))
        .output()
        .expect("run petrel-spt");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("about to panic\n"), "{out}");
    assert_eq!(o.status.code(), Some(255), "{out}");
}
