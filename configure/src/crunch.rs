//! Which files of a directory a device embeds in the image (`kv_ro` crunch): the walk of the
//! directory named by its `dir` parameter.
//!
//! The rules (docs/threat-model.md says why):
//! - Regular files are embedded under their path relative to the directory, `/`-separated.
//! - Names starting with `.` (files and directories: `.git`, `.env`, `.DS_Store`) and special
//!   files (fifos, sockets, devices) are skipped, each with a warning: a fifo would hang the
//!   build, and hidden files are rarely meant to be published.
//! - A symbolic link is followed only while it stays inside the directory. A link whose
//!   target is outside it, or a link to a directory that contains the link (a loop, like
//!   `ln -s . s1`), is an error naming the link; a dangling link is skipped with a warning.
//!   Loops are caught by keeping the (device, inode) of each directory on the path from the
//!   root: an endless walk must come back to one of them. Links that do not loop can still
//!   give a directory many names (two links to a directory holding two links to the next...
//!   doubles at each level), so one directory may be embedded under at most
//!   [`MAX_NAMES_PER_DIRECTORY`] names.
//! - A name that is not UTF-8 is an error: the key and the path both go into generated Rust.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How many paths (through symbolic links) may lead to one directory.
pub const MAX_NAMES_PER_DIRECTORY: usize = 16;

/// A file to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedFile {
    /// Its key: the path relative to the directory, with `/` separators.
    pub key: String,
    /// Where it is read from (inside the directory, possibly through links).
    pub path: PathBuf,
}

/// The outcome of a walk: the files, sorted by key, and what was left out and why.
#[derive(Debug, Default)]
pub struct Walk {
    /// The files to embed.
    pub files: Vec<EmbeddedFile>,
    /// Entries skipped, with the reason (relative path, reason).
    pub skipped: Vec<(String, &'static str)>,
}

/// Why a directory cannot be embedded. Paths are shown relative to the directory.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// A symbolic link leads out of the directory.
    #[error(
        "the symbolic link `{link}` leads out of the directory (to {target}); copy the file in instead"
    )]
    Escapes {
        /// The link, relative to the directory.
        link: String,
        /// Where it leads.
        target: String,
    },
    /// A symbolic link leads to a directory that contains it.
    #[error(
        "the symbolic link `{link}` leads back to `{target}`, which contains it: the walk would never end"
    )]
    Loop {
        /// The link, relative to the directory.
        link: String,
        /// The directory it leads to, relative to the directory.
        target: String,
    },
    /// Symbolic links give one directory too many names.
    #[error(
        "`{dir}` gives one directory more than {MAX_NAMES_PER_DIRECTORY} names: symbolic links multiply it; remove some"
    )]
    TooManyNames {
        /// The last name, relative to the directory.
        dir: String,
    },
    /// A file name that is not UTF-8.
    #[error(
        "the name of `{path}` is not UTF-8 (shown with U+FFFD for the bytes that are not); rename it"
    )]
    NotUtf8 {
        /// The path, lossily decoded.
        path: String,
    },
    /// Reading the directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// What was read.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// One directory still to read: where it is, its key prefix, and the (device, inode) of
/// every directory from the root down to it.
struct Pending {
    dir: PathBuf,
    prefix: String,
    ancestors: Vec<(u64, u64)>,
}

