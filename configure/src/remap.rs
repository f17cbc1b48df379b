//! Path prefixes rewritten in every image, so that the same sources give the same bytes
//! whatever the checkout's directory, the user, `CARGO_HOME` or the toolchain's location.
//!
//! Absolute paths reach an image through panic locations (`file!()` of the user's crate, of
//! Petrel's crates and of registry crates). Each varying prefix is rewritten to a fixed
//! placeholder with rustc's stable `--remap-path-prefix`. The flags themselves differ from
//! machine to machine, which is harmless: cargo (checked with 1.95) keeps rustflags out of
//! `-C metadata`, so symbol names do not change with them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One prefix rewritten in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    /// The prefix as it is on this machine.
    pub from: PathBuf,
    /// The fixed placeholder it becomes.
    pub to: &'static str,
}

impl Remap {
    /// The rustc flag.
    pub fn flag(&self) -> String {
        format!("--remap-path-prefix={}={}", self.from.display(), self.to)
    }
}

/// Where the varying prefixes are on this machine.
#[derive(Debug, Clone, Default)]
pub struct Prefixes {
    /// The project's cargo workspace root (`cargo metadata`'s `workspace_root`).
    pub workspace: PathBuf,
    /// The Petrel checkout, when the project depends on Petrel by path.
    pub petrel_checkout: Option<PathBuf>,
    /// `CARGO_HOME` (registry sources and git checkouts live under it).
    pub cargo_home: Option<PathBuf>,
    /// The toolchain's sysroot (`rustc --print sysroot`; its `lib/rustlib/src` when
    /// rust-src is installed).
    pub sysroot: Option<PathBuf>,
}

impl Prefixes {
    /// The prefixes of this machine: `CARGO_HOME` as cargo finds it, the sysroot of the
    /// `rustc` cargo would run in `project_dir` (a `rust-toolchain.toml` there counts).
    pub fn of_this_machine(
        workspace: PathBuf,
        petrel_checkout: Option<PathBuf>,
        project_dir: &Path,
    ) -> Prefixes {
        Prefixes {
            workspace,
            petrel_checkout,
            cargo_home: cargo_home(),
            sysroot: sysroot(project_dir),
        }
    }

    /// The remaps, least specific first: rustc applies the last one that matches, so a
    /// project inside the Petrel checkout (its examples) becomes `/project`, not
    /// `/petrel/examples/...`.
    pub fn remaps(&self) -> Vec<Remap> {
        let mut out: Vec<Remap> = [
            Some((self.workspace.clone(), "/project")),
            self.petrel_checkout.clone().map(|p| (p, "/petrel")),
            self.cargo_home.clone().map(|p| (p, "/cargo")),
            self.sysroot.clone().map(|p| (p, "/toolchain")),
        ]
        .into_iter()
        .flatten()
        .filter(|(from, _)| from.is_absolute())
        .map(|(from, to)| Remap { from, to })
        .collect();
        out.sort_by_key(|r| r.from.as_os_str().len());
        out.dedup_by(|a, b| a.from == b.from);
        out
    }
}

/// `CARGO_HOME`, or `~/.cargo` as cargo defaults to.
fn cargo_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo"))
}

/// The sysroot of the `rustc` cargo would use (`RUSTC`, else `rustc`); `None` if it cannot
/// be asked (the build will fail later with cargo's own message).
fn sysroot(project_dir: &Path) -> Option<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .current_dir(project_dir)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let path = PathBuf::from(text.trim());
    (!text.trim().is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_prefix_comes_last() {
        let p = Prefixes {
            workspace: "/home/u/petrel/examples/hello".into(),
            petrel_checkout: Some("/home/u/petrel".into()),
            cargo_home: Some("/home/u/.cargo".into()),
            sysroot: None,
        };
        let flags: Vec<String> = p.remaps().iter().map(Remap::flag).collect();
        assert_eq!(
            flags,
            [
                "--remap-path-prefix=/home/u/petrel=/petrel",
                "--remap-path-prefix=/home/u/.cargo=/cargo",
                "--remap-path-prefix=/home/u/petrel/examples/hello=/project",
            ]
        );
    }

    #[test]
    fn relative_or_repeated_prefixes_are_dropped() {
        let p = Prefixes {
            workspace: "/w".into(),
            petrel_checkout: Some("/w".into()),
            cargo_home: Some("relative".into()),
            sysroot: None,
        };
        assert_eq!(p.remaps().len(), 1);
    }
}
