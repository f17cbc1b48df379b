#[derive(petrel::BootArgs)]
pub struct Args {
    _hello: String,
}

fn main() {}
