// The interface's function is missing: rustc's E0046 at the impl, nothing from the shim.
pub struct UnixClock;

#[petrel_macros::implements]
impl petrel_clock::Clock for UnixClock {}

fn main() {}
