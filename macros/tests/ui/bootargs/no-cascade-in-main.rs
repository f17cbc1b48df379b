// The derive's error is the only one: the struct is still a valid main parameter.
#[derive(petrel::BootArgs)]
pub struct Args {
    #[arg(nme = "hello")]
    hello: String,
}

#[petrel::main]
pub async fn start(args: Args) {
    let _ = args.hello;
}

fn main() {}
