//! [`petrel_kv_ro`] on unix, read from a host directory at run time (`--kv=direct`).
//!
//! The device's `dir` parameter names the directory. A relative `dir` is resolved against the
//! unikernel's **current directory** when it starts, as any unix program resolves a relative
//! path: `petrel run` and `cargo run` started in the project directory therefore read the
//! same directory that `--kv=crunch` would embed. An absolute `dir` is used as it is. If the
//! directory does not exist, [`connect`] prints the absolute path it tried and exits 255.
//!
//! Files are read on every request, so edits show up without rebuilding.
//! [`get_partial`](petrel_kv_ro::KvRo::get_partial) reads only the bytes asked for, so a
//! server streams a file of any size in bounded memory;
//! [`get`](petrel_kv_ro::KvRo::get) reads the whole file.
//!
//! What the store does not show:
//!
//! - nothing outside the directory: keys are [normalized](petrel_kv_ro::normalize) (a `..`
//!   segment is [`KvError::InvalidKey`]), and a symbolic link inside the directory that
//!   points outside it is treated as absent;
//! - hidden files: a key with a segment starting with `.` (`.env`, `.git/config`), or a
//!   symbolic link to such a path, is [`KvError::NotFound`] and is not listed
//!   ([`Direct::show_hidden`] turns that off);
//! - special files (FIFOs, sockets, devices) are [`KvError::NotFound`] and not listed; a file
//!   is opened without blocking and checked again once open, so a FIFO swapped in after
//!   the check cannot hang the unikernel.
//!
//! Symbolic links to directories are followed by [`get`](petrel_kv_ro::KvRo::get) but not
//! walked by [`list`](petrel_kv_ro::KvRo::list) (no cycles); names that are not UTF-8 are not
//! listed.

use petrel_kv_ro::{Kind, KvError, KvRo, Store, Value};
use std::borrow::Cow;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

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
    /// Whether hidden files (a path segment starting with `.`) are values.
    hidden: bool,
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
        Ok(Direct {
            root,
            hidden: false,
        })
    }

    /// The same store, showing hidden files (`show`) or not (the default): paths with a
    /// segment starting with `.` under the directory, such as `.env` or `.git/config`.
    pub fn show_hidden(self, show: bool) -> Direct {
        Direct {
            hidden: show,
            ..self
        }
    }

    /// The directory the store reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The canonical host path of a normalized key and its metadata, if it lies inside the
    /// store.
    fn resolve(&self, key: &str) -> Result<(PathBuf, fs::Metadata), KvError> {
        if !self.hidden && is_hidden(Path::new(key)) {
            return Err(KvError::NotFound);
        }
        let path = fs::canonicalize(self.root.join(key)).map_err(io_error)?;
        // A symbolic link may point anywhere: only what is inside the root exists, and of
        // that only what is not hidden (a visible link to `.env` is as hidden as `.env`).
        let Ok(inside) = path.strip_prefix(&self.root) else {
            return Err(KvError::NotFound);
        };
        if !self.hidden && is_hidden(inside) {
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
            // FIFOs, sockets, devices: not values.
            Err(KvError::NotFound)
        }
    }

    /// The value file of a key, open for reading. Opened without blocking (opening a FIFO
    /// waits for a writer) and checked again once open, in case the path changed since
    /// [`Direct::file`] looked at it.
    fn open_value(&self, key: &str) -> Result<fs::File, KvError> {
        let (path, _) = self.file(key)?;
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(io_error)?;
        match file.metadata().map_err(io_error)? {
            m if m.is_file() => Ok(file),
            m if m.is_dir() => Err(KvError::IsDirectory),
            _ => Err(KvError::NotFound),
        }
    }
}

