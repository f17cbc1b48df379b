#[derive(petrel::BootArgs)]
pub struct Args<T> {
    hello: T,
}

fn main() {}
