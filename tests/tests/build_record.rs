//! What `petrel build` leaves beside an image for the people who deploy it, checked on real
//! builds: the Solo5 manifest JSON says what the image's own manifest note says, and a build
//! record (`--record`) rebuilds to the same sha256 with `petrel rebuild`, while a tampered
//! record does not.

use petrel_e2e::{Scratch, expect, petrel, run, skip};
use petrel_solo5_abi::elf;
use std::path::Path;
use std::process::Command;

/// `petrel build --target spt` of examples/two_disks: dist/two-disks.manifest.json lists the
/// devices of the image's `.note.solo5.manifest`, by name and type, in handle order.
#[test]
fn manifest_json_is_the_images_manifest_note() {
    let _lock = petrel_e2e::build_lock();
    let project = Scratch::example("two_disks");
    expect(
        petrel(&project.dir, "spt").args(["build", "--target", "spt"]),
        0,
    );
    let json: serde_json::Value =
        serde_json::from_str(&project.read("dist/two-disks.manifest.json")).expect("JSON");
    let listed: Vec<(String, String)> = json["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| (d["name"].to_string(), d["type"].to_string()))
        .collect();
    let image = std::fs::read(project.dir.join("dist/two-disks.spt")).expect("the image");
    let notes = elf::read_notes(&image).expect("an ELF");
    let manifest = notes
        .manifest
        .expect("a manifest note")
        .expect("a valid manifest");
    let noted: Vec<(String, String)> = manifest
        .entries
        .iter()
        .skip(1) // Solo5's reserved entry 0, which the JSON leaves out.
        .map(|e| {
            (
                format!("{:?}", e.name_str()),
                format!("{:?}", e.device_type.name()),
            )
        })
        .collect();
    assert_eq!(json["type"], "solo5.manifest");
    assert_eq!(listed.len(), 2, "{json}");
    assert_eq!(listed, noted);
}

/// Runs git in `dir` with a fixed identity.
fn git(dir: &Path, args: &[&str]) {
    let ran = run(Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=petrel",
            "-c",
            "user.email=petrel@localhost",
        ])
        .args(args));
    assert_eq!(ran.code, 0, "git {args:?}: {}", ran.all());
}

/// `petrel rebuild RECORD` in `dir`: exits `code`, prints `verdict`, and says `progress` on
/// stderr.
fn rebuild(dir: &Path, record: &str, code: i32, verdict: &str, progress: &str) {
    let ran = expect(petrel(dir, "spt").args(["rebuild", record]), code);
    assert_eq!(ran.stdout.trim(), verdict, "{}", ran.stderr);
    assert!(ran.stderr.contains(progress), "{}", ran.stderr);
}

/// examples/hello in a git repository of its own: `petrel build --record` then
/// `petrel rebuild` (a clone at the commit) says `match`; the record with another image hash,
/// pointing at the directory instead (a copy of the project), says `MISMATCH` with both
/// hashes and exits 1; a file that is not a record is one error line.
#[test]
fn rebuild_matches_and_a_tampered_record_does_not() {
    let test = "rebuild_matches_and_a_tampered_record_does_not";
    if Command::new("git").arg("--version").output().is_err() {
        skip(test, "git is not installed");
        return;
    }
    let _lock = petrel_e2e::build_lock();
    let project = Scratch::example("hello");
    std::fs::write(
        project.dir.join(".gitignore"),
        "/target\n/.petrel\n/.cargo\n/dist\nCargo.lock\n",
    )
    .expect("write .gitignore");
    git(&project.dir, &["init", "--quiet"]);
    git(&project.dir, &["add", "."]);
    git(&project.dir, &["commit", "--quiet", "-m", "hello"]);

    let built = expect(
        petrel(&project.dir, "spt").args(["build", "--target", "spt", "--record"]),
        0,
    );
    assert!(
        built.stderr.contains("Record dist/hello.spt.record.json"),
        "{}",
        built.stderr
    );
    let record_path = project.dir.join("dist/hello.spt.record.json");
    let text = std::fs::read_to_string(&record_path).expect("the record");
    let record: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let image = std::fs::read(project.dir.join("dist/hello.spt")).expect("the image");
    let sha256 = record["sha256"].as_str().expect("sha256").to_string();
    assert_eq!(sha256.len(), 64);
    assert_eq!(record["target"], "spt");
    // Configure's own table in Cargo.toml does not make the tree dirty.
    assert_eq!(record["source"]["git"]["dirty"], false, "{text}");
    assert_eq!(record["source"]["git"]["path"], "", "{text}");
    assert!(
        record["rustc"]
            .as_str()
            .is_some_and(|r| r.contains("release:"))
    );
    assert!(!image.is_empty());

    rebuild(
        &project.dir,
        "dist/hello.spt.record.json",
        0,
        &format!("match: hello.spt for spt has the recorded sha256 {sha256}"),
        "Checkout commit",
    );

    let mut tampered = record.clone();
    let other = "0".repeat(64);
    tampered["sha256"] = other.clone().into();
    tampered["source"] = serde_json::json!({
        "directory": { "path": project.dir.display().to_string() }
    });
    let tampered_path = project.dir.join("tampered.json");
    std::fs::write(&tampered_path, tampered.to_string()).expect("write");
    // A file git does not know does make the tree dirty.
    let source = petrel_cli::record::Source::of_project(&project.dir).expect("a source");
    assert!(
        matches!(source, petrel_cli::record::Source::Git { dirty: true, .. }),
        "{source:?}"
    );
    rebuild(
        &project.dir,
        "tampered.json",
        1,
        &format!("MISMATCH: hello.spt for spt: recorded sha256 {other}, rebuilt sha256 {sha256}"),
        "Copying",
    );

    std::fs::write(&tampered_path, "{\"type\": \"petrel.build-record\"}").expect("write");
    let bad = expect(
        petrel(&project.dir, "spt").args(["rebuild", "tampered.json"]),
        1,
    );
    let errors: Vec<&str> = bad
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", bad.stderr);
    assert!(
        errors[0].contains("not a valid petrel build record: missing field"),
        "{}",
        bad.stderr
    );
}
