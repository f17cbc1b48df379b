// A main function whose parameter is a boot-arguments struct, and the struct's `FromArgs`
// and `StartParam` impls.
#[derive(petrel::BootArgs)]
pub struct Args {
    hello: String,
    #[arg(name = "ipv4-gateway")]
    gateway: String,
    r#type: String,
}

#[petrel::main]
pub async fn start(args: Args, mut other: Args) {
    other.hello.push_str(&args.hello);
    let _ = (args.gateway, args.r#type, other);
}

fn takes_from_args<T: petrel::bootargs::FromArgs>() {}
fn takes_start_param<T: petrel::__private::StartParam>() {}

fn main() {
    takes_from_args::<Args>();
    takes_start_param::<Args>();
    let _ = start;
}
