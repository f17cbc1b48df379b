#[petrel_macros::interface]
pub struct Clock;

fn main() {}
