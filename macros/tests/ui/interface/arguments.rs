#[petrel_macros::interface(service)]
pub trait Clock {
    fn wall_ns() -> u64;
}

fn main() {}
