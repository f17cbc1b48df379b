pub use petrel_clock::Clock;

mod unix {
    pub struct UnixClock;

    #[petrel_macros::implements]
    impl super::Clock for UnixClock {
        fn wall_ns() -> u64 {
            0
        }
    }
}

fn main() {}
