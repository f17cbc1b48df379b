// An implementation written here, through the facade's path, is the one the call reaches;
// a reference parameter goes through the shim.
pub struct FixedClock;

#[petrel::implements]
impl petrel::clock::Clock for FixedClock {
    fn wall_ns() -> u64 {
        1_234
    }
}

pub struct CountingRandom;

#[petrel_macros::implements]
impl petrel_random::Random for CountingRandom {
    fn fill(buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
    }
}

fn main() {
    assert_eq!(petrel::clock::wall_ns(), 1_234);
    assert_eq!(petrel_clock::wall_ns(), 1_234);
    let mut buf = [9u8; 4];
    petrel::random::fill(&mut buf);
    assert_eq!(buf, [0, 1, 2, 3]);
    assert_eq!(petrel_random::u64(), u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]));
}
