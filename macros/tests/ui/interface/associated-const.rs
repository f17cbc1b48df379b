#[petrel_macros::interface]
pub trait Clock {
    const HZ: u64;
    fn wall_ns() -> u64;
}

fn main() {}
