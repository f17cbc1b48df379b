// A trait from another crate that is not an `#[interface]`: there is no export macro.
pub struct Zero;

#[petrel_macros::implements]
impl core::default::Default for Zero {
    fn default() -> Self {
        Zero
    }
}

fn main() {}
