//! Prints one file of the `store` device and lists every key in it.
//!
//! `--key=NAME` chooses the file (default `hello.txt`). A missing key is not a crash: the
//! unikernel logs `no key ...` as an error, still lists the keys, and returns normally
//! (exit code 0), as a server would answer 404 and carry on.
#![no_std]

use petrel::kv_ro::KvRo;
use petrel::log::{error, info};
use petrel::prelude::*;

/// The boot arguments declared in unikernel.toml.
#[derive(petrel::BootArgs)]
pub struct Args {
    /// `--key=NAME`, default "hello.txt".
    key: String,
}

/// Prints `--key` from the store, then lists the keys.
#[petrel::main]
pub async fn start(store: KvRo, args: Args) {
    match store.get(&args.key).await {
        Ok(value) => {
            info!("{} ({} bytes):", args.key, value.len());
            petrel::console::write(&value);
        }
        Err(e) => error!("no key {:?} in the store: {e}", args.key),
    }
    match store.list("").await {
        Ok(keys) => {
            info!("{} keys:", keys.len());
            for key in keys {
                let size = store.size(&key).await.unwrap_or(0);
                info!("  {key} ({size} bytes)");
            }
        }
        Err(e) => error!("cannot list the store: {e}"),
    }
}
