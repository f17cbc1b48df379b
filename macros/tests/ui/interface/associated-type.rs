#[petrel_macros::interface]
pub trait Clock {
    type Instant;
    fn wall_ns() -> u64;
}

fn main() {}
