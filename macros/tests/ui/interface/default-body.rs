#[petrel_macros::interface]
pub trait Clock {
    fn wall_ns() -> u64 {
        0
    }
}

fn main() {}
