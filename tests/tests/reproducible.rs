//! Reproducible images: the same commit, checked out in two different directories and built
//! with two different `CARGO_HOME`s, gives the same bytes for every target, for hello and
//! static_website.
//!
//! The second `CARGO_HOME` is a fresh directory sharing the first's downloaded crates
//! (symlinks, and a copy of the index): cargo finds every crate there, runs offline, and rustc
//! sees different absolute paths. Each copy builds in its own target directory, so nothing compiled by one is reused
//! by the other.

use petrel_e2e::{bin_dir, expect, petrel, repo};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A copy of the repository's sources (no build outputs, no `.git`, no generated files)
/// under `to`.
fn copy_checkout(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create checkout copy");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        let skip = ["target", ".git", "dist", ".petrel", ".cargo", "e2e-cache"];
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_checkout(&src, &dst);
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).expect("copy file");
        }
    }
}

/// The `CARGO_HOME` cargo uses here.
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME is set")
}

/// A second `CARGO_HOME` at `dir` sharing the first's downloaded crates: the crate archives,
/// their sources and git checkouts through symlinks, the index as a copy (14 MB here), so
/// that another cargo updating the first's index between the two builds cannot change what
/// the second resolves offline.
fn linked_cargo_home(dir: &Path) -> PathBuf {
    let first = cargo_home();
    let registry = dir.join("registry");
    std::fs::create_dir_all(&registry).expect("create CARGO_HOME");
    for sub in ["registry/cache", "registry/src", "git"] {
        if first.join(sub).exists() {
            std::os::unix::fs::symlink(first.join(sub), dir.join(sub)).expect("symlink");
        }
    }
    copy_checkout(&first.join("registry/index"), &registry.join("index"));
    dir.to_path_buf()
}

/// One build environment: a copy of the repository and a `CARGO_HOME`.
struct Checkout {
    root: PathBuf,
    cargo_home: PathBuf,
}

impl Checkout {
    /// The directory of `example` in this copy.
    fn project(&self, example: &str) -> PathBuf {
        self.root.join("examples").join(example)
    }

    /// Builds `example` for `target` in release mode and returns the image's bytes.
    fn build(&self, example: &str, target: &str) -> Vec<u8> {
        let dir = self.project(example);
        let mut cmd = petrel(&dir, target);
        cmd.env_remove("CARGO_TARGET_DIR")
            .env("CARGO_HOME", &self.cargo_home)
            .env("CARGO_NET_OFFLINE", "true")
            .args(["build", "--target", target]);
        expect(&mut cmd, 0);
        let dist = dir.join("dist");
        // The only image of this target in dist/ (hello or hello.hvt, ...).
        let image = std::fs::read_dir(&dist)
            .expect("dist/")
            .map(|e| e.expect("entry").path())
            .find(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                match target {
                    "unix" => !name.contains('.'),
                    t => name.ends_with(&format!(".{t}")),
                }
            })
            .unwrap_or_else(|| panic!("no {target} image in {}", dist.display()));
        std::fs::read(&image).expect("read image")
    }
}

/// The first offset where `a` and `b` differ, for the failure message.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

#[test]
fn images_are_identical_from_two_checkouts_and_cargo_homes() {
    let _lock = petrel_e2e::build_lock();
    bin_dir();
    let scratch = std::env::temp_dir().join(format!("petrel-repro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    // Different names and depths: nothing about the path may reach the image.
    let a = Checkout {
        root: scratch.join("a/petrel"),
        cargo_home: cargo_home(),
    };
    let b = Checkout {
        root: scratch.join("bb/some/where/else/checkout"),
        cargo_home: linked_cargo_home(&scratch.join("home-b/cargo")),
    };
    copy_checkout(&repo(), &a.root);
    copy_checkout(&repo(), &b.root);

    // Every target, each example in one target directory per copy: after the first
    // target, mostly the platform crates and the link are built again.
    let targets = ["unix", "spt", "hvt", "virtio", "xen"];
    let builds = ["hello", "static_website"]
        .into_iter()
        .flat_map(|example| targets.map(|target| (example, target)));
    let mut failures = Vec::new();
    for (example, target) in builds {
        let start = Instant::now();
        let x = a.build(example, target);
        // The same commit means the same Cargo.lock (offline, cargo could otherwise resolve
        // against a different view of the index).
        std::fs::copy(
            a.project(example).join("Cargo.lock"),
            b.project(example).join("Cargo.lock"),
        )
        .expect("copy Cargo.lock");
        let y = b.build(example, target);
        eprintln!(
            "{example} for {target}: {} bytes, both builds in {:.0?}, {}",
            x.len(),
            start.elapsed(),
            if x == y { "identical" } else { "DIFFERENT" }
        );
        if x != y {
            failures.push(format!(
                "{example} for {target}: {} and {} bytes, first difference at offset {:#x}",
                x.len(),
                y.len(),
                first_difference(&x, &y)
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        failures.is_empty(),
        "not reproducible:\n{}",
        failures.join("\n")
    );
}
