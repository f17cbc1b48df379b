#[derive(petrel::BootArgs)]
pub struct Args {
    #[arg(name = hello)]
    hello: String,
}

fn main() {}
