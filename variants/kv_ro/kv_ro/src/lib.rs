//! Petrel interface: read-only key-value stores.
//!
//! A unikernel declares a store in `unikernel.toml` and receives its handle, a [`KvRo`], in
//! its main function:
//!
//! ```text
//! [devices.store]
//! type = "kv_ro"
//! dir = "data"        # crunch: relative to the project; direct: to the current directory
//!
//! #[petrel::main]
//! pub async fn start(store: petrel::kv_ro::KvRo) {
//!     let page = store.get("index.html").await?;   // bytes, `&*page`
//! }
//! ```
//!
//! The configure key `--kv` chooses the implementation: `crunch` (`petrel-kv-ro-crunch`, the
//! default, every target) embeds the directory's files in the image at build time; `direct`
//! (`petrel-kv-ro-direct`, unix only) reads the host directory at run time.
//!
//! # Keys
//!
//! Keys are `/`-separated paths relative to the store's root: `hello.txt`, `css/site.css`.
//! Empty segments and `.` are ignored (`/css//./site.css` is `css/site.css`); a `..` segment
//! or a NUL byte makes the key [`KvError::InvalidKey`], so no key ever names anything outside
//! the store. [`normalize`] is the rule; every [`KvRo`] method applies it before the store
//! sees the key.
//!
//! # Values
//!
//! [`KvRo::get`] returns a [`Value`], a `Cow<'static, [u8]>`: a crunch store hands out the
//! bytes embedded in the image without copying them (a web server writes `&*value` straight
//! to the socket), a direct store hands out a freshly read `Vec`. `into_owned()` gives a
//! `Vec<u8>` either way. [`KvRo::get_range`] reads part of a value into a new buffer.
//!
//! # Large values: streaming
//!
//! [`KvRo::get`] holds the whole value in memory (for a direct store, a fresh copy per call).
//! To serve a value of any size in bounded memory, ask its [`KvRo::size`] and read it in
//! chunks into a buffer of your own with [`KvRo::get_partial`] (mirage's `get_partial`, with
//! the caller's buffer instead of a new string):
//!
//! ```
//! # async fn f(store: petrel_kv_ro::KvRo) -> Result<(), petrel_kv_ro::KvError> {
//! let size = store.size("big.iso").await?;
//! let mut chunk = [0u8; 4096];
//! let mut offset = 0;
//! while offset < size {
//!     let n = store.get_partial("big.iso", offset, &mut chunk).await?;
//!     if n == 0 {
//!         break; // the value shrank since `size`
//!     }
//!     // ... send &chunk[..n] ...
//!     offset += n as u64;
//! }
//! # Ok(()) }
//! ```
//!
//! # Implementing a store
//!
//! An implementation crate implements [`Store`] and exposes the device constructor
//! `connect`, which wraps its store in [`KvRo::new`] (see `docs/architecture.md`, "Runtime
//! contract").
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A value: borrowed from the image (crunch) or read into memory (direct). Dereferences to
/// `[u8]`.
pub type Value = Cow<'static, [u8]>;

/// Why a key-value operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KvError {
    /// No value has that key.
    NotFound,
    /// The key names a directory (it has values under it), not a value.
    IsDirectory,
    /// The key has a `..` segment or a NUL byte.
    InvalidKey,
    /// The host failed to read the store (direct stores only).
    Io,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KvError::NotFound => "no such key",
            KvError::IsDirectory => "the key is a directory, not a value",
            KvError::InvalidKey => "invalid key (a `..` segment or a NUL byte)",
            KvError::Io => "the store could not be read",
        })
    }
}

impl core::error::Error for KvError {}

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A value.
    Value,
    /// A directory: a prefix of other keys (the empty key is the root).
    Directory,
}

