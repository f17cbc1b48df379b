#[petrel_macros::interface]
pub trait Clock {
    extern "C" fn wall_ns() -> u64;
}

fn main() {}
