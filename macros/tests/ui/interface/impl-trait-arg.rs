#[petrel_macros::interface]
pub trait Console {
    fn write(bytes: impl AsRef<[u8]>);
}

fn main() {}
