pub struct Unikernel;

impl Unikernel {
    #[petrel::main]
    pub async fn start(&self) {}
}

fn main() {}
