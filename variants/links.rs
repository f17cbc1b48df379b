//! Build script of every implementation crate. It does nothing: Cargo only accepts a `links`
//! key (which makes two implementations of one interface a resolution error) on a package
//! that has a build script.
fn main() {}
