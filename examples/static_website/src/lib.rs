//! An HTTP/1.1 server of the `htdocs` store on `--port` (default 8080), over IPv4 and IPv6
//! (mirage-skeleton's static_website): GET and HEAD, content types, 404, keep-alive and
//! pipelining. One task per connection.
//!
//! The HTTP logic is in [`http`] (plain functions of bytes, unit-tested on the host with
//! `cargo test`); this file moves bytes between the network and it:
//!
//! - each connection has one buffer of [`http::MAX_HEAD`] bytes for requests, never more;
//! - every complete request in the buffer is answered before the next read, and the answers
//!   go out in one write (so pipelined requests cost one write, and a head is never sent
//!   apart from a small body, which Nagle's algorithm would hold back);
//! - a connection idle for [`IDLE`] is closed, whether the server waits for a request or
//!   for the client to read an answer;
//! - after an answer that closes the connection, the server closes its sending side and
//!   reads what the client still sends, for a short while, before closing: closing with
//!   unread bytes would reset the connection and could lose the answer.
//!
//! Logs `static-website: listening on ADDRESS` for each address family it could listen on;
//! failures of single connections are logged at debug level only.
#![no_std]

extern crate alloc;

pub mod http;

use core::future::{Future, poll_fn};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;
use petrel::kv_ro::{KvError, KvRo};
use petrel::log::{debug, info, warn};
use petrel::prelude::*;
use petrel::stack::{Stack, StackError, TcpListener, TcpStream};

/// How long a connection may stay silent (between requests, or inside one) before it closes.
pub const IDLE: Duration = Duration::from_secs(30);

/// How long, at most, a closing connection reads what the client still sends.
const LINGER: Duration = Duration::from_secs(2);

/// The most bytes a closing connection reads before closing anyway.
const LINGER_BYTES: usize = 64 * 1024;

/// Bodies up to this size are copied after their head, so that both leave in one write;
/// larger ones are written from the store's bytes.
const COPY_LIMIT: usize = 64 * 1024;

/// The boot arguments declared in unikernel.toml.
#[derive(petrel::BootArgs)]
pub struct Args {
    /// `--port=PORT`, default 8080.
    port: u16,
}

/// The `htdocs` store as the files [`http`] serves.
#[derive(Clone)]
struct Htdocs(KvRo);

impl http::Files for Htdocs {
    async fn find(&self, key: &str) -> http::Found {
        match self.0.get(key).await {
            Ok(bytes) => http::Found::File(bytes),
            Err(KvError::IsDirectory) => http::Found::Directory,
            Err(KvError::NotFound | KvError::InvalidKey | KvError::Io) => http::Found::Missing,
        }
    }
}

/// `future`'s output, or `None` if `timeout` passes first.
async fn within<T>(timeout: Duration, future: impl Future<Output = T>) -> Option<T> {
    let mut future = pin!(future);
    // Created unarmed: the timer is registered only if the future has to wait.
    let mut timer = pin!(petrel::time::sleep(timeout));
    poll_fn(|cx| {
        if let Poll::Ready(v) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Writes all of `bytes`, or fails with [`StackError::TimedOut`] if the client reads none of
/// them for [`IDLE`].
async fn send(conn: &TcpStream, mut bytes: &[u8]) -> Result<(), StackError> {
    while !bytes.is_empty() {
        let n = within(IDLE, conn.write(bytes))
            .await
            .ok_or(StackError::TimedOut)??;
        bytes = bytes.get(n..).unwrap_or_default();
    }
    Ok(())
}

/// Answers the requests of one connection until it closes, fails or idles.
async fn serve(conn: &TcpStream, files: &Htdocs) -> Result<(), StackError> {
    let mut buf = vec![0u8; http::MAX_HEAD];
    let mut len = 0;
    let mut out = Vec::with_capacity(4096);
    loop {
        // Answer every complete request received so far.
        let mut start = 0;
        let mut close = false;
        while start < len && !close {
            let http::Next::Respond { consumed, response } =
                http::next(&buf[start..len], files).await
            else {
                break;
            };
            start += consumed;
            close = response.close;
            out.extend_from_slice(&response.head);
            if response.body.len() <= COPY_LIMIT {
                out.extend_from_slice(&response.body);
            } else {
                send(conn, &out).await?;
                out.clear();
                send(conn, &response.body).await?;
            }
            if out.len() > COPY_LIMIT {
                send(conn, &out).await?;
                out.clear();
            }
        }
        if !out.is_empty() {
            send(conn, &out).await?;
            out.clear();
        }
        if close {
            return linger(conn, &mut buf).await;
        }
        // Keep the unanswered start of the next request, then read more of it.
        buf.copy_within(start..len, 0);
        len -= start;
        match within(IDLE, conn.read(&mut buf[len..])).await {
            Some(Ok(0)) => return Ok(()),
            Some(Ok(n)) => len += n,
            Some(Err(e)) => return Err(e),
            None => return Ok(()),
        }
    }
}

/// Closes the sending side, then reads and drops what the client still sends (up to
/// [`LINGER_BYTES`], for up to [`LINGER`]) so that closing does not reset the connection
/// before the client has read the last answer.
async fn linger(conn: &TcpStream, buf: &mut [u8]) -> Result<(), StackError> {
    conn.shutdown().await?;
    let mut drained = 0;
    let drain = async {
        while drained < LINGER_BYTES {
            match conn.read(buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    };
    within(LINGER, drain).await;
    Ok(())
}

/// Accepts connections on `listener` forever, one task each.
async fn accept(listener: TcpListener, files: Htdocs) {
    loop {
        match listener.accept().await {
            Ok((conn, peer)) => {
                let files = files.clone();
                petrel::spawn(async move {
                    if let Err(e) = serve(&conn, &files).await {
                        debug!("static-website: {peer}: {e}");
                    }
                });
            }
            // Out of sockets, usually: the next accept may work once connections close.
            Err(e) => {
                warn!("static-website: accept: {e}");
                petrel::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Listens on `--port` on every IPv4 and IPv6 address and serves `htdocs`.
#[petrel::main]
pub async fn start(stack: Stack, htdocs: KvRo, args: Args) {
    let files = Htdocs(htdocs);
    let mut listeners = Vec::new();
    for ip in [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ] {
        let addr = SocketAddr::new(ip, args.port);
        match stack.listen(addr).await {
            Ok(listener) => {
                let at = listener.local_addr().unwrap_or(addr);
                info!("static-website: listening on {at}");
                listeners.push(listener);
            }
            Err(e) => warn!("static-website: cannot listen on {addr}: {e}"),
        }
    }
    let Some(last) = listeners.pop() else {
        panic!("static-website: no address to listen on");
    };
    for listener in listeners {
        petrel::spawn(accept(listener, files.clone()));
    }
    accept(last, files).await;
}
