#[petrel_macros::interface]
pub trait Console {
    fn write((a, b): (u8, u8));
}

fn main() {}
