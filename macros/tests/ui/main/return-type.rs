#[petrel::main]
pub async fn start() -> Result<(), String> {
    Ok(())
}

fn main() {}
