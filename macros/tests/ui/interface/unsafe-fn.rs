#[petrel_macros::interface]
pub trait Memory {
    unsafe fn peek(addr: usize) -> u8;
}

fn main() {}
