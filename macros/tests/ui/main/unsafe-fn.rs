#[petrel::main]
pub async unsafe fn start() {}

fn main() {}
