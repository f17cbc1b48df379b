//! [`petrel_kv_ro`] embedded in the image (crunch), on every target.
//!
//! `petrel configure` walks the directory named by the device's `dir` parameter (relative to
//! the project directory) and the generated crate embeds every file in it with
//! `include_bytes!`; [`connect`] receives that table. Values are `'static` slices of the
//! image: [`KvRo::get`](petrel_kv_ro::KvRo::get) hands them out without copying. Changing a
//! file changes the image at the next `cargo build`; adding or removing one needs
//! `petrel configure` again (`--check` says so).
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Bound;
use petrel_kv_ro::{Kind, KvError, KvRo, Store, Value};

/// The device constructor the generated crate calls for each `type = "kv_ro"` instance when
/// `--kv=crunch`: a store of `files`, the embedded table of `(key, bytes)`.
pub async fn connect(
    name: &'static str,
    _params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
    files: &'static [(&'static str, &'static [u8])],
) -> KvRo {
    KvRo::new(name, Crunch::new(files))
}

/// A store of files embedded in the image, by normalized key.
#[derive(Debug, Clone, Default)]
pub struct Crunch {
    files: BTreeMap<String, &'static [u8]>,
}

impl Crunch {
    /// A store of `files`. Each key is [normalized](petrel_kv_ro::normalize); a key that
    /// cannot be (a `..` segment) is left out, and of two keys that normalize alike the
    /// first wins.
    pub fn new(files: &'static [(&'static str, &'static [u8])]) -> Crunch {
        let mut map = BTreeMap::new();
        for (key, bytes) in files {
            if let Ok(key) = petrel_kv_ro::normalize(key)
                && !key.is_empty()
            {
                map.entry(key).or_insert(*bytes);
            }
        }
        Crunch { files: map }
    }

