//! [`petrel_kv_ro`] on unix, read from a host directory at run time (`--kv=direct`).
//!
//! The device's `dir` parameter names the directory. A relative `dir` is resolved against the
//! unikernel's **current directory** when it starts, as any unix program resolves a relative
//! path: `petrel run` and `cargo run` started in the project directory therefore read the
//! same directory that `--kv=crunch` would embed. An absolute `dir` is used as it is. If the
//! directory does not exist, [`connect`] prints the absolute path it tried and exits 255.
//!
//! Files are read on every request, so edits show up without rebuilding. No key reaches
//! outside the directory: keys are [normalized](petrel_kv_ro::normalize) (a `..` segment is
//! [`KvError::InvalidKey`]), and a symbolic link inside the directory that points outside it
//! is treated as absent. Symbolic links to directories are followed by
//! [`get`](petrel_kv_ro::KvRo::get) but not walked by [`list`](petrel_kv_ro::KvRo::list) (no
//! cycles); names that are not UTF-8 are not listed.

use petrel_kv_ro::{Kind, KvError, KvRo, Store, Value};
use std::borrow::Cow;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The device constructor the generated crate calls for each `type = "kv_ro"` instance when
/// `--kv=direct`: opens the directory of the `dir` parameter, or prints why it cannot and
/// exits 255 (a unikernel cannot start without its declared devices).
pub async fn connect(
    name: &'static str,
    params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
) -> KvRo {
    let Some(dir) = params.iter().find(|(k, _)| *k == "dir").map(|(_, v)| *v) else {
        fail(&format!(
            "kv_ro device `{name}`: set `dir = \"DIR\"` in its [devices.{name}] table\n"
        ))
    };
    let base = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => fail(&format!(
            "kv_ro device `{name}`: no current directory to resolve {dir:?} against: {e}\n"
        )),
    };
    match Direct::open(&base.join(dir)) {
        Ok(store) => KvRo::new(name, store),
        Err(e) => fail(&format!(
            "kv_ro device `{name}`: dir = {dir:?}: {} is not a readable directory: {e}\n",
            base.join(dir).display()
        )),
    }
}

fn fail(message: &str) -> ! {
    petrel_console::write(message.as_bytes());
    petrel_platform::exit(255)
}

/// A store backed by a host directory.
#[derive(Debug, Clone)]
pub struct Direct {
    /// The directory, canonical (absolute, no symbolic links).
    root: PathBuf,
}

impl Direct {
    /// A store of the directory `root` (made absolute and canonical now). Fails if `root` is
    /// not a directory.
    pub fn open(root: &Path) -> io::Result<Direct> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(Direct { root })
    }

    /// The directory the store reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The canonical host path of a normalized key and its metadata, if it lies inside the
    /// store.
    fn resolve(&self, key: &str) -> Result<(PathBuf, fs::Metadata), KvError> {
        let path = fs::canonicalize(self.root.join(key)).map_err(io_error)?;
        // A symbolic link may point anywhere: only what is inside the root exists.
        if !path.starts_with(&self.root) {
            return Err(KvError::NotFound);
        }
        let meta = fs::metadata(&path).map_err(io_error)?;
        Ok((path, meta))
    }

    /// The host path of a value key.
    fn file(&self, key: &str) -> Result<(PathBuf, fs::Metadata), KvError> {
        let (path, meta) = self.resolve(key)?;
        if meta.is_dir() {
            Err(KvError::IsDirectory)
        } else if meta.is_file() {
            Ok((path, meta))
        } else {
            Err(KvError::NotFound)
        }
    }
}

/// Absent things are [`KvError::NotFound`]; any other failure is [`KvError::Io`].
fn io_error(e: io::Error) -> KvError {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => KvError::NotFound,
        _ => KvError::Io,
    }
}

impl Store for Direct {
    fn get(&self, key: &str) -> Result<Value, KvError> {
        let (path, _) = self.file(key)?;
        fs::read(path).map(Cow::Owned).map_err(io_error)
    }

    fn get_range(&self, key: &str, offset: u64, len: usize) -> Result<Value, KvError> {
        let (path, meta) = self.file(key)?;
        if offset >= meta.len() || len == 0 {
            return Ok(Cow::Owned(Vec::new()));
        }
        let mut f = fs::File::open(path).map_err(io_error)?;
        f.seek(SeekFrom::Start(offset)).map_err(io_error)?;
        let mut out = Vec::new();
        f.take(u64::try_from(len).unwrap_or(u64::MAX))
            .read_to_end(&mut out)
            .map_err(io_error)?;
        Ok(Cow::Owned(out))
    }

