//! Images describe themselves (docs/self-description.md): `petrel inspect` on built images
//! of hello-key and static_website, on every target, shows the boot arguments exactly as the
//! image's `--help` prints them and the dependency list that cargo-auditable's own reader
//! (the `auditable-info` crate) finds in the same file.

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

/// `petrel inspect IMAGE [--json]`'s output.
fn inspect(project: &Scratch, image: &Path, json: bool) -> String {
    let mut cmd = petrel(&project.dir, "unix");
    cmd.arg("inspect").arg(image);
    if json {
        cmd.arg("--json");
    }
    expect(&mut cmd, 0).stdout
}

/// What inspect says about `image` agrees with the image itself and with configure.
fn check(project: &Scratch, name: &str, target: &str, image: &Path) {
    let json: serde_json::Value =
        serde_json::from_str(&inspect(project, image, true)).expect("inspect --json is JSON");
    let text = inspect(project, image, false);
    let what = format!("{name} on {target}");
    assert_eq!(json["target"], target, "{what}: {json}");
    assert_eq!(json["name"], name, "{what}: {json}");

    // The help inspect renders is the very string the image prints for --help (the image
    // holds it verbatim), and the text output shows it.
    let help = json["help"].as_str().expect("help");
    let bytes = std::fs::read(image).expect("read image");
    assert!(
        bytes.windows(help.len()).any(|w| w == help.as_bytes()),
        "{what}: the image does not print this --help:\n{help}"
    );
    assert!(
        text.contains(&petrel_cli::inspect::indent(help)),
        "{what}:\n{text}"
    );
    // The arguments, with types, defaults and docs, are bootargs.json's.
    let bootargs: serde_json::Value =
        serde_json::from_str(&project.read(".petrel/bootargs.json")).expect("bootargs.json");
    assert_eq!(json["arguments"], bootargs["arguments"], "{what}");

    // cargo-auditable's reader finds the same dependency list.
    let audited = auditable_info::audit_info_from_file(image, auditable_info::Limits::default())
        .unwrap_or_else(|e| panic!("{what}: auditable-info cannot read the image: {e}"));
    let listed: auditable_serde::VersionInfo =
        // (auditable-serde's `Source` reads borrowed strings: from text, not from a Value.)
        serde_json::from_str(&json["dependencies"].to_string()).expect("dependencies");
    assert_eq!(audited, listed, "{what}");
    let root = audited.packages.iter().find(|p| p.root).expect("a root");
    assert_eq!(root.name, format!("{name}-petrel-{target}"), "{what}");
    for needed in [name, "petrel", "petrel-bootvar"] {
        assert!(
            audited.packages.iter().any(|p| p.name == needed),
            "{what}: {needed} missing from {:?}",
            audited.packages
        );
    }
    eprintln!(
        "{what}: {} bytes, {} arguments, {} dependencies",
        bytes.len(),
        json["arguments"].as_array().map_or(0, Vec::len),
        audited.packages.len()
    );
}

#[test]
fn inspect_shows_the_help_the_image_prints_and_dependencies_auditable_info_reads() {
    let _lock = build_lock();
    for (example, name) in [
        ("hello-key", "hello-key"),
        ("static_website", "static-website"),
    ] {
        let project = Scratch::example(example);
        // xen only for the small one: each build costs a link with LTO (CI time).
        let xen = (example == "hello-key").then_some("xen");
        for target in ["unix", "spt", "hvt", "virtio"].into_iter().chain(xen) {
            let start = std::time::Instant::now();
            let image = build(&project, name, target);
            eprintln!("{name} for {target}: built in {:.0?}", start.elapsed());
            check(&project, name, target, &image);
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
}
