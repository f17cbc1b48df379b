//! Looks up `--name` and prints one line per address, with how long the lookup took; exits 1
//! with one line if there is no address. The lookup is bounded by embassy-time's
//! `with_timeout`, which runs on Petrel's timer queue like any embassy-time code.
#![no_std]

use embassy_time::{Duration, Instant, with_timeout};
use petrel::dns::Resolver;
use petrel::log::{error, info};
use petrel::prelude::*;

/// The boot arguments declared in unikernel.toml.
#[derive(petrel::BootArgs)]
pub struct Args {
    /// `--name=NAME`.
    name: String,
}

/// Longer than every server's tries together: the resolver's own timeout speaks first.
const LIMIT: Duration = Duration::from_secs(60);

/// Prints the addresses of `--name`.
#[petrel::main]
pub async fn start(dns: Resolver, args: Args) {
    let started = Instant::now();
    match with_timeout(LIMIT, dns.resolve(&args.name)).await {
        Ok(Ok(addrs)) => {
            let ms = started.elapsed().as_millis();
            for addr in addrs {
                info!("{} has address {addr} ({ms} ms)", args.name);
            }
        }
        Ok(Err(e)) => {
            error!("dns-lookup: {}: {e}", args.name);
            petrel::exit(1)
        }
        Err(_) => {
            error!("dns-lookup: {}: no answer within {} s", args.name, LIMIT.as_secs());
            petrel::exit(1)
        }
    }
}
