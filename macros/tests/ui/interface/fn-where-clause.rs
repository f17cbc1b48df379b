#[petrel_macros::interface]
pub trait Random {
    fn fill(buf: &mut [u8])
    where
        u8: Copy;
}

fn main() {}
