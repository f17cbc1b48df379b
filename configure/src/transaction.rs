//! Writing several files all or nothing.
//!
//! Every new file is first written in full to a temporary file beside its destination
//! (staging); only when every one is staged are they renamed into place (commit). If a
//! rename fails, the files already renamed get their previous bytes back (or are removed if
//! they are new), the remaining temporary files are deleted, and so are the directories the
//! transaction created. A file keeps its permissions and owner, and a symbolic link stays a
//! link: the file it points to is the one replaced.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Suffix of the temporary files; `petrel clean` removes any left by a killed configure.
pub const TMP_SUFFIX: &str = ".petrel-tmp";

/// A failed step: the file and what the OS said.
#[derive(Debug)]
pub struct Failure {
    /// The file being written, removed or staged.
    pub path: PathBuf,
    /// What the OS said.
    pub source: io::Error,
}

/// The operations the commit performs, replaceable so that tests can make one fail.
pub trait Filesystem {
    /// `fs::rename`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
}

/// The real filesystem.
pub struct Real;

impl Filesystem for Real {
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
}

/// What a file was before the transaction, to put it back.
struct Previous {
    bytes: Vec<u8>,
    meta: fs::Metadata,
}

/// One change to make.
struct Op {
    /// The file changed (symbolic links followed).
    dest: PathBuf,
    /// The file before, `None` if it did not exist (for the rollback).
    previous: Option<Previous>,
    /// The staged new bytes, `None` to remove the file.
    tmp: Option<PathBuf>,
}

/// Files to write and remove together.
#[derive(Default)]
pub struct Transaction {
    ops: Vec<Op>,
    /// Directories created while staging, outermost first.
    created_dirs: Vec<PathBuf>,
}

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Transaction {
        Transaction::default()
    }

    /// Stages `bytes` for `path`. A transaction dropped without [`commit`](Self::commit)
    /// (after a failure, say) deletes what it staged.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), Failure> {
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Failure { path, source }
        };
        let dest = follow_links(path).map_err(fail(path))?;
        let old = match fs::metadata(&dest) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(fail(&dest)(e)),
        };
        let previous = match &old {
            Some(meta) => Some(Previous {
                bytes: fs::read(&dest).map_err(fail(&dest))?,
                meta: meta.clone(),
            }),
            None => None,
        };
        if let Some(parent) = dest.parent() {
            self.create_dirs(parent).map_err(fail(parent))?;
        }
        let tmp = tmp_path(&dest);
        // Recorded before writing, so that a failure below deletes it too.
        self.ops.push(Op {
            dest: dest.clone(),
            previous,
            tmp: Some(tmp.clone()),
        });
        fs::write(&tmp, bytes).map_err(fail(&tmp))?;
        if let Some(old) = &old {
            keep_metadata(&tmp, old).map_err(fail(&tmp))?;
        }
        Ok(())
    }

    /// Stages the removal of `path`.
    pub fn remove(&mut self, path: &Path) -> Result<(), Failure> {
        match fs::read(path).and_then(|bytes| Ok((bytes, fs::metadata(path)?))) {
            Ok((bytes, meta)) => {
                self.ops.push(Op {
                    dest: path.to_path_buf(),
                    previous: Some(Previous { bytes, meta }),
                    tmp: None,
                });
                Ok(())
            }
            Err(source) => Err(Failure {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Creates `dir` and its missing parents, remembering which ones it created.
    fn create_dirs(&mut self, dir: &Path) -> io::Result<()> {
        let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
        for d in missing.into_iter().rev() {
            fs::create_dir(d)?;
            self.created_dirs.push(d.to_path_buf());
        }
        Ok(())
    }

    /// Puts every staged file in place, or, if one cannot be, undoes the ones already in
    /// place and returns that error.
    pub fn commit(mut self, filesystem: &dyn Filesystem) -> Result<(), Failure> {
        let ops = std::mem::take(&mut self.ops);
        for (i, op) in ops.iter().enumerate() {
            let done = match &op.tmp {
                Some(tmp) => filesystem.rename(tmp, &op.dest),
                None => fs::remove_file(&op.dest),
            };
            if let Err(source) = done {
                roll_back(&ops[..i]);
                // Drop deletes the temporary files not yet renamed and the new directories.
                self.ops = ops[i..].iter().map(Op::staged_only).collect();
                return Err(Failure {
                    path: op.dest.clone(),
                    source,
                });
            }
        }
        self.created_dirs.clear();
        Ok(())
    }
}

impl Drop for Transaction {
    /// An uncommitted (or failed) transaction deletes what it staged.
    fn drop(&mut self) {
        for tmp in self.ops.iter().filter_map(|op| op.tmp.as_ref()) {
            let _ = fs::remove_file(tmp);
        }
        for dir in self.created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

impl Op {
    /// What is left to clean up of an operation that was not carried out.
    fn staged_only(&self) -> Op {
        Op {
            dest: self.dest.clone(),
            previous: None,
            tmp: self.tmp.clone(),
        }
    }
}

/// Undoes `done`, last first. Best effort: the error that caused the rollback is the one
/// reported.
fn roll_back(done: &[Op]) {
    for op in done.iter().rev() {
        let _ = match &op.previous {
            Some(previous) => restore(&op.dest, previous),
            None => fs::remove_file(&op.dest),
        };
    }
}

/// Puts a file back as it was, through a temporary file and a rename.
fn restore(dest: &Path, previous: &Previous) -> io::Result<()> {
    let tmp = tmp_path(dest);
    fs::write(&tmp, &previous.bytes)?;
    keep_metadata(&tmp, &previous.meta)?;
    fs::rename(&tmp, dest)
}

/// Gives `tmp` the permissions and owner of the file it replaces.
fn keep_metadata(tmp: &Path, old: &fs::Metadata) -> io::Result<()> {
    fs::set_permissions(tmp, old.permissions())?;
    let ours = fs::metadata(tmp)?;
    if (ours.uid(), ours.gid()) != (old.uid(), old.gid()) {
        // Only root can give a file to another user; anyone else's new file is already
        // theirs, so a refusal here loses nothing they could have kept.
        let _ = std::os::unix::fs::chown(tmp, Some(old.uid()), Some(old.gid()));
    }
    Ok(())
}

/// `path` with its symbolic links followed (the file a link points to is the one to
/// replace); `path` itself if it does not exist yet.
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path),
        _ => Ok(path.to_path_buf()),
    }
}

/// The temporary file beside `dest`: `.NAME.petrel-tmp`.
fn tmp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}{TMP_SUFFIX}"))
}