/// The canonical form of `key`: its segments joined by `/`, without empty and `.` segments.
/// The empty key (`""`, `"/"`) is the root.
///
/// ```
/// assert_eq!(petrel_kv_ro::normalize("/a//./b.txt").as_deref(), Ok("a/b.txt"));
/// assert_eq!(petrel_kv_ro::normalize("../etc/passwd"), Err(petrel_kv_ro::KvError::InvalidKey));
/// ```
pub fn normalize(key: &str) -> Result<String, KvError> {
    let mut out = String::with_capacity(key.len());
    for segment in key.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(KvError::InvalidKey),
            s if s.contains('\0') => return Err(KvError::InvalidKey),
            s => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(s);
            }
        }
    }
    Ok(out)
}

/// [`normalize`] without a copy for a key already in canonical form but for one leading `/`
/// (a request path): every lookup of a web server's file normalized its key into a new
/// `String`.
fn canonical(key: &str) -> Result<Cow<'_, str>, KvError> {
    let rest = key.strip_prefix('/').unwrap_or(key);
    let plain = |s: &str| !matches!(s, "" | "." | "..") && !s.contains('\0');
    if rest.split('/').all(plain) {
        Ok(Cow::Borrowed(rest))
    } else {
        normalize(key).map(Cow::Owned)
    }
}

/// A read-only store, as an implementation provides it. User code does not call it: it
/// receives a [`KvRo`].
///
/// Every key a method receives is already [normalized](normalize); the empty key is the
/// root. Stores are synchronous; [`KvRo`]'s methods are `async` so that a store may one day
/// wait for a device without changing user code.
pub trait Store {
    /// The whole value of `key`.
    fn get(&self, key: &str) -> Result<Value, KvError>;
    /// At most `len` bytes of the value of `key` from byte `offset` (fewer at the end of the
    /// value; none from an offset at or past its end).
    fn get_range(&self, key: &str, offset: u64, len: usize) -> Result<Value, KvError>;
    /// Copies the value of `key` from byte `offset` into `buf`: how many bytes. Fewer than
    /// `buf.len()` only at the end of the value; 0 from an offset at or past its end.
    fn get_partial(&self, key: &str, offset: u64, buf: &mut [u8]) -> Result<usize, KvError>;
    /// The length in bytes of the value of `key`.
    fn size(&self, key: &str) -> Result<u64, KvError>;
    /// Every value key under the directory `prefix` (all keys for the root), sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, KvError>;
    /// What `key` names, or `None` if nothing.
    fn kind(&self, key: &str) -> Result<Option<Kind>, KvError>;
}

/// A read-only key-value store: the handle the main function receives for a
/// `type = "kv_ro"` device.
///
/// Cloning is cheap (the store is shared), so each task of a server can hold its own handle.
#[derive(Clone)]
pub struct KvRo {
    name: &'static str,
    store: Rc<dyn Store>,
}

impl fmt::Debug for KvRo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvRo")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl KvRo {
    /// Wraps an implementation's store as the device instance `name`.
    pub fn new(name: &'static str, store: impl Store + 'static) -> KvRo {
        KvRo {
            name,
            store: Rc::new(store),
        }
    }

    /// The instance name (`store`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The value of `key`: [`KvError::NotFound`] if there is none, [`KvError::IsDirectory`]
    /// if `key` is a directory.
    pub async fn get(&self, key: &str) -> Result<Value, KvError> {
        self.store.get(&canonical(key)?)
    }

    /// At most `len` bytes of the value of `key`, from byte `offset`: fewer at the end of the
    /// value, none from an offset at or past its end.
    pub async fn get_range(&self, key: &str, offset: u64, len: usize) -> Result<Value, KvError> {
        self.store.get_range(&canonical(key)?, offset, len)
    }

    /// Reads the value of `key` from byte `offset` into `buf`, without holding more of it
    /// in memory than `buf`: returns how many bytes it copied, fewer than `buf.len()` only
    /// at the end of the value and 0 from an offset at or past its end. Errors as
    /// [`KvRo::get`]. With [`KvRo::size`], it streams a value of any size (see the crate
    /// docs); a value that changes between calls (a direct store's file being edited) may
    /// end sooner or later than `size` said.
    pub async fn get_partial(
        &self,
        key: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, KvError> {
        self.store.get_partial(&canonical(key)?, offset, buf)
    }

    /// The length in bytes of the value of `key`.
    pub async fn size(&self, key: &str) -> Result<u64, KvError> {
        self.store.size(&canonical(key)?)
    }

    /// Every value key under the directory `prefix` (`""` for all), sorted, as full keys
    /// (`css/site.css`). A prefix with nothing under it, or naming a value, gives an empty
    /// list.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        self.store.list(&canonical(prefix)?)
    }

    /// Whether `key` names a value.
    pub async fn exists(&self, key: &str) -> Result<bool, KvError> {
        Ok(self.kind(key).await? == Some(Kind::Value))
    }

    /// What `key` names: a value, a directory, or nothing (`None`). A web server uses it to
    /// serve `dir/index.html` for `dir`.
    pub async fn kind(&self, key: &str) -> Result<Option<Kind>, KvError> {
        self.store.kind(&canonical(key)?)
    }
}

