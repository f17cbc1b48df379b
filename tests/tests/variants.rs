//! The four guarantees of the variant mechanism (docs/architecture.md), each shown failing
//! with its message. The fourth, a wrong signature, is a trybuild UI test of the macros
//! (`macros/tests/ui/implements/wrong-signature.rs`); the others are here.

use petrel_e2e::{build_lock, expect, petrel, repo, run};
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/variants").join(name)
}

#[test]
fn a_missing_implementation_is_a_configure_error_naming_the_candidates() {
    let dir = fixture("missing-impl");
    let ran = expect(
        petrel(&dir, "unix").args(["configure", "--target", "unix"]),
        1,
    );
    assert!(ran.stderr.contains("`greet`"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("greet-hvt"),
        "names the candidate: {}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("hvt"),
        "says why it does not fit: {}",
        ran.stderr
    );
    assert!(!dir.join(".petrel").exists(), "nothing written");
    // Where the candidate fits, the same project configures.
    let ran = run(petrel(&dir, "unix").args(["describe", "--target", "hvt"]));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("greet-hvt"), "{}", ran.stdout);
}

/// Issue 13 item 3: a third-party interface crate declares its own key (`tls = rustls|none`)
/// and two implementations choose by it; `[keys]` and `--key` set it, with no change to
/// configure.
#[test]
fn a_third_party_key_chooses_between_third_party_implementations() {
    let dir = fixture("tls-app");
    // unikernel.toml says `tls = "none"`.
    let ran = run(petrel(&dir, "unix").args(["describe", "--target", "unix"]));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("tls  = none   (unikernel.toml)"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("tls-none 0.1.0"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("tls-rustls"), "{}", ran.stdout);
    // The command line overrides it.
    let ran =
        run(petrel(&dir, "unix").args(["describe", "--target", "hvt", "--key", "tls=rustls"]));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("tls  = rustls (command line)"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("tls-rustls 0.1.0"), "{}", ran.stdout);
    // The key's values come from the interface's metadata.
    let ran = expect(
        petrel(&dir, "unix").args(["describe", "--key", "tls=rustsl"]),
        1,
    );
    for wanted in [
        "expected one of: rustls, none",
        "did you mean `--key=tls=rustls`?",
    ] {
        assert!(ran.stderr.contains(wanted), "{}", ran.stderr);
    }
    assert!(!dir.join(".petrel").exists(), "describe writes nothing");
}

#[test]
fn two_implementations_are_a_configure_error_naming_both() {
    let dir = fixture("two-impls");
    let ran = expect(
        petrel(&dir, "unix").args(["configure", "--target", "unix"]),
        1,
    );
    assert!(
        ran.stderr.contains("greet-a") && ran.stderr.contains("greet-b"),
        "{}",
        ran.stderr
    );
    assert!(!dir.join(".petrel").exists(), "nothing written");
}

#[test]
fn cargo_refuses_two_implementations_before_linking() {
    let _lock = build_lock();
    // Each implementation crate carries `links = "petrel-<interface>"`.
    let ran = run(Command::new(env!("CARGO"))
        .current_dir(fixture("links-clash"))
        .args(["metadata", "--format-version", "1"]));
    assert_ne!(
        ran.code, 0,
        "cargo accepted two `links = \"petrel-time\"` packages"
    );
    assert!(
        ran.stderr.contains("links") && ran.stderr.contains("petrel-time"),
        "{}",
        ran.stderr
    );
}

#[test]
fn an_implementation_nobody_names_is_not_linked_so_the_generated_crate_names_each() {
    let _lock = build_lock();
    // Without `use petrel_clock_unix as _;` the implementation never reaches the linker.
    let target = std::env::temp_dir().join(format!("petrel-unlinked-{}", std::process::id()));
    let ran = run(Command::new(env!("CARGO"))
        .current_dir(fixture("unlinked"))
        .env("CARGO_TARGET_DIR", &target)
        .arg("build"));
    let _ = std::fs::remove_dir_all(&target);
    assert_ne!(ran.code, 0, "it linked without naming the implementation");
    assert!(
        ran.stderr.contains("__petrel_v1_Clock_wall_ns"),
        "{}",
        ran.stderr
    );

    // So the generated crate names every implementation it links.
    let p = petrel_e2e::Scratch::example("hello");
    expect(petrel(&p.dir, "unix").arg("configure"), 0);
    let main = p.read(".petrel/app/main.rs");
    for imp in [
        "petrel_time_unix",
        "petrel_clock_unix",
        "petrel_random_unix",
        "petrel_console_unix",
        "petrel_platform_unix",
    ] {
        assert!(
            main.contains(&format!("use {imp} as _;")),
            "{imp} not named in main.rs:\n{main}"
        );
    }
}

#[test]
fn a_pinned_third_party_implementation_wins_over_the_built_in_one() {
    let _lock = build_lock();
    // `fixed-random` implements the built-in `random` interface for unix, as
    // petrel-random-unix does; unikernel.toml pins it, and nothing in configure knows it.
    let p = petrel_e2e::Scratch::fixture("pinned-random");
    let imp = p.dir.join("fixed-random/Cargo.toml");
    let text = std::fs::read_to_string(&imp)
        .expect("fixture has fixed-random")
        .replace(
            "\"../../../../petrel\"",
            &format!("{:?}", repo().join("petrel").display().to_string()),
        );
    std::fs::write(&imp, text).expect("write fixed-random/Cargo.toml");

    let ran = expect(petrel(&p.dir, "pinned").arg("describe"), 0);
    assert!(
        ran.stdout
            .lines()
            .any(|l| l.contains("random : random") && l.contains("fixed-random 0.1.0 (pinned)")),
        "{}",
        ran.stdout
    );
    // Built and run: every byte of fixed-random's output is 0x5a.
    let ran = expect(petrel(&p.dir, "pinned").arg("run"), 0);
    assert!(
        ran.stdout.contains("random: 0x5a5a5a5a5a5a5a5a"),
        "{}{}",
        ran.stdout,
        ran.stderr
    );
    let main = p.read(".petrel/app/main.rs");
    assert!(main.contains("use fixed_random as _;"), "{main}");
    assert!(!main.contains("petrel_random_unix"), "{main}");
}

#[test]
fn a_device_kind_from_metadata_goes_into_the_solo5_manifest() {
    // `nvram` is a third-party device interface declaring `solo5-device = "BLOCK_BASIC"`:
    // configure knows nothing of it, and still puts its instance in the manifest.
    let p = petrel_e2e::Scratch::fixture("solo5-kind");
    expect(
        petrel(&p.dir, "solo5-kind").args(["configure", "--target", "spt"]),
        0,
    );
    let main = p.read(".petrel/app/main.rs");
    assert!(
        main.contains("solo5_manifest!((\"settings\", BLOCK_BASIC));"),
        "{main}"
    );
    // A kind the Solo5 ABI does not have is refused when the catalogue is read.
    let meta = p.dir.join("nvram/Cargo.toml");
    let text = std::fs::read_to_string(&meta).expect("nvram/Cargo.toml");
    std::fs::write(&meta, text.replace("BLOCK_BASIC", "NVRAM_BASIC")).expect("write");
    let ran = expect(
        petrel(&p.dir, "solo5-kind").args(["configure", "--target", "spt"]),
        1,
    );
    assert!(
        ran.stderr.contains("NVRAM_BASIC") && ran.stderr.contains("BLOCK_BASIC, NET_BASIC"),
        "{}",
        ran.stderr
    );
}
