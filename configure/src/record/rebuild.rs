//! `petrel rebuild RECORD`: builds a recorded image again in a temporary copy of its sources
//! (a clone at the recorded commit, or a copy of the project directory) with the recorded
//! target, keys and profile, and says whether the new image's sha256 is the recorded one.
//! This module makes the copy and gives the verdict; `commands` configures and builds in
//! between, as for `petrel build`. Progress goes to stderr; the verdict to stdout.

use super::source::{git, repository_of};
use super::{Profile, Record, Source, rustc_version, sha256_file};
use crate::cli::Selection;
use crate::error::Error;
use crate::pipeline::Configured;
use crate::status::{status, warning};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// A rebuild under way: the record, and the copy of its sources in a temporary directory
/// (removed when this is dropped). `petrel rebuild` configures and builds the copy as
/// `petrel build` would, between [`prepare`] and [`Rebuild::verdict`].
#[derive(Debug)]
pub struct Rebuild {
    record: Record,
    project_dir: PathBuf,
    // Held for its lifetime: dropping it removes the copy.
    _scratch: tempfile::TempDir,
}

/// Reads the record at `record_path` and copies its sources into a temporary directory: a
/// clone at the recorded commit (of the repository holding the record, else of `dir`'s, where
/// petrel runs) or a copy of the recorded project directory, with the recorded Cargo.lock.
/// Warns about what differs from the record (compiler, petrel, a dirty tree).
pub fn prepare(record_path: &Path, dir: &Path) -> Result<Rebuild, Error> {
    let record = Record::read(record_path)?;
    status(
        "Rebuilding",
        format!(
            "{} for {} ({}), recorded sha256 {}",
            record.name,
            record.target,
            profile_name(record.profile),
            record.sha256
        ),
    );
    let scratch = tempfile::Builder::new()
        .prefix("petrel-rebuild-")
        .tempdir()
        .map_err(|e| Error::msg(format!("cannot make a temporary directory: {e}")))?;
    let origin = record_project(record_path);
    let project_dir = match &record.source {
        Source::Git {
            commit,
            dirty,
            path,
        } => {
            if *dirty {
                warning(format!(
                    "the tree had uncommitted changes when the image was built: this rebuilds commit {commit}, so the hashes may differ"
                ));
            }
            checkout(&origin, dir, commit, path, scratch.path())?
        }
        Source::Directory { path } => copy_directory(Path::new(path), scratch.path())?,
    };
    provide_lock(&record, &origin, &project_dir)?;
    compare_toolchain(&record, &project_dir)?;
    Ok(Rebuild {
        record,
        project_dir,
        _scratch: scratch,
    })
}

impl Rebuild {
    /// The project's directory in the copy.
    pub fn project_dir(&self) -> &Path {
        &self.project_dir
    }

    /// The recorded target and every recorded key, as `--target` and `--key` would give
    /// them.
    pub fn selection(&self) -> Selection {
        Selection {
            target: Some(self.record.target),
            keys: self
                .record
                .keys
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            ..Selection::default()
        }
    }

    /// Whether the record is of a release build.
    pub fn release(&self) -> bool {
        self.record.profile == Profile::Release
    }

    /// Refuses a configuration of the copy that links other implementations or features
    /// than the record says (the keys alone would not explain a mismatch then).
    pub fn check_configuration(&self, configured: &Configured) -> Result<(), Error> {
        let features: BTreeMap<_, _> = configured
            .plan
            .impls
            .iter()
            .map(|i| (i.package.clone(), i.features.clone()))
            .collect();
        if features != self.record.features {
            return Err(Error::msg(format!(
                "the copy configures other implementations or features than the record says (recorded {:?}, here {:?})",
                self.record.features, features
            )));
        }
        Ok(())
    }