/// `value[offset..offset + len]`, cut to the value: what [`Store::get_range`] returns, for
/// stores that hold whole values.
pub fn range(value: &[u8], offset: u64, len: usize) -> &[u8] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(value.len());
    let end = start.saturating_add(len).min(value.len());
    &value[start..end]
}

/// Copies `value[offset..]` into `buf`, as much as fits: what [`Store::get_partial`] does,
/// for stores that hold whole values.
pub fn copy_range(value: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let part = range(value, offset, buf.len());
    buf[..part.len()].copy_from_slice(part);
    part.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn normalize_drops_empty_and_dot_segments() {
        assert_eq!(normalize("hello.txt").as_deref(), Ok("hello.txt"));
        assert_eq!(normalize("/a//./b/").as_deref(), Ok("a/b"));
        assert_eq!(normalize("").as_deref(), Ok(""));
        assert_eq!(normalize("/").as_deref(), Ok(""));
        assert_eq!(normalize("./.").as_deref(), Ok(""));
        assert_eq!(normalize("a..b/..c").as_deref(), Ok("a..b/..c"));
    }

    #[test]
    fn canonical_is_normalize() {
        let keys = [
            "a/b.txt", "/a/b.txt", "//a", "a/", "/", "", ".", "a/./b", "a/../b", "a\0b", "a..b/..c",
        ];
        for key in keys {
            assert_eq!(
                canonical(key).map(Cow::into_owned),
                normalize(key),
                "{key:?}"
            );
        }
        assert!(matches!(
            canonical("/index.html"),
            Ok(Cow::Borrowed("index.html"))
        ));
    }

    #[test]
    fn normalize_refuses_parent_segments_and_nul() {
        for key in ["..", "../x", "a/../b", "a/..", "/../../etc/passwd", "a\0b"] {
            assert_eq!(normalize(key), Err(KvError::InvalidKey), "{key:?}");
        }
    }

    #[test]
    fn range_cuts_to_the_value() {
        let v = b"0123456789";
        assert_eq!(range(v, 0, 3), b"012");
        assert_eq!(range(v, 8, 10), b"89");
        assert_eq!(range(v, 10, 1), b"");
        assert_eq!(range(v, u64::MAX, usize::MAX), b"");
        assert_eq!(range(v, 2, usize::MAX), b"23456789");
    }

    #[test]
    fn copy_range_fills_what_fits() {
        let v = b"0123456789";
        let mut buf = [0u8; 4];
        assert_eq!(copy_range(v, 0, &mut buf), 4);
        assert_eq!(&buf, b"0123");
        assert_eq!(copy_range(v, 8, &mut buf), 2);
        assert_eq!(&buf[..2], b"89");
        assert_eq!(copy_range(v, 10, &mut buf), 0);
        assert_eq!(copy_range(v, u64::MAX, &mut buf), 0);
        assert_eq!(copy_range(v, 0, &mut []), 0);
    }

    #[test]
    fn errors_display() {
        assert_eq!(KvError::NotFound.to_string(), "no such key");
    }
}
