//! Helpers shared by the configure tests: scratch copies of the examples.
// Each test crate that includes this module uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("configure/ is in the repository")
        .to_path_buf()
}

/// A copy of an example outside the repository (so it is not taken for a member of
/// Petrel's workspace), depending on this checkout's facade. One directory per call: tests
/// run in parallel.
pub fn scratch(example: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("petrel-snap-{example}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = repo().join("examples").join(example);
    copy_tree(&src, &dir);
    let cargo = std::fs::read_to_string(src.join("Cargo.toml"))
        .expect("Cargo.toml")
        .replace(
            "\"../../petrel\"",
            &format!("{:?}", repo().join("petrel").display().to_string()),
        );
    std::fs::write(dir.join("Cargo.toml"), cargo).expect("write");
    dir
}

/// Copies `src` to `dst`: the example's files, without build output.
fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("scratch dir");
    for entry in std::fs::read_dir(src).expect("example directory") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if [".petrel", ".cargo", "target", "dist"].contains(&name.to_str().unwrap_or("")) {
            continue;
        }
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &dst.join(&name));
        } else {
            std::fs::copy(entry.path(), dst.join(&name)).expect("copy");
        }
    }
}

/// Says loudly that `test` could not run here and why; fails it when `CI=true`, where
/// everything it needs is installed.
pub fn skip(test: &str, reason: &str) {
    eprintln!("SKIPPED {test}: {reason}");
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test} cannot run in CI: {reason}"
    );
}

/// Every entry under `dir` (links not followed) with its kind, mode and a hash of its bytes,
/// sorted; without Cargo.lock, which `cargo metadata` writes.
pub fn tree(dir: &Path) -> Vec<(PathBuf, String)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            let m = std::fs::symlink_metadata(&p).expect("stat");
            let what = if m.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else if m.file_type().is_symlink() {
                format!("link to {:?}", std::fs::read_link(&p).expect("readlink"))
            } else {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).expect("read").hash(&mut h);
                format!("{:o} {:016x}", m.mode(), h.finish())
            };
            if p.file_name().is_some_and(|n| n == "Cargo.lock") {
                continue;
            }
            out.push((p.strip_prefix(dir).expect("inside").to_path_buf(), what));
        }
    }
    out.sort();
    out
}
