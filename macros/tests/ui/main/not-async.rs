#[petrel::main]
pub fn start() {}

fn main() {}
