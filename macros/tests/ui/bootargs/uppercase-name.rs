#[derive(petrel::BootArgs)]
pub struct Args {
    #[arg(name = "Hello")]
    hello: String,
}

fn main() {}
