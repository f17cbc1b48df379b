// The interface says `fn fill(buf: &mut [u8])`.
pub struct UnixRandom;

#[petrel_macros::implements]
impl petrel_random::Random for UnixRandom {
    fn fill(buf: &mut Vec<u8>) {
        buf.clear();
    }
}

fn main() {}
