// Every problem is reported in one run, each at its own tokens.
#[petrel_macros::interface]
pub trait Clock {
    fn wall_ns(&self) -> u64;
    fn set<T>(value: T);
    type Instant;
}

fn main() {}
