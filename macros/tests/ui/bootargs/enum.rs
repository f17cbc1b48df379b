#[derive(petrel::BootArgs)]
pub enum Args {
    Hello(String),
}

fn main() {}
