#[derive(petrel::BootArgs)]
pub union Args {
    count: u32,
}

fn main() {}
