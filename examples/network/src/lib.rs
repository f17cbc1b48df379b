//! A TCP echo server on `--port` (default 8080), over IPv4 and IPv6: one task per connection
//! writes back every byte it reads until the peer closes its side, then closes.
//!
//! Logs `network: listening on ADDRESS` for each address family it could listen on, and one
//! line per connection opened and closed.
#![no_std]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use petrel::log::{info, warn};
use petrel::prelude::*;
use petrel::stack::{Stack, StackError, TcpListener, TcpStream};

/// The boot arguments declared in unikernel.toml.
#[derive(petrel::BootArgs)]
pub struct Args {
    /// `--port=PORT`, default 8080.
    port: u16,
}

/// Echoes `conn` until end of stream or an error: the number of bytes echoed.
async fn echo(conn: &TcpStream) -> Result<u64, StackError> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0u64;
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            conn.shutdown().await?;
            return Ok(total);
        }
        // Waits while the peer does not read: its back-pressure reaches our reads.
        conn.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// Accepts connections on `listener` forever, one echo task each.
async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((conn, peer)) => {
                info!("network: {peer} connected");
                petrel::spawn(async move {
                    match echo(&conn).await {
                        Ok(n) => info!("network: {peer} closed after {n} bytes"),
                        Err(e) => warn!("network: {peer}: {e}"),
                    }
                });
            }
            // Out of sockets, usually: the next accept may work once connections close.
            Err(e) => {
                warn!("network: accept: {e}");
                petrel::time::sleep(core::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Listens on `--port` on every IPv4 and IPv6 address and echoes.
#[petrel::main]
pub async fn start(stack: Stack, args: Args) {
    let mut listeners = Vec::new();
    for ip in [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ] {
        let addr = SocketAddr::new(ip, args.port);
        match stack.listen(addr).await {
            Ok(listener) => {
                let at = listener.local_addr().unwrap_or(addr);
                info!("network: listening on {at}");
                listeners.push(listener);
            }
            Err(e) => warn!("network: cannot listen on {addr}: {e}"),
        }
    }
    let Some(last) = listeners.pop() else {
        panic!("network: no address to listen on");
    };
    for listener in listeners {
        petrel::spawn(serve(listener));
    }
    serve(last).await;
}
