//! The `petrel` command.
mod catalogue;
mod target;

fn main() {}
