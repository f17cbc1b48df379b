#[petrel_macros::interface]
pub trait Console {
    fn printf(format: *const u8, _: ...);
}

fn main() {}
