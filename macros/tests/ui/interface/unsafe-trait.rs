#[petrel_macros::interface]
pub unsafe trait Clock {
    fn wall_ns() -> u64;
}

fn main() {}
