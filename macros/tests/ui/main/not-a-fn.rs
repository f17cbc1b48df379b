#[petrel::main]
pub struct Start;

fn main() {}
