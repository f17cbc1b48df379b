#[petrel_macros::interface]
pub trait Clock {
    const fn wall_ns() -> u64;
}

fn main() {}
