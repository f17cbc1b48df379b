//! The Solo5 runtime's fixture (`tests/fixtures/solo5-hello`, built with `--features spt`)
//! run through `petrel-spt`: the hello image prints its greeting and exits 0, the panic
//! image exits 255. Fails, with the build output, if the fixture is missing or does not
//! build.

use std::path::{Path, PathBuf};
use std::process::Command;

use petrel_solo5_abi::elf::{self, AbiTarget};

const RUNNER: &str = env!("CARGO_BIN_EXE_petrel-spt");

fn build_fixture() -> PathBuf {
    petrel_tender::testing::build_guest(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/solo5-hello"),
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("solo5-hello"),
        &["spt"],
        "the Solo5 fixture",
    )
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
