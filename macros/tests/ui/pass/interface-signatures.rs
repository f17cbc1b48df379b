// Signatures an interface accepts: references with elided lifetimes, `!`, `_` parameters,
// raw identifiers, documented and undocumented functions, an empty interface.
#![deny(missing_docs, warnings)]
#![allow(dead_code)]
//! Interfaces.

/// Every accepted shape.
#[petrel_macros::interface]
pub trait Shapes {
    /// Borrowed argument and result.
    fn first(bytes: &[u8]) -> Option<&u8>;
    /// Mutable borrow.
    fn fill(buf: &mut [u8]);
    /// Never returns.
    fn halt(code: i32) -> !;
    /// An unnamed parameter.
    fn ignore(_: u64);
    /// A raw identifier.
    fn r#type() -> &'static str;
    /// Paths from a crate root.
    fn poll(cx: &mut ::core::task::Context<'_>) -> ::core::task::Poll<usize>;
}

/// Nothing to implement.
#[petrel_macros::interface]
pub trait Empty {}

fn main() {}
