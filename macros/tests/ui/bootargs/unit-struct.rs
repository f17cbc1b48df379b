#[derive(petrel::BootArgs)]
pub struct Args;

fn main() {}
