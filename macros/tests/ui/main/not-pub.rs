#[petrel::main]
async fn start() {}

fn main() {}
