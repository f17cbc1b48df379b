//! Where a build's sources were: a git commit (with the project's path inside the
//! repository, and whether the tree had changes), or, outside git, a directory.

use crate::emit::user_manifest;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// Where the sources of a recorded build were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Source {
    /// A git repository.
    Git {
        /// The commit checked out (`HEAD`), full hex.
        commit: String,
        /// Whether the tree differed from the commit (besides petrel's own table in the
        /// project's Cargo.toml and the ignored build outputs).
        dirty: bool,
        /// The project's directory inside the repository, `/`-separated (empty: the root).
        path: String,
    },
    /// Not in git: the project directory, as it was when recorded.
    Directory {
        /// Its absolute path.
        path: String,
    },
}

impl Source {
    /// Where the project in `dir` is: its git commit if it is in a work tree (and `git` runs),
    /// else the directory.
    pub fn of_project(dir: &Path) -> Result<Source, Error> {
        let absolute =
            std::path::absolute(dir).map_err(|e| Error::msg(format!("{}: {e}", dir.display())))?;
        let Some(prefix) = git(dir, &["rev-parse", "--show-prefix"]) else {
            return Ok(Source::Directory {
                path: absolute.display().to_string(),
            });
        };
        let path = prefix.trim().trim_end_matches('/').to_string();
        let commit = git(dir, &["rev-parse", "--verify", "HEAD"])
            .ok_or_else(|| {
                Error::msg(format!(
                    "{}: the git repository has no commit yet; commit the sources to record a build",
                    dir.display()
                ))
            })?
            .trim()
            .to_string();
        let dirty = is_dirty(dir, &path)?;
        Ok(Source::Git {
            commit,
            dirty,
            path,
        })
    }

    /// Checks what a record says before anything uses it (a commit is hex, a path stays
    /// inside the repository).
    pub fn check(&self) -> Result<(), String> {
        match self {
            Source::Git { commit, path, .. } => {
                if !(commit.len() == 40 || commit.len() == 64)
                    || !commit.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(format!("commit {commit:?} is not a full git hash"));
                }
                let inside = Path::new(path)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)));
                if !inside || path.contains('\\') {
                    return Err(format!(
                        "path {path:?} is not a relative path inside the repository"
                    ));
                }
                Ok(())
            }
            Source::Directory { path } if !Path::new(path).is_absolute() => {
                Err(format!("directory path {path:?} is not absolute"))
            }
            Source::Directory { .. } => Ok(()),
        }
    }
}

/// Whether the work tree holding the project (at `path` in the repository) differs from
/// `HEAD`. Petrel's own `[workspace]` table in the project's Cargo.toml does not count: it is
/// what configure adds, and the rebuild adds it again.
fn is_dirty(dir: &Path, path: &str) -> Result<bool, Error> {
    let status = git(
        dir,
        &["status", "--porcelain", "-z", "--untracked-files=normal"],
    )
    .ok_or_else(|| Error::msg(format!("{}: `git status` failed", dir.display())))?;
    let manifest = if path.is_empty() {
        "Cargo.toml".to_string()
    } else {
        format!("{path}/Cargo.toml")
    };
    for entry in status.split('\0').filter(|e| e.len() > 3) {
        let (code, file) = entry.split_at(3);
        if file == manifest && code == " M " && only_petrel_table(dir, &manifest)? {
            continue;
        }
        return Ok(true);
    }
    Ok(false)
}

/// Whether the project's Cargo.toml equals the committed one once petrel's table is taken
/// out.
fn only_petrel_table(dir: &Path, manifest: &str) -> Result<bool, Error> {
    let Some(committed) = git(dir, &["show", &format!("HEAD:{manifest}")]) else {
        return Ok(false);
    };
    let here = dir.join("Cargo.toml");
    let current = std::fs::read_to_string(&here)
        .map_err(|e| Error::msg(format!("{}: {e}", here.display())))?;
    Ok(user_manifest::remove(&current).is_ok_and(|without| without == committed))
}

/// `git -C dir ARGS`'s stdout, or `None` if git is missing or fails (not a repository).
pub(super) fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The top directory of the work tree holding `dir`, if any.
pub(super) fn repository_of(dir: &Path) -> Option<PathBuf> {
    git(dir, &["rev-parse", "--show-toplevel"]).map(|top| PathBuf::from(top.trim()))
}
