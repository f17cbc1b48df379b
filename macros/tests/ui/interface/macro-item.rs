macro_rules! more {
    () => {};
}

#[petrel_macros::interface]
pub trait Clock {
    more!();
    fn wall_ns() -> u64;
}

fn main() {}
