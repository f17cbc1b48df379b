//! A Petrel project on disk: where its files are, and where Petrel's own sources are.

use std::path::{Path, PathBuf};

/// A project directory: `Cargo.toml`, `unikernel.toml`, `src/lib.rs`.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory.
    pub dir: PathBuf,
}

/// Why a directory is not a Petrel project.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// No unikernel.toml.
    #[error(
        "no unikernel.toml in {0}\n  = help: run petrel in a unikernel's directory (or pass -C DIR); `petrel new NAME` creates one"
    )]
    NotAProject(PathBuf),
    /// No Cargo.toml beside it.
    #[error("{0} has a unikernel.toml but no Cargo.toml: a unikernel is a Rust library crate")]
    NoCargoToml(PathBuf),
}

impl Project {
    /// The project in `dir`.
    pub fn open(dir: &Path) -> Result<Project, ProjectError> {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        if !dir.join("unikernel.toml").is_file() {
            return Err(ProjectError::NotAProject(dir));
        }
        if !dir.join("Cargo.toml").is_file() {
            return Err(ProjectError::NoCargoToml(dir));
        }
        Ok(Project { dir })
    }

    /// `unikernel.toml`.
    pub fn unikernel_toml(&self) -> PathBuf {
        self.dir.join("unikernel.toml")
    }

    /// `Cargo.toml`.
    pub fn cargo_toml(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }

    /// `src/lib.rs`.
    pub fn lib_rs(&self) -> PathBuf {
        self.dir.join("src").join("lib.rs")
    }

    /// `.petrel/state.json`.
    pub fn state_json(&self) -> PathBuf {
        self.dir.join(".petrel").join("state.json")
    }
}

/// The directory of the facade crate `petrel` that new projects depend on: `$PETREL_HOME/petrel`
/// if set, else the sources this binary was built from.
pub fn petrel_facade_dir() -> Option<PathBuf> {
    let home = match std::env::var_os("PETREL_HOME") {
        Some(h) => PathBuf::from(h),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()?
            .to_path_buf(),
    };
    let facade = home.join("petrel");
    facade.join("Cargo.toml").is_file().then_some(facade)
}

/// `to` relative to `from` (both absolute directories), with `/` separators, for paths
/// written into generated manifests: relative paths keep the output the same on every
/// machine that has the same layout.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> =
        std::iter::repeat_n("..".to_string(), from.len() - common).collect();
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(Path::new("/a/b/.petrel/app"), Path::new("/a/petrel")),
            "../../../petrel"
        );
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/a/b")), ".");
        assert_eq!(
            relative_path(Path::new("/a/b/.petrel/app"), Path::new("/a/b")),
            "../.."
        );
    }
}
