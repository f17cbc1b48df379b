#[petrel_macros::interface]
pub trait Clock: Send + Sync {
    fn wall_ns() -> u64;
}

fn main() {}
