#[petrel_macros::implements]
pub struct UnixClock;

fn main() {}