    fn size(&self, key: &str) -> Result<u64, KvError> {
        self.file(key).map(|(_, meta)| meta.len())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let start = match self.resolve(prefix) {
            Ok((path, meta)) if meta.is_dir() => path,
            Ok(_) | Err(KvError::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut keys = Vec::new();
        let mut stack = vec![(start, prefix.to_string())];
        while let Some((dir, key)) = stack.pop() {
            for entry in fs::read_dir(&dir).map_err(io_error)? {
                let entry = entry.map_err(io_error)?;
                let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                let child = if key.is_empty() {
                    name
                } else {
                    format!("{key}/{name}")
                };
                let ty = entry.file_type().map_err(io_error)?;
                if ty.is_dir() {
                    stack.push((entry.path(), child));
                } else if ty.is_file() || (ty.is_symlink() && self.file(&child).is_ok()) {
                    keys.push(child);
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn kind(&self, key: &str) -> Result<Option<Kind>, KvError> {
        match self.resolve(key) {
            Ok((_, meta)) if meta.is_dir() => Ok(Some(Kind::Directory)),
            Ok((_, meta)) if meta.is_file() => Ok(Some(Kind::Value)),
            Ok(_) | Err(KvError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch tree: `root/` is the store, `outside/` sits beside it.
    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str) -> Tree {
            let t = std::env::temp_dir()
                .join(format!("petrel-kv-direct-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&t);
            let write = |rel: &str, text: &str| {
                let p = t.join(rel);
                fs::create_dir_all(p.parent().expect("has a parent")).expect("mkdir");
                fs::write(p, text).expect("write");
            };
            write("root/hello.txt", "Hello from the store!\n");
            write("root/css/site.css", "body{}");
            write("root/css/sub/x.css", "x");
            write("root/cssx", "not in css");
            write("outside/secret", "secret");
            write("root-sibling/secret", "sibling");
            std::os::unix::fs::symlink(t.join("outside/secret"), t.join("root/leak"))
                .expect("symlink");
            std::os::unix::fs::symlink(t.join("outside"), t.join("root/leakdir")).expect("symlink");
            std::os::unix::fs::symlink("hello.txt", t.join("root/alias.txt")).expect("symlink");
            Tree(t)
        }

        fn store(&self) -> KvRo {
            KvRo::new("store", Direct::open(&self.0.join("root")).expect("open"))
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Runs a future that never waits (every store method is ready at once).
    fn now<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("store methods never wait"),
        }
    }

    #[test]
    fn reads_values() {
        let t = Tree::new("read");
        let s = t.store();
        assert_eq!(
            &*now(s.get("hello.txt")).expect("present"),
            b"Hello from the store!\n"
        );
        assert_eq!(&*now(s.get("/css/./site.css")).expect("present"), b"body{}");
        assert_eq!(
            &*now(s.get("alias.txt")).expect("present"),
            b"Hello from the store!\n"
        );
        assert_eq!(now(s.get("missing")), Err(KvError::NotFound));
        assert_eq!(now(s.get("hello.txt/x")), Err(KvError::NotFound));
        assert_eq!(now(s.get("css")), Err(KvError::IsDirectory));
        assert_eq!(now(s.size("hello.txt")), Ok(22));
        assert_eq!(
            &*now(s.get_range("hello.txt", 6, 4)).expect("present"),
            b"from"
        );
        assert_eq!(
            &*now(s.get_range("hello.txt", 20, 100)).expect("present"),
            b"!\n"
        );
        assert_eq!(
            &*now(s.get_range("hello.txt", 99, 1)).expect("present"),
            b""
        );
    }

    #[test]
    fn no_key_escapes_the_directory() {
        let t = Tree::new("escape");
        let s = t.store();
        for key in [
            "../outside/secret",
            "css/../../outside/secret",
            "..",
            "../root-sibling/secret",
        ] {
            assert_eq!(now(s.get(key)), Err(KvError::InvalidKey), "{key}");
            assert_eq!(now(s.size(key)), Err(KvError::InvalidKey), "{key}");
            assert_eq!(now(s.list(key)), Err(KvError::InvalidKey), "{key}");
            assert_eq!(now(s.kind(key)), Err(KvError::InvalidKey), "{key}");
        }
        // An absolute key is a key from the root, not a host path.
        assert_eq!(now(s.get("/etc/passwd")), Err(KvError::NotFound));
        // Symbolic links that point outside do not exist.
        assert_eq!(now(s.get("leak")), Err(KvError::NotFound));
        assert_eq!(now(s.get("leakdir/secret")), Err(KvError::NotFound));
        assert_eq!(now(s.kind("leakdir")), Ok(None));
        assert!(now(s.list("leakdir")).expect("list").is_empty());
    }

    #[test]
    fn lists_by_directory() {
        let t = Tree::new("list");
        let s = t.store();
        assert_eq!(
            now(s.list("")).expect("list"),
            [
                "alias.txt",
                "css/site.css",
                "css/sub/x.css",
                "cssx",
                "hello.txt"
            ]
        );
        assert_eq!(
            now(s.list("css")).expect("list"),
            ["css/site.css", "css/sub/x.css"]
        );
        assert!(now(s.list("hello.txt")).expect("list").is_empty());
        assert!(now(s.list("nothing")).expect("list").is_empty());
        assert_eq!(now(s.kind("css")), Ok(Some(Kind::Directory)));
        assert_eq!(now(s.kind("")), Ok(Some(Kind::Directory)));
        assert_eq!(now(s.exists("hello.txt")), Ok(true));
        assert_eq!(now(s.exists("nothing")), Ok(false));
    }

    #[test]
    fn open_resolves_relative_paths_and_refuses_non_directories() {
        let t = Tree::new("open");
        let d = Direct::open(&t.0.join("root/css/../css")).expect("open");
        assert_eq!(
            d.root(),
            fs::canonicalize(t.0.join("root/css")).expect("canonical")
        );
        assert!(Direct::open(&t.0.join("root/hello.txt")).is_err());
        assert!(Direct::open(&t.0.join("absent")).is_err());
    }
}
