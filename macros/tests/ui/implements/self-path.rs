mod interfaces {
    pub use petrel_clock::Clock;
}

pub struct UnixClock;

#[petrel_macros::implements]
impl self::interfaces::Clock for UnixClock {
    fn wall_ns() -> u64 {
        0
    }
}

fn main() {}
