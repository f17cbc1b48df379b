#[petrel_macros::interface]
pub trait Net {
    async fn recv(buf: &mut [u8]) -> usize;
}

fn main() {}
