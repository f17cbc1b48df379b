#[derive(petrel::BootArgs)]
pub struct Args {
    help: bool,
}

fn main() {}
