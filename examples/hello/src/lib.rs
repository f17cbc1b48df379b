//! Logs "Hello world!" four times, a second apart: time and the console, nothing else.
#![no_std]

use core::time::Duration;
use petrel::log::info;

/// Greets four times.
#[petrel::main]
pub async fn start() {
    for _ in 0..4 {
        info!("Hello world!");
        petrel::time::sleep(Duration::from_secs(1)).await;
    }
}
