#[derive(petrel::BootArgs)]
pub struct Args {
    #[arg(name = "hello", name = "greeting")]
    hello: String,
}

fn main() {}
