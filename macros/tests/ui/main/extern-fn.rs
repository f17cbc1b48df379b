#[petrel::main]
pub async extern "C" fn start() {}

fn main() {}
