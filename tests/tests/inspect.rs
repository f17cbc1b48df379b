//! Images describe themselves (docs/self-description.md): `petrel inspect` on hello-key's
//! image for every target shows the boot arguments exactly as the image's `--help` prints
//! them and the dependency list that cargo-auditable's own reader (the `auditable-info`
//! crate) finds in the same file ([`petrel_e2e::inspect::check`]; static_website's images
//! are checked where other tests build them: static_website.rs, direct_stack.rs). Mutated
//! images never make it panic, and its JSON on hvt is snapshotted.

use petrel_e2e::inspect::{check, inspect};
use petrel_e2e::{Scratch, build_lock, expect, petrel};
use std::path::{Path, PathBuf};

/// Builds `example` for `target` and returns its image.
fn build(project: &Scratch, name: &str, target: &str) -> PathBuf {
    let mut cmd = petrel(&project.dir, target);
    cmd.args(["build", "--target", target]);
    expect(&mut cmd, 0);
    let file = match target {
        "unix" => name.to_string(),
        t => format!("{name}.{t}"),
    };
    project.dir.join("dist").join(file)
}

/// Mutates a real image where its self-description lives (the sections and their table,
/// at the end of the file) and cuts it anywhere: inspect answers or refuses, never panics.
fn mutations_never_panic(image: &Path) {
    let valid = std::fs::read(image).expect("read image");
    let tail = valid.len().saturating_sub(4096);
    // xorshift64: the same cases every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut refused, cases) = (0, 3000);
    for _ in 0..cases {
        let mut bytes = valid.clone();
        for _ in 0..1 + next() % 4 {
            let at = tail + (next() as usize) % (bytes.len() - tail);
            bytes[at] = next() as u8;
        }
        if next() % 4 == 0 {
            bytes.truncate((next() as usize) % valid.len());
        }
        match petrel_cli::inspect::inspect_bytes(image, &bytes) {
            Ok(found) => drop(found.text()),
            Err(e) => {
                refused += 1;
                let line = e.to_string();
                assert!(!line.trim_end().contains('\n'), "one line: {line}");
            }
        }
    }
    eprintln!(
        "{}: {cases} mutated copies, {refused} refused, no panic",
        image.display()
    );
}

/// A Solo5 image without a self-description (as another toolchain builds them, or one with
/// its section table stripped, as here): what the notes say, and no error.
fn without_self_description(project: &Scratch, image: &Path) {
    let mut bytes = std::fs::read(image).expect("read image");
    // e_shoff, then e_shnum and e_shstrndx: no section table.
    bytes[0x28..0x30].fill(0);
    bytes[0x3c..0x40].fill(0);
    let bare = project.dir.join("dist/bare.hvt");
    std::fs::write(&bare, &bytes).expect("write");
    let text = inspect(project, &bare, false);
    for line in [
        "target:   hvt (Solo5 ABI note: target 1 (hvt), version 2)",
        "checks:   accepted by solo5-hvt's load-time checks",
        "unikernel: no self-description",
    ] {
        assert!(text.contains(line), "{line}:\n{text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&inspect(project, &bare, true)).expect("JSON");
    assert!(
        json["name"].is_null() && json["dependencies"].is_null(),
        "{json}"
    );
}

/// `petrel inspect --json` on hello-key for hvt (hello-key rather than hello: it has a boot
/// argument to show), with what changes with any code change (size, entry) and the
/// scratch path replaced.
fn snapshot(project: &Scratch, image: &Path) {
    let json = inspect(project, image, true);
    let steady: Vec<String> = json
        .lines()
        .map(|line| {
            for field in ["image", "size", "entry"] {
                if line.starts_with(&format!("  \"{field}\": ")) {
                    return format!("  \"{field}\": \"<{field}>\",");
                }
            }
            line.to_string()
        })
        .collect();
    insta::assert_snapshot!("inspect_json_hello_key_hvt", steady.join("\n"));
}

#[test]
fn inspect_on_hello_key_shows_its_help_and_the_dependencies_auditable_info_reads() {
    let _lock = build_lock();
    let name = "hello-key";
    let project = Scratch::example(name);
    for target in ["unix", "spt", "hvt", "virtio", "xen"] {
        let start = std::time::Instant::now();
        let image = build(&project, name, target);
        eprintln!("{name} for {target}: built in {:.0?}", start.elapsed());
        check(&project, name, target, &image);
        if target == "hvt" {
            mutations_never_panic(&image);
            snapshot(&project, &image);
            without_self_description(&project, &image);
        }
        if target == "unix" {
            // And on unix, where running it costs nothing: byte for byte what it prints.
            let mut run = std::process::Command::new(&image);
            let printed = expect(run.arg("--help"), 63).stdout;
            let json: serde_json::Value =
                serde_json::from_str(&inspect(&project, &image, true)).expect("JSON");
            assert_eq!(json["help"].as_str(), Some(printed.as_str()));
        }
    }
}