    /// The value of a normalized key, or why there is none.
    fn value(&self, key: &str) -> Result<&'static [u8], KvError> {
        match self.files.get(key) {
            Some(bytes) => Ok(bytes),
            None if self.is_directory(key) => Err(KvError::IsDirectory),
            None => Err(KvError::NotFound),
        }
    }

    /// The keys under directory `prefix` (every key for the root), in order.
    fn under<'a>(&'a self, prefix: &str) -> impl Iterator<Item = &'a String> + 'a {
        let start = if prefix.is_empty() {
            String::new()
        } else {
            let mut s = prefix.to_string();
            s.push('/');
            s
        };
        let owned = start.clone();
        self.files
            .range::<String, _>((Bound::Included(start), Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(move |k| k.starts_with(owned.as_str()))
    }

    fn is_directory(&self, key: &str) -> bool {
        key.is_empty() || self.under(key).next().is_some()
    }
}

impl Store for Crunch {
    fn get(&self, key: &str) -> Result<Value, KvError> {
        self.value(key).map(Cow::Borrowed)
    }

    fn get_range(&self, key: &str, offset: u64, len: usize) -> Result<Value, KvError> {
        self.value(key)
            .map(|v| Cow::Borrowed(petrel_kv_ro::range(v, offset, len)))
    }

    fn get_partial(&self, key: &str, offset: u64, buf: &mut [u8]) -> Result<usize, KvError> {
        self.value(key)
            .map(|v| petrel_kv_ro::copy_range(v, offset, buf))
    }

    fn size(&self, key: &str) -> Result<u64, KvError> {
        self.value(key).map(|v| v.len() as u64)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        Ok(self.under(prefix).cloned().collect())
    }

    fn kind(&self, key: &str) -> Result<Option<Kind>, KvError> {
        Ok(if self.files.contains_key(key) {
            Some(Kind::Value)
        } else if self.is_directory(key) {
            Some(Kind::Directory)
        } else {
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    static FILES: &[(&str, &[u8])] = &[
        ("css/site.css", b"body{}"),
        ("css/sub/x.css", b"x"),
        ("cssx", b"not in css"),
        ("hello.txt", b"Hello from the store!\n"),
    ];

    fn store() -> KvRo {
        KvRo::new("store", Crunch::new(FILES))
    }

    /// Runs a future that never waits (every store method is ready at once).
    fn now<F: core::future::Future>(f: F) -> F::Output {
        let mut f = core::pin::pin!(f);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            core::task::Poll::Ready(v) => v,
            core::task::Poll::Pending => panic!("store methods never wait"),
        }
    }

    #[test]
    fn get_borrows_the_embedded_bytes() {
        let s = store();
        let v = now(s.get("hello.txt")).expect("present");
        assert!(matches!(v, Cow::Borrowed(_)));
        assert_eq!(&*v, b"Hello from the store!\n");
        assert_eq!(&*now(s.get("/css//site.css")).expect("present"), b"body{}");
        assert_eq!(now(s.get("nope")), Err(KvError::NotFound));
        assert_eq!(now(s.get("css")), Err(KvError::IsDirectory));
        assert_eq!(now(s.get("")), Err(KvError::IsDirectory));
        assert_eq!(now(s.get("../hello.txt")), Err(KvError::InvalidKey));
        assert_eq!(now(s.get("css/../hello.txt")), Err(KvError::InvalidKey));
    }

    #[test]
    fn ranges_and_sizes() {
        let s = store();
        assert_eq!(
            &*now(s.get_range("hello.txt", 6, 4)).expect("present"),
            b"from"
        );
        assert_eq!(
            &*now(s.get_range("hello.txt", 100, 4)).expect("present"),
            b""
        );
        assert_eq!(now(s.size("hello.txt")), Ok(22));
        assert_eq!(now(s.size("css")), Err(KvError::IsDirectory));
        assert_eq!(now(s.size("missing")), Err(KvError::NotFound));
    }

    #[test]
    fn get_partial_streams_in_chunks() {
        let s = store();
        // Chunks of 5 put back together give the value; the last one is short.
        let mut whole = Vec::new();
        let mut buf = [0u8; 5];
        loop {
            let n = now(s.get_partial("hello.txt", whole.len() as u64, &mut buf)).expect("ok");
            if n == 0 {
                break;
            }
            assert!(n == 5 || whole.len() + n == 22, "short only at the end");
            whole.extend_from_slice(&buf[..n]);
        }
        assert_eq!(whole, b"Hello from the store!\n");
        assert_eq!(now(s.get_partial("hello.txt", 99, &mut buf)), Ok(0));
        assert_eq!(
            now(s.get_partial("css", 0, &mut buf)),
            Err(KvError::IsDirectory)
        );
        assert_eq!(
            now(s.get_partial("nope", 0, &mut buf)),
            Err(KvError::NotFound)
        );
        assert_eq!(
            now(s.get_partial("../x", 0, &mut buf)),
            Err(KvError::InvalidKey)
        );
    }

    #[test]
    fn list_is_by_directory_not_by_string_prefix() {
        let s = store();
        assert_eq!(
            now(s.list("")).expect("list"),
            vec!["css/site.css", "css/sub/x.css", "cssx", "hello.txt"]
        );
        assert_eq!(
            now(s.list("/css/")).expect("list"),
            vec!["css/site.css", "css/sub/x.css"]
        );
        assert_eq!(now(s.list("css/sub")).expect("list"), vec!["css/sub/x.css"]);
        assert!(now(s.list("hello.txt")).expect("list").is_empty());
        assert!(now(s.list("nothing")).expect("list").is_empty());
        assert_eq!(now(s.list("..")), Err(KvError::InvalidKey));
    }

    #[test]
    fn kinds() {
        let s = store();
        assert_eq!(now(s.kind("hello.txt")), Ok(Some(Kind::Value)));
        assert_eq!(now(s.kind("css")), Ok(Some(Kind::Directory)));
        assert_eq!(now(s.kind("")), Ok(Some(Kind::Directory)));
        assert_eq!(now(s.kind("cs")), Ok(None));
        assert_eq!(now(s.exists("hello.txt")), Ok(true));
        assert_eq!(now(s.exists("css")), Ok(false));
        assert_eq!(now(s.exists("nope")), Ok(false));
    }

    #[test]
    fn bad_table_keys_are_left_out() {
        static BAD: &[(&str, &[u8])] = &[("../up", b"u"), ("a//b", b"1"), ("a/b", b"2")];
        let c = Crunch::new(BAD);
        assert_eq!(c.list(""), Ok(vec!["a/b".to_string()]));
        assert_eq!(c.get("a/b").as_deref(), Ok(&b"1"[..]));
    }
}