/// Whether a relative path has a segment starting with `.` (`.env`, `a/.git/x`).
fn is_hidden(rel: &Path) -> bool {
    rel.components().any(|c| match c {
        Component::Normal(name) => name.as_encoded_bytes().starts_with(b"."),
        _ => false,
    })
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
        let mut out = Vec::new();
        self.open_value(key)?
            .read_to_end(&mut out)
            .map_err(io_error)?;
        Ok(Cow::Owned(out))
    }

    fn get_range(&self, key: &str, offset: u64, len: usize) -> Result<Value, KvError> {
        let file = self.open_value(key)?;
        let size = file.metadata().map_err(io_error)?.len();
        // Never more than the file holds, whatever `len` asks for.
        let len = usize::try_from(size.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(len);
        let mut out = vec![0; len];
        let n = read_at(&file, offset, &mut out)?;
        out.truncate(n);
        Ok(Cow::Owned(out))
    }

    fn get_partial(&self, key: &str, offset: u64, buf: &mut [u8]) -> Result<usize, KvError> {
        read_at(&self.open_value(key)?, offset, buf)
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
                if !self.hidden && name.starts_with('.') {
                    continue;
                }
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

/// Fills `buf` from `offset` of `file`: fewer bytes only at the end of the file.
fn read_at(file: &fs::File, offset: u64, buf: &mut [u8]) -> Result<usize, KvError> {
    let mut done = 0;
    while done < buf.len() {
        let at = offset.saturating_add(done as u64);
        // Past any file's end (and past what pread takes, an i64).
        if at > i64::MAX as u64 {
            break;
        }
        match file.read_at(&mut buf[done..], at) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(done)
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
    fn get_partial_streams_a_file_in_chunks() {
        let t = Tree::new("partial");
        // 100,000 bytes: many chunks, the last one short.
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(t.0.join("root/big.bin"), &data).expect("write");
        let s = t.store();
        assert_eq!(now(s.size("big.bin")), Ok(100_000));
        let mut whole = Vec::new();
        let mut buf = vec![0u8; 4096];
        loop {
            let n = now(s.get_partial("big.bin", whole.len() as u64, &mut buf)).expect("ok");
            if n == 0 {
                break;
            }
            assert!(
                n == buf.len() || whole.len() + n == data.len(),
                "short only at the end"
            );
            whole.extend_from_slice(&buf[..n]);
        }
        assert!(whole == data, "the chunks make the file");
        assert_eq!(now(s.get_partial("big.bin", 100_000, &mut buf)), Ok(0));
        assert_eq!(now(s.get_partial("big.bin", u64::MAX, &mut buf)), Ok(0));
        assert_eq!(
            now(s.get_partial("css", 0, &mut buf)),
            Err(KvError::IsDirectory)
        );
        assert_eq!(
            now(s.get_partial("missing", 0, &mut buf)),
            Err(KvError::NotFound)
        );
        assert_eq!(
            now(s.get_partial("../outside/secret", 0, &mut buf)),
            Err(KvError::InvalidKey)
        );
        assert_eq!(
            now(s.get_partial("leak", 0, &mut buf)),
            Err(KvError::NotFound)
        );
        // get_range never allocates more than the file holds.
        let r = now(s.get_range("hello.txt", 0, usize::MAX)).expect("present");
        assert_eq!(&*r, b"Hello from the store!\n");
    }

    #[test]
    fn hidden_files_are_not_values() {
        let t = Tree::new("hidden");
        let root = t.0.join("root");
        fs::write(root.join(".env"), "SECRET=1").expect("write");
        fs::create_dir_all(root.join(".git")).expect("mkdir");
        fs::write(root.join(".git/config"), "[core]").expect("write");
        fs::create_dir_all(root.join("css/.cache")).expect("mkdir");
        fs::write(root.join("css/.cache/x"), "cached").expect("write");
        std::os::unix::fs::symlink(".env", root.join("env.txt")).expect("symlink");
        let s = t.store();
        let mut buf = [0u8; 8];
        for key in [
            ".env",
            "/.env",
            ".git/config",
            ".git",
            "css/.cache/x",
            "env.txt",
        ] {
            assert_eq!(now(s.get(key)), Err(KvError::NotFound), "{key}");
            assert_eq!(now(s.size(key)), Err(KvError::NotFound), "{key}");
            assert_eq!(
                now(s.get_partial(key, 0, &mut buf)),
                Err(KvError::NotFound),
                "{key}"
            );
            assert_eq!(now(s.kind(key)), Ok(None), "{key}");
        }
        let all = now(s.list("")).expect("list");
        assert!(
            all.iter().all(|k| !k.contains("/.") && !k.starts_with('.')),
            "{all:?}"
        );
        assert!(!all.contains(&"env.txt".to_string()), "{all:?}");
        assert!(now(s.list(".git")).expect("list").is_empty());
        // Opting in shows them; a store inside a hidden directory is not hidden itself.
        let shown = KvRo::new("s", Direct::open(&root).expect("open").show_hidden(true));
        assert_eq!(&*now(shown.get(".env")).expect("shown"), b"SECRET=1");
        assert_eq!(&*now(shown.get("env.txt")).expect("shown"), b"SECRET=1");
        let inner = KvRo::new("s", Direct::open(&root.join(".git")).expect("open"));
        assert_eq!(&*now(inner.get("config")).expect("present"), b"[core]");
    }

    #[test]
    fn special_files_are_not_values() {
        let t = Tree::new("special");
        let root = t.0.join("root");
        let fifo = std::ffi::CString::new(root.join("pipe").into_os_string().into_encoded_bytes())
            .expect("no NUL");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0, "mkfifo");
        let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).expect("bind");
        std::os::unix::fs::symlink("pipe", root.join("pipe.txt")).expect("symlink");
        let s = t.store();
        let mut buf = [0u8; 8];
        // A FIFO with no writer would block a plain open or read forever: these return.
        for key in ["pipe", "sock", "pipe.txt"] {
            assert_eq!(now(s.get(key)), Err(KvError::NotFound), "{key}");
            assert_eq!(
                now(s.get_partial(key, 0, &mut buf)),
                Err(KvError::NotFound),
                "{key}"
            );
            assert_eq!(now(s.size(key)), Err(KvError::NotFound), "{key}");
            assert_eq!(now(s.kind(key)), Ok(None), "{key}");
        }
        let all = now(s.list("")).expect("list");
        assert!(
            !all.iter().any(|k| k.starts_with("pipe") || k == "sock"),
            "{all:?}"
        );
        // Opened without blocking: even a FIFO reached past the checks does not hang.
        let d = Direct::open(&root).expect("open");
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(root.join("pipe"))
            .expect("a FIFO opens at once without blocking");
        assert!(!file.metadata().expect("fstat").is_file());
        assert!(d.open_value("pipe").is_err());
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
