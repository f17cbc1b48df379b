//! `petrel inspect` on built images, checked against the images themselves
//! (docs/self-description.md).

use crate::{Scratch, expect, petrel};
use std::path::Path;

/// `petrel inspect IMAGE [--json]`'s output.
pub fn inspect(project: &Scratch, image: &Path, json: bool) -> String {
    let mut cmd = petrel(&project.dir, "unix");
    cmd.arg("inspect").arg(image);
    if json {
        cmd.arg("--json");
    }
    expect(&mut cmd, 0).stdout
}

/// What `petrel inspect` says about `image`, `name`'s image for `target` built in `project`,
/// agrees with the image itself (the `--help` it prints, the dependency list cargo-auditable's
/// reader finds) and with configure (`bootargs.json`).
pub fn check(project: &Scratch, name: &str, target: &str, image: &Path) {
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
    // Proc-macros and what only they use are build-time (cargo-auditable's format 1).
    let kind = |n: &str| {
        audited
            .packages
            .iter()
            .find(|p| p.name == n)
            .map(|p| p.kind)
    };
    assert_eq!(
        kind("petrel-macros"),
        Some(auditable_serde::DependencyKind::Build),
        "{what}"
    );
    assert_eq!(
        kind("petrel"),
        Some(auditable_serde::DependencyKind::Runtime),
        "{what}"
    );
    eprintln!(
        "{what}: {} bytes, {} arguments, {} dependencies",
        bytes.len(),
        json["arguments"].as_array().map_or(0, Vec::len),
        audited.packages.len()
    );
}