    /// Compares the rebuilt `image` with the record: prints `match` and exits 0, or
    /// `MISMATCH` with both hashes and exits 1.
    pub fn verdict(&self, image: &Path) -> Result<ExitCode, Error> {
        let record = &self.record;
        let rebuilt = sha256_file(image)?;
        let lock = sha256_file(&self.project_dir.join("Cargo.lock"))?;
        if lock != record.cargo_lock_sha256 {
            warning(format!(
                "cargo changed Cargo.lock during the build (sha256 {lock}, recorded {})",
                record.cargo_lock_sha256
            ));
        }
        if rebuilt == record.sha256 {
            println!(
                "match: {} for {} has the recorded sha256 {rebuilt}",
                record.image, record.target
            );
            Ok(ExitCode::SUCCESS)
        } else {
            println!(
                "MISMATCH: {} for {}: recorded sha256 {}, rebuilt sha256 {rebuilt}",
                record.image, record.target, record.sha256
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn profile_name(profile: Profile) -> &'static str {
    match profile {
        Profile::Release => "release",
        Profile::Debug => "debug",
    }
}

/// The project a record in `<project>/dist/` belongs to (the record's directory's parent).
fn record_project(record_path: &Path) -> PathBuf {
    let absolute = std::path::absolute(record_path).unwrap_or_else(|_| record_path.into());
    absolute
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Clones the repository holding `origin` (else `dir`) into `scratch` at `commit`, and
/// returns the project's directory in the clone.
fn checkout(
    origin: &Path,
    dir: &Path,
    commit: &str,
    path: &str,
    scratch: &Path,
) -> Result<PathBuf, Error> {
    let repository = repository_of(origin)
        .or_else(|| repository_of(dir))
        .ok_or_else(|| {
            Error::msg(format!(
                "the record names git commit {commit}, but neither {} nor {} is in a git repository; run petrel rebuild in a clone of the unikernel's repository",
                origin.display(),
                dir.display()
            ))
        })?;
    let object = format!("{commit}^{{commit}}");
    if git(&repository, &["cat-file", "-e", &object]).is_none() {
        return Err(Error::msg(format!(
            "commit {commit} is not in the repository at {} (fetch it first)",
            repository.display()
        )));
    }
    status(
        "Checkout",
        format!("commit {commit} of {}", repository.display()),
    );
    let clone = scratch.join("src");
    // A shared clone borrows the repository's objects: nothing is copied or written there.
    run_git(
        "git clone",
        Command::new("git")
            .args(["clone", "--quiet", "--shared", "--no-checkout"])
            .arg(&repository)
            .arg(&clone),
    )?;
    run_git(
        "git checkout",
        Command::new("git")
            .arg("-C")
            .arg(&clone)
            .args(["checkout", "--quiet", "--detach", commit]),
    )?;
    let project = clone.join(path);
    if !project.is_dir() {
        return Err(Error::msg(format!(
            "commit {commit} has no directory {path:?} (the recorded project)"
        )));
    }
    Ok(project)
}

/// Runs a git command (`what`), turning a failure into an error with its stderr.
fn run_git(what: &str, cmd: &mut Command) -> Result<(), Error> {
    let out = cmd
        .output()
        .map_err(|e| Error::msg(format!("cannot run git: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Copies the project at `from` (without build outputs) into `scratch`, for a record made
/// outside git.
fn copy_directory(from: &Path, scratch: &Path) -> Result<PathBuf, Error> {
    if !from.is_dir() {
        return Err(Error::msg(format!(
            "the recorded project directory {} does not exist here",
            from.display()
        )));
    }
    // Only ever a project's directory: a record must not make petrel copy anything else.
    if !from.join("unikernel.toml").is_file() {
        return Err(Error::msg(format!(
            "the recorded directory {} is not a petrel project (it has no unikernel.toml)",
            from.display()
        )));
    }
    let name = from.file_name().unwrap_or("project".as_ref());
    let to = scratch.join(name);
    status("Copying", format!("{} to {}", from.display(), to.display()));
    copy_tree(from, &to)?;
    Ok(to)
}

/// Copies a directory tree, skipping what petrel and cargo write (`target`, `dist`,
/// `.petrel`, `.cargo`) and `.git`. Links are copied as links.
fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    let io = |p: &Path, e: std::io::Error| Error::msg(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let name = entry.file_name();
        if ["target", "dist", ".petrel", ".cargo", ".git"]
            .iter()
            .any(|skip| name == *skip)
        {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().map_err(|e| io(&src, e))?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| io(&src, e))?;
            std::os::unix::fs::symlink(target, &dst).map_err(|e| io(&dst, e))?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| io(&src, e))?;
        }
    }
    Ok(())
}

/// Makes sure the copy builds with the recorded Cargo.lock: the commit's own, or (when the
/// commit has none, as examples ignore theirs) the one beside the record if its sha256 is
/// the recorded one.
fn provide_lock(record: &Record, origin: &Path, project: &Path) -> Result<(), Error> {
    let lock = project.join("Cargo.lock");
    if !lock.exists() {
        let theirs = origin.join("Cargo.lock");
        if theirs.is_file() && sha256_file(&theirs)? == record.cargo_lock_sha256 {
            std::fs::copy(&theirs, &lock)
                .map_err(|e| Error::msg(format!("{}: {e}", lock.display())))?;
            status(
                "Lock",
                format!(
                    "{} (the sources have none; this one has the recorded sha256)",
                    theirs.display()
                ),
            );
        } else {
            return Err(Error::msg(format!(
                "the sources have no Cargo.lock and {} is {}; put the Cargo.lock with sha256 {} there",
                theirs.display(),
                if theirs.is_file() {
                    "another one"
                } else {
                    "missing"
                },
                record.cargo_lock_sha256
            )));
        }
    }
    let here = sha256_file(&lock)?;
    if here != record.cargo_lock_sha256 {
        warning(format!(
            "Cargo.lock differs from the recorded one (recorded sha256 {}, here {here}): other crate versions may give another image",
            record.cargo_lock_sha256
        ));
    }
    Ok(())
}

/// Warns when the compiler or petrel differ from the record's: the hashes then may differ
/// for that reason alone.
fn compare_toolchain(record: &Record, project: &Path) -> Result<(), Error> {
    let rustc = rustc_version(project)?;
    if rustc != record.rustc {
        let first = |s: &str| s.lines().next().unwrap_or_default().to_string();
        warning(format!(
            "another compiler: recorded `{}`, here `{}`",
            first(&record.rustc),
            first(&rustc)
        ));
    }
    if record.petrel != env!("CARGO_PKG_VERSION") {
        warning(format!(
            "another petrel: recorded {}, this is {}",
            record.petrel,
            env!("CARGO_PKG_VERSION")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_only_a_project_without_its_build_outputs() {
        let from = tempfile::tempdir().expect("a temporary directory");
        let scratch = tempfile::tempdir().expect("a temporary directory");
        let err = copy_directory(from.path(), scratch.path()).expect_err("not a project");
        assert!(err.to_string().contains("has no unikernel.toml"), "{err}");
        for file in [
            "unikernel.toml",
            "src/lib.rs",
            "target/x",
            "dist/y",
            ".petrel/z",
        ] {
            let path = from.path().join(file);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, file).expect("write");
        }
        let copy = copy_directory(from.path(), scratch.path()).expect("copies");
        assert!(copy.join("src/lib.rs").is_file());
        assert!(copy.join("unikernel.toml").is_file());
        for skipped in ["target", "dist", ".petrel"] {
            assert!(!copy.join(skipped).exists(), "{skipped}");
        }
    }
}
