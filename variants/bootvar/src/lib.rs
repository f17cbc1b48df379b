//! Boot arguments (placeholder API; the real parser replaces this file's insides).
#![no_std]
extern crate alloc;
use alloc::string::String;
use alloc::vec::Vec;

/// Typed boot-argument values after parsing.
pub struct Values {
    entries: Vec<(String, String)>,
}

impl Values {
    /// The value of argument `name`, converted to `T`.
    pub fn get<T: FromValue>(&self, name: &str) -> T {
        let raw = self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        T::from_value(raw)
    }
}

/// A Rust type a boot argument can be read as.
pub trait FromValue: Sized {
    /// Converts the parsed value.
    fn from_value(raw: Option<&str>) -> Self;
}

impl FromValue for String {
    fn from_value(raw: Option<&str>) -> Self {
        raw.map(String::from).unwrap_or_default()
    }
}

/// A struct built from the parsed boot arguments (`#[derive(petrel::BootArgs)]`).
pub trait FromArgs {
    /// Builds the struct.
    fn from_args(values: &Values) -> Self;
}
