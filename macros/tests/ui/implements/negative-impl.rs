pub struct UnixClock;

#[petrel_macros::implements]
impl !petrel_clock::Clock for UnixClock {}

fn main() {}
