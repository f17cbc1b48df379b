#[petrel::main]
pub async fn start()
where
    u8: Copy,
{
}

fn main() {}
