#[petrel::main]
pub async fn start<S>(stack: S) {
    let _ = stack;
}

fn main() {}