/// True for the name of a temporary file of a transaction.
pub fn is_tmp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TMP_SUFFIX)
}

/// Writes one file through a transaction of its own.
pub fn write_one(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut t = Transaction::new();
    t.write(path, bytes)?;
    t.commit(&Real)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("petrel-tx-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    /// Every file under `dir` with its bytes, sorted.
    fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).expect("read_dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    out.push((p.clone(), Vec::new()));
                    stack.push(p);
                } else {
                    out.push((p.clone(), fs::read(&p).expect("read")));
                }
            }
        }
        out.sort();
        out
    }

    /// Fails the rename onto any file named `name`.
    struct FailOn(&'static str);

    impl Filesystem for FailOn {
        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            if to.file_name().is_some_and(|n| n == self.0) {
                return Err(io::Error::new(io::ErrorKind::PermissionDenied, "injected"));
            }
            fs::rename(from, to)
        }
    }

    #[test]
    fn a_failed_rename_undoes_everything() {
        let dir = scratch("rollback");
        fs::create_dir(dir.join("gen")).expect("mkdir");
        fs::write(dir.join("gen/old.txt"), "old").expect("write");
        fs::write(dir.join("gen/stale.txt"), "stale").expect("write");
        fs::write(dir.join("last.txt"), "last").expect("write");
        let before = tree(&dir);

        let mut t = Transaction::new();
        t.write(&dir.join("gen/old.txt"), b"new").expect("stage");
        t.write(&dir.join("new/deep/file.txt"), b"created")
            .expect("stage");
        t.remove(&dir.join("gen/stale.txt")).expect("stage");
        t.write(&dir.join("last.txt"), b"changed").expect("stage");
        let e = t.commit(&FailOn("last.txt")).expect_err("injected failure");
        assert_eq!(e.path, dir.join("last.txt"));
        assert_eq!(tree(&dir), before, "the rollback left changes");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn mode_and_links_are_kept() {
        let dir = scratch("keep");
        fs::write(dir.join("real.toml"), "a").expect("write");
        fs::set_permissions(dir.join("real.toml"), fs::Permissions::from_mode(0o600))
            .expect("chmod");
        symlink("real.toml", dir.join("Cargo.toml")).expect("symlink");
        write_one(&dir.join("Cargo.toml"), b"b").expect("writes");
        let link = fs::symlink_metadata(dir.join("Cargo.toml")).expect("stat");
        assert!(link.file_type().is_symlink(), "the link was replaced");
        assert_eq!(fs::read(dir.join("real.toml")).expect("read"), b"b");
        let mode = fs::metadata(dir.join("real.toml")).expect("stat").mode();
        assert_eq!(mode & 0o777, 0o600);
        let _ = fs::remove_dir_all(&dir);
    }
}
