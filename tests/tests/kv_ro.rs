//! Read-only key-value stores end to end with `examples/kv_ro`: `--kv=crunch` (the files
//! embedded in the image) on unix, spt and hvt, `--kv=direct` (the host directory read at run
//! time) on unix, crunch on virtio (under QEMU, when installed), and configure refusing
//! `direct` where it cannot exist.

use petrel_e2e::{Scratch, build_lock, can_boot, expect, have_qemu, petrel, run};
use std::process::Command;

const HELLO: &str = "Hello from the kv_ro store!";
const ABOUT: &str = "This file lives under docs/.";

/// The image `petrel run` left in `dist/`, run by hand from `cwd`.
fn image(p: &Scratch, cwd: &std::path::Path) -> Command {
    let mut c = Command::new(p.dir.join("dist/kv-ro"));
    c.current_dir(cwd);
    c
}

/// What every store must do, whatever the implementation.
fn prints_and_lists(p: &Scratch, kv: &str) {
    let ran = expect(petrel(&p.dir, "unix").args(["run", kv]), 0);
    assert!(ran.stdout.contains(HELLO), "{}", ran.all());
    assert!(
        ran.stdout.contains("[INFO] [kv_ro] hello.txt (28 bytes):"),
        "{}",
        ran.all()
    );
    assert!(ran.stdout.contains("2 keys:"), "{}", ran.all());
    assert!(
        ran.stdout.contains("  docs/about.txt (63 bytes)"),
        "{}",
        ran.all()
    );

    let ran = expect(image(p, &p.dir).arg("--key=/docs//about.txt"), 0);
    assert!(ran.stdout.contains(ABOUT), "{}", ran.all());
    assert!(!ran.stdout.contains(HELLO), "{}", ran.all());

    // A missing key is a clear error line and a normal return.
    let ran = expect(image(p, &p.dir).arg("--key=nope.txt"), 0);
    assert!(
        ran.stdout
            .contains("[ERROR] [kv_ro] no key \"nope.txt\" in the store: no such key"),
        "{}",
        ran.all()
    );
    let ran = expect(image(p, &p.dir).arg("--key=docs"), 0);
    assert!(
        ran.stdout.contains("the key is a directory"),
        "{}",
        ran.all()
    );

    // No key reaches outside the store: unikernel.toml sits right beside data/.
    for key in ["../unikernel.toml", "docs/../../unikernel.toml", ".."] {
        let ran = expect(image(p, &p.dir).arg(format!("--key={key}")), 0);
        assert!(ran.stdout.contains("invalid key"), "{key}: {}", ran.all());
        assert!(!ran.stdout.contains("[unikernel]"), "{key}: {}", ran.all());
    }
}

#[test]
fn crunch_on_unix_embeds_the_files() {
    let _lock = build_lock();
    let p = Scratch::example("kv_ro");
    prints_and_lists(&p, "--kv=crunch");
    // The files are in the image: it prints them from anywhere, even once data/ is gone.
    std::fs::remove_dir_all(p.dir.join("data")).expect("remove data/");
    let ran = expect(&mut image(&p, &std::env::temp_dir()), 0);
    assert!(ran.stdout.contains(HELLO), "{}", ran.all());
}

#[test]
fn direct_on_unix_reads_the_directory_at_run_time() {
    let _lock = build_lock();
    let p = Scratch::example("kv_ro");
    prints_and_lists(&p, "--kv=direct");

    // Read at run time: an edit shows up without rebuilding.
    std::fs::write(p.dir.join("data/hello.txt"), "edited after the build\n").expect("write");
    let ran = expect(&mut image(&p, &p.dir), 0);
    assert!(
        ran.stdout.contains("edited after the build"),
        "{}",
        ran.all()
    );

    // A symbolic link that points outside the store does not exist in it.
    std::os::unix::fs::symlink(p.dir.join("unikernel.toml"), p.dir.join("data/leak"))
        .expect("symlink");
    let ran = expect(image(&p, &p.dir).arg("--key=leak"), 0);
    assert!(ran.stdout.contains("no such key"), "{}", ran.all());
    assert!(!ran.stdout.contains("[unikernel]"), "{}", ran.all());
    assert!(ran.stdout.contains("2 keys:"), "{}", ran.all());

    // `dir` is relative to the current directory: elsewhere the device cannot start, and
    // says which directory it looked for.
    let elsewhere = std::env::temp_dir();
    let ran = run(&mut image(&p, &elsewhere));
    assert_eq!(ran.code, 255, "{}", ran.all());
    let looked = elsewhere.join("data");
    assert!(
        ran.all().contains(&format!(
            "kv_ro device `store`: dir = \"data\": {} is not a readable directory",
            looked.display()
        )),
        "{}",
        ran.all()
    );
}

/// crunch on a Solo5 target: a key, the listing, and a key the store refuses.
fn crunch_on(target: &str) {
    let _lock = build_lock();
    let p = Scratch::example("kv_ro");
    let ran = expect(
        petrel(&p.dir, target).args(["run", "--target", target, "--", "--key=docs/about.txt"]),
        0,
    );
    assert!(ran.stdout.contains(ABOUT), "{}", ran.all());
    assert!(
        ran.stdout.contains("  hello.txt (28 bytes)"),
        "{}",
        ran.all()
    );
    let ran = expect(
        petrel(&p.dir, target).args(["run", "--target", target, "--", "--key=../x"]),
        0,
    );
    assert!(ran.stdout.contains("invalid key"), "{}", ran.all());
}

#[test]
fn crunch_on_spt() {
    crunch_on("spt");
}

#[test]
fn crunch_on_hvt() {
    if can_boot("crunch_on_hvt", "hvt") {
        crunch_on("hvt");
    }
}

#[test]
fn crunch_on_virtio() {
    if !have_qemu("crunch_on_virtio") {
        return;
    }
    let _lock = build_lock();
    let p = Scratch::example("kv_ro");
    let ran = expect(
        petrel(&p.dir, "virtio").args(["run", "--target", "virtio"]),
        0,
    );
    assert!(ran.stdout.contains(HELLO), "{}", ran.all());
    assert!(
        ran.stdout.contains("  docs/about.txt (63 bytes)"),
        "{}",
        ran.all()
    );
}

#[test]
fn direct_on_spt_is_a_configure_error_with_the_reason() {
    let p = Scratch::example("kv_ro");
    let ran = run(petrel(&p.dir, "spt").args(["configure", "--target", "spt", "--kv=direct"]));
    assert_ne!(ran.code, 0, "{}", ran.all());
    let all = ran.all();
    assert!(
        all.contains("`kv = direct` is not available on spt"),
        "{all}"
    );
    assert!(
        all.contains("the direct key-value store exists only on unix"),
        "{all}"
    );
    assert!(all.contains("--kv=crunch"), "{all}");
    assert!(
        !p.dir.join(".petrel").exists(),
        "a refused configure writes nothing"
    );
}
