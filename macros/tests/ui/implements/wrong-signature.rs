// The interface says `fn wall_ns() -> u64`: exactly one error (E0053), at the
// implementation's item, and nothing from the generated shim.
pub struct UnixClock;

#[petrel_macros::implements]
impl petrel_clock::Clock for UnixClock {
    fn wall_ns() -> u32 {
        0
    }
}

fn main() {}
