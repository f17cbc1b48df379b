#[petrel_macros::interface]
pub trait Random {
    fn fill<B: AsMut<[u8]>>(buf: B);
}

fn main() {}
