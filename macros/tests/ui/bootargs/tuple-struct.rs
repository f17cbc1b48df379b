#[derive(petrel::BootArgs)]
pub struct Args(String);

fn main() {}
