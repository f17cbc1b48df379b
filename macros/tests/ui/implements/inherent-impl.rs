pub struct UnixClock;

#[petrel_macros::implements]
impl UnixClock {
    pub fn wall_ns() -> u64 {
        0
    }
}

fn main() {}
