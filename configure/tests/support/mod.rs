//! Helpers shared by the configure tests: scratch copies of the examples.

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
