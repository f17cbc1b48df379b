#[petrel_macros::interface]
pub trait Clock {
    fn copy_from(other: &Self);
}

fn main() {}
