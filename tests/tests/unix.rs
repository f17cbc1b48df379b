//! The unix target end to end: configure, build with plain cargo and with petrel, run, and
//! what configure promises about the files it writes.

use petrel_e2e::{Scratch, build_lock, expect, petrel, run};
use std::process::Command;
use std::time::Duration;

fn cargo(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(dir);
    c
}

#[test]
fn hello_logs_four_times_a_second_apart() {
    let _lock = build_lock();
    let p = Scratch::example("hello");
    let ran = expect(petrel(&p.dir, "unix").arg("run"), 0);
    assert_eq!(ran.count("Hello world!"), 4, "{}", ran.all());
    // Three one-second sleeps between the four lines (a lower bound, not a timing test).
    assert!(
        ran.elapsed >= Duration::from_secs(3),
        "finished in {:?}",
        ran.elapsed
    );
}

#[test]
fn noop_exits_zero() {
    let _lock = build_lock();
    let p = Scratch::example("noop");
    let ran = expect(petrel(&p.dir, "unix").arg("run"), 0);
    assert!(
        !ran.stdout.contains("[INFO]"),
        "noop prints nothing: {}",
        ran.stdout
    );
}

#[test]
fn hello_key_with_plain_cargo() {
    let _lock = build_lock();
    let p = Scratch::example("hello-key");
    let cache = petrel(&p.dir, "unix")
        .get_envs()
        .find(|(k, _)| *k == "CARGO_TARGET_DIR")
        .and_then(|(_, v)| v.map(|v| v.to_owned()));
    expect(
        petrel(&p.dir, "unix").args(["configure", "--target", "unix"]),
        0,
    );
    let with_cache = |c: &mut Command| {
        if let Some(dir) = &cache {
            c.env("CARGO_TARGET_DIR", dir);
        }
    };
    let mut build = cargo(&p.dir);
    build.args(["build", "--release"]);
    with_cache(&mut build);
    expect(&mut build, 0);

    let mut hi = cargo(&p.dir);
    hi.args(["run", "--release", "-q", "--", "--hello=Hi"]);
    with_cache(&mut hi);
    let ran = expect(&mut hi, 0);
    assert_eq!(ran.count("[INFO] [hello_key] Hi"), 4, "{}", ran.all());

    let mut help = cargo(&p.dir);
    help.args(["run", "--release", "-q", "--", "--help"]);
    with_cache(&mut help);
    let ran = expect(&mut help, 63);
    assert!(
        ran.stdout.contains("--hello=STRING") && ran.stdout.contains("Hello world!"),
        "{}",
        ran.stdout
    );

    let mut typo = cargo(&p.dir);
    typo.args(["run", "--release", "-q", "--", "--helo=x"]);
    with_cache(&mut typo);
    let ran = expect(&mut typo, 64);
    assert!(
        ran.all().contains("did you mean '--hello'"),
        "{}",
        ran.all()
    );

    // The same in one step.
    let ran = expect(petrel(&p.dir, "unix").args(["run", "--", "--hello=Hi"]), 0);
    assert_eq!(ran.count("Hi"), 4, "{}", ran.all());
}

