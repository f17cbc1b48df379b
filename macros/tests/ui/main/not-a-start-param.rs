// A parameter that is neither a device handle nor a boot-arguments struct: the error is at
// its type.
#[petrel::main]
pub async fn start(count: u32) {
    let _ = count;
}

fn main() {}
