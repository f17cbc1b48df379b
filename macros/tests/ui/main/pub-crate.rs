#[petrel::main]
pub(crate) async fn start() {}

fn main() {}
