//! The smallest unikernel: it starts and returns, and the unikernel exits 0.
#![no_std]

/// Does nothing.
#[petrel::main]
pub async fn start() {}
