//! Logs the `--hello` boot argument four times, a second apart.
#![no_std]

use core::time::Duration;
use petrel::log::info;
use petrel::prelude::*;

/// The boot arguments declared in unikernel.toml.
#[derive(petrel::BootArgs)]
pub struct Args {
    /// `--hello=TEXT`, default "Hello world!".
    hello: String,
}

/// Greets four times with `--hello`.
#[petrel::main]
pub async fn start(args: Args) {
    for _ in 0..4 {
        info!("{}", args.hello);
        petrel::time::sleep(Duration::from_secs(1)).await;
    }
}
