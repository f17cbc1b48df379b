#[derive(petrel::BootArgs)]
pub struct Args {
    #[arg(default = "world")]
    hello: String,
}

fn main() {}
