#[petrel_macros::interface]
pub trait Clock {
    fn wall_ns(&self) -> u64;
}

fn main() {}
