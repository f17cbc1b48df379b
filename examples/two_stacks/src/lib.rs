//! Two network stacks, `public` and `private`, each on its own network device: every TCP
//! connection to `--port` (default 7) on either one is answered with that stack's name and
//! a newline, then closed. Logs `two_stacks: NAME listening on ADDRESS` for each stack.
#![no_std]

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use petrel::log::{info, warn};
use petrel::prelude::*;
use petrel::stack::{Stack, TcpListener};

/// The boot arguments declared in unikernel.toml.
#[derive(petrel::BootArgs)]
pub struct Args {
    /// `--port=PORT`, default 7.
    port: u16,
}

/// Answers every connection on `listener` with `name`.
async fn answer(name: &'static str, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((conn, peer)) => {
                let line = format!("{name}\n");
                match conn.write_all(line.as_bytes()).await {
                    Ok(()) => info!("two_stacks: {name} answered {peer}"),
                    Err(e) => warn!("two_stacks: {name}: {peer}: {e}"),
                }
                let _ = conn.shutdown().await;
            }
            Err(e) => {
                warn!("two_stacks: {name}: accept: {e}");
                petrel::time::sleep(core::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Listens on `--port` of `stack`, or panics saying why.
async fn listen(name: &'static str, stack: &Stack, port: u16) -> TcpListener {
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
    match stack.listen(addr).await {
        Ok(listener) => {
            info!("two_stacks: {name} listening on {addr}");
            listener
        }
        Err(e) => panic!("two_stacks: {name} cannot listen on {addr}: {e}"),
    }
}

/// Answers on both stacks.
#[petrel::main]
pub async fn start(public: Stack, private: Stack, args: Args) {
    let outside = listen("public", &public, args.port).await;
    let inside = listen("private", &private, args.port).await;
    petrel::spawn(answer("public", outside));
    answer("private", inside).await;
}
