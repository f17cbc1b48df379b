#[petrel_macros::interface]
pub trait Clock<T> {
    fn wall_ns() -> u64;
}

fn main() {}
