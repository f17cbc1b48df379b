// `ipv4_gateway` is read from `--ipv4-gateway`, which `gateway` already names.
#[derive(petrel::BootArgs)]
pub struct Args {
    #[arg(name = "ipv4-gateway")]
    gateway: String,
    ipv4_gateway: String,
}

fn main() {}
