#[derive(petrel::BootArgs)]
pub struct Args {
    #[arg(name = "greeting")]
    hello: String,
    #[arg(name = "greeting")]
    welcome: String,
}

fn main() {}
