#[petrel::main(fast)]
pub async fn start() {}

fn main() {}
