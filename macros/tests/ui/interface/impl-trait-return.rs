#[petrel_macros::interface]
pub trait Console {
    fn lines() -> impl Iterator<Item = u8>;
}

fn main() {}
