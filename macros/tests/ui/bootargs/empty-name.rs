#[derive(petrel::BootArgs)]
pub struct Args {
    #[arg(name = "")]
    hello: String,
}

fn main() {}