#[test]
fn a_new_project_outside_the_repository_runs() {
    let _lock = build_lock();
    let outside = std::env::temp_dir().join(format!("petrel-new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outside);
    std::fs::create_dir_all(&outside).expect("temp dir");
    expect(petrel(&outside, "unix").args(["new", "demo"]), 0);
    let demo = outside.join("demo");
    assert!(demo.join("unikernel.toml").is_file() && demo.join("src/lib.rs").is_file());
    let ran = expect(petrel(&demo, "unix").arg("run"), 0);
    assert_eq!(ran.count("Hello world!"), 4, "{}", ran.all());
    let ran = expect(
        petrel(&demo, "unix").args(["run", "--", "--hello=Bonjour"]),
        0,
    );
    assert_eq!(ran.count("Bonjour"), 4, "{}", ran.all());
    // Refuses to overwrite.
    let ran = expect(petrel(&outside, "unix").args(["new", "demo"]), 1);
    assert!(ran.stderr.contains("already exists"), "{}", ran.stderr);
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn configure_twice_writes_the_same_bytes_and_check_sees_staleness() {
    let p = Scratch::example("hello-key");
    expect(petrel(&p.dir, "unix").arg("configure"), 0);
    let first = p.snapshot();
    let ran = expect(petrel(&p.dir, "unix").arg("configure"), 0);
    assert!(ran.stderr.contains("nothing changed"), "{}", ran.stderr);
    assert_eq!(p.snapshot(), first, "a second configure changed bytes");
    expect(petrel(&p.dir, "unix").args(["configure", "--check"]), 0);

    // An edit to unikernel.toml makes the generated files stale, and --check says which.
    let toml = p
        .read("unikernel.toml")
        .replace("Hello world!", "Hello, Petrel!");
    std::fs::write(p.dir.join("unikernel.toml"), toml).expect("write");
    let ran = expect(petrel(&p.dir, "unix").args(["configure", "--check"]), 1);
    assert!(
        ran.stderr.contains("stale: .petrel/app/main.rs"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("stale: .petrel/bootargs.json"),
        "{}",
        ran.stderr
    );
    // ... and prints each stale file's unified diff, disk -> what configure would write.
    assert!(
        ran.stdout
            .contains("--- a/.petrel/bootargs.json\n+++ b/.petrel/bootargs.json\n@@ "),
        "{}",
        ran.stdout
    );
    let changed = |sign: char, text: &str| {
        ran.stdout
            .lines()
            .any(|l| l.starts_with(sign) && l.contains(text))
    };
    assert!(changed('-', "Hello world!"), "{}", ran.stdout);
    assert!(changed('+', "Hello, Petrel!"), "{}", ran.stdout);
    assert_eq!(
        p.snapshot()
            .iter()
            .filter(|(f, _)| f.starts_with(".petrel"))
            .count(),
        first
            .iter()
            .filter(|(f, _)| f.starts_with(".petrel"))
            .count()
    );
    // --check wrote nothing.
    assert!(!p.read(".petrel/app/main.rs").contains("Hello, Petrel!"));
}

#[test]
fn clean_gives_back_a_commented_cargo_toml_byte_for_byte() {
    for ending in ["\n", ""] {
        let p = Scratch::example("hello");
        let original = format!(
            "# My unikernel.\r\n[package]\nname = \"hello\"   # its name\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n# The facade:\npetrel = {{ path = {:?} }}{ending}",
            petrel_e2e::repo().join("petrel").display().to_string()
        );
        std::fs::write(p.dir.join("Cargo.toml"), &original).expect("write");
        expect(petrel(&p.dir, "unix").arg("configure"), 0);
        assert!(
            p.read("Cargo.toml").starts_with(&original),
            "configure kept the user's bytes first"
        );
        expect(petrel(&p.dir, "unix").arg("clean"), 0);
        assert_eq!(p.read("Cargo.toml"), original, "clean restored Cargo.toml");
        for gone in [".petrel", ".cargo", "dist"] {
            assert!(!p.dir.join(gone).exists(), "{gone} left behind");
        }
    }
}

#[test]
fn a_failed_configure_leaves_the_previous_configuration() {
    let p = Scratch::example("hello-key");
    expect(petrel(&p.dir, "unix").arg("configure"), 0);
    let before = p.snapshot();

    // A broken unikernel.toml: the error names file, line and column; nothing is written.
    let good = p.read("unikernel.toml");
    std::fs::write(
        p.dir.join("unikernel.toml"),
        good.replace("type = \"string\"", "type = \"strng\""),
    )
    .expect("write");
    let ran = run(petrel(&p.dir, "unix").arg("configure"));
    assert_eq!(ran.code, 1, "{}", ran.all());
    assert!(ran.stderr.contains("unikernel.toml:"), "{}", ran.stderr);
    let after: Vec<_> = p
        .snapshot()
        .into_iter()
        .filter(|(f, _)| f.to_str() != Some("unikernel.toml"))
        .collect();
    let before_wo: Vec<_> = before
        .iter()
        .filter(|(f, _)| f.to_str() != Some("unikernel.toml"))
        .cloned()
        .collect();
    assert_eq!(after, before_wo, "a failed configure changed files");

    // A key no implementation of the target offers: refused before anything is written.
    std::fs::write(p.dir.join("unikernel.toml"), &good).expect("write");
    let ran = run(petrel(&p.dir, "unix").args(["configure", "--target", "hvt", "--kv=direct"]));
    assert_eq!(ran.code, 1, "{}", ran.all());
    assert!(
        ran.stderr.contains("`kv = direct` is not available on hvt"),
        "{}",
        ran.stderr
    );
    assert_eq!(p.snapshot(), before, "a failed configure changed files");
}

#[test]
fn describe_shows_the_graph_in_three_formats() {
    let p = Scratch::example("hello-key");
    let text = expect(petrel(&p.dir, "unix").arg("describe"), 0).stdout;
    assert!(
        text.contains("petrel-time-unix") && text.contains("--hello"),
        "{text}"
    );
    let dot = expect(petrel(&p.dir, "unix").args(["describe", "--dot"]), 0).stdout;
    assert!(dot.starts_with("digraph"), "{dot}");
    let json = expect(
        petrel(&p.dir, "unix").args(["describe", "--json", "--target", "spt"]),
        0,
    )
    .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).expect("describe --json is JSON");
    assert_eq!(v["target"], "spt", "{json}");
    // describe writes nothing.
    assert!(!p.dir.join(".petrel").exists());
}

#[test]
fn two_devices_declaring_one_boot_argument_is_a_configure_error() {
    // Two unix block devices in one `group` both declare `--data-disk`: they collide.
    let p = Scratch::example("block");
    let toml = p.read("unikernel.toml").replace(
        "[devices.storage]\ntype = \"block\"\n",
        "[devices.storage]\ntype = \"block\"\ngroup = \"data\"\n",
    ) + "\n[devices.backup]\ntype = \"block\"\ngroup = \"data\"\n";
    assert!(toml.contains("group = \"data\"\n\n"), "{toml}");
    std::fs::write(p.dir.join("unikernel.toml"), toml).expect("write");
    let lib = p.read("src/lib.rs").replace(
        "start(storage: Block)",
        "start(storage: Block, backup: Block)",
    );
    std::fs::write(p.dir.join("src/lib.rs"), lib).expect("write");
    let ran = expect(
        petrel(&p.dir, "unix").args(["configure", "--target", "unix"]),
        1,
    );
    assert!(
        ran.stderr.contains("`--data-disk` is declared twice"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("`storage`") && ran.stderr.contains("`backup`"),
        "names both places: {}",
        ran.stderr
    );
    assert!(!p.dir.join(".petrel").exists(), "nothing written");
    // Without the shared group each gets its own prefix, and describe shows them.
    let toml = p.read("unikernel.toml").replace("group = \"data\"\n", "");
    std::fs::write(p.dir.join("unikernel.toml"), toml).expect("write");
    let text = expect(petrel(&p.dir, "unix").arg("describe"), 0).stdout;
    assert!(
        text.contains("--storage-disk=string") && text.contains("--backup-disk=string"),
        "{text}"
    );
}
