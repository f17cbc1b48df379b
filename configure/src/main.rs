//! The `petrel` command.
fn main() {}