/// Walks `root` (the device's `dir`, an existing directory).
pub fn walk(root: &Path) -> Result<Walk, WalkError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WalkError::Io { path, source }
    };
    let real_root = fs::canonicalize(root).map_err(io(root))?;
    let root_meta = fs::metadata(&real_root).map_err(io(&real_root))?;
    let mut out = Walk::default();
    let mut names: HashMap<(u64, u64), usize> = HashMap::new();
    let mut pending = vec![Pending {
        dir: root.to_path_buf(),
        prefix: String::new(),
        ancestors: vec![(root_meta.dev(), root_meta.ino())],
    }];
    while let Some(Pending {
        dir,
        prefix,
        ancestors,
    }) = pending.pop()
    {
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let path = entry.path();
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(WalkError::NotUtf8 {
                    path: format!("{prefix}{}", name.to_string_lossy()),
                });
            };
            let key = format!("{prefix}{name}");
            if name.starts_with('.') {
                out.skipped.push((key, "hidden (its name starts with `.`)"));
                continue;
            }
            let kind = entry.file_type().map_err(io(&path))?;
            let meta = if kind.is_symlink() {
                let Ok(target) = fs::canonicalize(&path) else {
                    out.skipped.push((key, "a symbolic link to nothing"));
                    continue;
                };
                let Ok(inside) = target.strip_prefix(&real_root) else {
                    return Err(WalkError::Escapes {
                        link: key,
                        target: target.display().to_string(),
                    });
                };
                let meta = fs::metadata(&target).map_err(io(&target))?;
                if meta.is_dir() && ancestors.contains(&(meta.dev(), meta.ino())) {
                    let target = inside.display().to_string();
                    return Err(WalkError::Loop {
                        link: key,
                        target: if target.is_empty() {
                            ".".into()
                        } else {
                            target
                        },
                    });
                }
                meta
            } else {
                entry.metadata().map_err(io(&path))?
            };
            if meta.is_dir() {
                let seen = names.entry((meta.dev(), meta.ino())).or_default();
                *seen += 1;
                if *seen > MAX_NAMES_PER_DIRECTORY {
                    return Err(WalkError::TooManyNames { dir: key });
                }
                let mut ancestors = ancestors.clone();
                ancestors.push((meta.dev(), meta.ino()));
                pending.push(Pending {
                    dir: path,
                    prefix: format!("{key}/"),
                    ancestors,
                });
            } else if meta.is_file() {
                out.files.push(EmbeddedFile { key, path });
            } else {
                out.skipped
                    .push((key, "not a regular file (a fifo, socket or device)"));
            }
        }
    }
    out.files.sort_by(|a, b| a.key.cmp(&b.key));
    out.skipped.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("petrel-crunch-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("data/docs")).expect("mkdir");
        fs::write(dir.join("data/hello.txt"), "hi").expect("write");
        fs::write(dir.join("data/docs/about.txt"), "about").expect("write");
        dir
    }

    fn keys(w: &Walk) -> Vec<&str> {
        w.files.iter().map(|f| f.key.as_str()).collect()
    }

    #[test]
    fn links_inside_are_followed_and_hidden_files_skipped() {
        let dir = scratch("inside");
        let data = dir.join("data");
        symlink("docs", data.join("latest")).expect("link");
        symlink("hello.txt", data.join("index.txt")).expect("link");
        symlink("missing", data.join("dangling")).expect("link");
        fs::write(data.join(".env"), "SECRET=1").expect("write");
        fs::create_dir(data.join(".git")).expect("mkdir");
        let w = walk(&data).expect("walks");
        assert_eq!(
            keys(&w),
            [
                "docs/about.txt",
                "hello.txt",
                "index.txt",
                "latest/about.txt"
            ]
        );
        let skipped: Vec<&str> = w.skipped.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(skipped, [".env", ".git", "dangling"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn links_cannot_multiply_a_directory_without_end() {
        // d0/{a,b} -> d1, d1/{a,b} -> d2, ...: 2^k names for d_k, no loop.
        let dir = scratch("multiply");
        let data = dir.join("data");
        for k in 1..=12 {
            fs::create_dir(data.join(format!("d{k}"))).expect("mkdir");
            let from = if k == 1 {
                data.clone()
            } else {
                data.join(format!("d{}", k - 1))
            };
            for l in ["a", "b"] {
                symlink(data.join(format!("d{k}")), from.join(l)).expect("link");
            }
        }
        fs::write(data.join("d12/leaf.txt"), "x").expect("write");
        let e = walk(&data).expect_err("too many names").to_string();
        assert!(e.contains("symbolic links multiply it"), "{e}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn loops_and_escapes_are_errors() {
        for (link, to, expected) in [
            ("s1", ".", "leads back to `.`"),
            ("docs/up", "..", "leads back to `.`"),
            ("docs/self", ".", "leads back to `docs`"),
            ("out", "..", "leads out of the directory"),
            ("passwd", "/etc/passwd", "leads out of the directory"),
        ] {
            let dir = scratch("loop");
            symlink(to, dir.join("data").join(link)).expect("link");
            let e = walk(&dir.join("data")).expect_err(link).to_string();
            assert!(e.contains(expected) && e.contains(link), "{link}: {e}");
            let _ = fs::remove_dir_all(&dir);
        }
    }
}
