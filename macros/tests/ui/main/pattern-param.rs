#[derive(petrel::BootArgs)]
pub struct Args {
    hello: String,
}

#[petrel::main]
pub async fn start(Args { hello }: Args) {
    let _ = hello;
}

fn main() {}
