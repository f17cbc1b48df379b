#[petrel_macros::interface]
pub trait Clock
where
    u64: Copy,
{
    fn wall_ns() -> u64;
}

fn main() {}
