//! An HTTP/1.1 server of the `htdocs` store on `--port` (default 8080), over IPv4 and IPv6
//! (mirage-skeleton's static_website): GET and HEAD, content types, 404, keep-alive and
//! pipelining. One task per connection.
//!
//! The HTTP logic is in [`http`] (plain functions of bytes, unit-tested on the host with
//! `cargo test`); this file moves bytes between the network and it.
//!
//! Memory per connection is bounded, whatever the files and the clients:
//!
//! - one buffer of [`http::MAX_HEAD`] bytes for requests, never more;
//! - files are read from the store in chunks of [`CHUNK`] bytes as they are sent
//!   ([`KvRo::get_partial`]), never whole: a 4 GB file costs what a 4 KB one does;
//! - every complete request in the buffer is answered before the next read, and small
//!   answers go out together (so pipelined requests cost one write, and a head is never sent
//!   apart from a small body, which Nagle's algorithm would hold back).
//!
//! Time per connection is bounded too, so that slow clients cannot hold connections
//! (slowloris):
//!
//! - a request head must arrive whole within [`HEAD_TIMEOUT`] of its first byte (the first
//!   request: of the connection's opening), however steadily its bytes trickle in; a late
//!   head is answered `408` and the connection closes;
//! - between requests, a keep-alive connection waits at most [`IDLE`] for the next one;
//! - an answer is sent at a minimum rate: the stack must take each [`CHUNK`] bytes within
//!   [`SEND_TIMEOUT`] (at least 1 KiB/s on average), else the connection closes (the
//!   direct stack's buffers are 32 KiB, so a client that stops reading is cut within
//!   [`SEND_TIMEOUT`]; on the socket stack the host's send buffer, autotuned up to
//!   `net.ipv4.tcp_wmem`'s maximum, absorbs that much first);
//! - request bodies are never read (a request with one is answered, then the connection
//!   closes): after an answer that closes the connection, the server closes its sending side
//!   and reads what the client still sends for at most [`LINGER`] and [`LINGER_BYTES`],
//!   because closing with unread bytes would reset the connection and could lose the answer.
//!
//! These are constants, not boot arguments: they fit any site, and each boot argument costs
//! image size.
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

/// How long a keep-alive connection waits for the next request to start.
pub const IDLE: Duration = Duration::from_secs(30);

/// How long a request head may take to arrive, from its first byte (from the connection's
/// opening for the first request).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the client may take to receive each [`CHUNK`] bytes of an answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(16);

/// Bytes of a file read from the store and sent at a time; also the largest body sent
/// together with its head.
pub const CHUNK: usize = 16 * 1024;

/// How long, at most, a closing connection reads what the client still sends.
pub const LINGER: Duration = Duration::from_secs(2);

/// The most bytes a closing connection reads before closing anyway.
pub const LINGER_BYTES: usize = 64 * 1024;

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
        match self.0.size(key).await {
            Ok(len) => http::Found::File(len),
            Err(KvError::IsDirectory) => http::Found::Directory,
            Err(KvError::NotFound | KvError::InvalidKey | KvError::Io) => http::Found::Missing,
        }
    }
}

/// The monotonic clock, in nanoseconds.
fn now() -> u64 {
    petrel::time::now_ns()
}

/// `duration` from now, on the [`now`] clock.
fn after(duration: Duration) -> u64 {
    now().saturating_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX))
}

/// `future`'s output, or `None` if the clock reaches `deadline` first.
async fn until<T>(deadline: u64, future: impl Future<Output = T>) -> Option<T> {
    let mut future = pin!(future);
    // Created unarmed: the timer is registered only if the future has to wait.
    let mut timer = pin!(petrel::time::sleep_until(deadline));
    poll_fn(|cx| {
        if let Poll::Ready(v) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Writes all of `bytes`, or fails with [`StackError::TimedOut`] if the client takes any
/// [`CHUNK`] of them slower than [`SEND_TIMEOUT`]: a minimum rate, which a client reading a
/// byte now and then cannot stretch (an idle limit would restart with every byte).
async fn send(conn: &TcpStream, bytes: &[u8]) -> Result<(), StackError> {
    for slice in bytes.chunks(CHUNK) {
        let deadline = after(SEND_TIMEOUT);
        let mut rest = slice;
        while !rest.is_empty() {
            let n = until(deadline, conn.write(rest))
                .await
                .ok_or(StackError::TimedOut)??;
            rest = rest.get(n..).unwrap_or_default();
        }
    }
    Ok(())
}

/// Why a connection ended early.
#[derive(Debug)]
enum Failure {
    /// The network: the client reset, was too slow, or the stack failed.
    Stack(StackError),
    /// A file became shorter while it was being sent: its answer cannot be completed.
    FileChanged(String),
}

impl From<StackError> for Failure {
    fn from(e: StackError) -> Failure {
        Failure::Stack(e)
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Stack(e) => write!(f, "{e}"),
            Failure::FileChanged(key) => write!(f, "{key} changed while it was sent"),
        }
    }
}

/// Appends the first `len` bytes of file `key` to `out` (a small body, sent with its head).
/// `false` if the file is shorter now (it changed since its length was taken).
async fn append_file(files: &Htdocs, key: &str, len: usize, out: &mut Vec<u8>) -> bool {
    let at = out.len();
    out.resize(at + len, 0);
    matches!(files.0.get_partial(key, 0, &mut out[at..]).await, Ok(n) if n == len)
}

/// Sends the first `len` bytes of file `key`, [`CHUNK`] bytes at a time through `chunk`.
/// Fails if the file is shorter now (it changed since its length was taken): the answer
/// cannot be completed, so the connection must close.
async fn send_file(
    conn: &TcpStream,
    files: &Htdocs,
    key: &str,
    len: u64,
    chunk: &mut Vec<u8>,
) -> Result<(), Failure> {
    chunk.resize(CHUNK, 0);
    let mut offset = 0;
    while offset < len {
        let want = usize::try_from(len - offset).map_or(CHUNK, |rest| rest.min(CHUNK));
        let n = match files.0.get_partial(key, offset, &mut chunk[..want]).await {
            Ok(n) if n > 0 => n,
            Ok(_) | Err(_) => return Err(Failure::FileChanged(key.to_string())),
        };
        send(conn, &chunk[..n]).await?;
        offset += n as u64;
    }
    Ok(())
}

/// Answers the requests of one connection until it closes, fails, idles or is too slow.
async fn serve(conn: &TcpStream, files: &Htdocs) -> Result<(), Failure> {
    let mut buf = vec![0u8; http::MAX_HEAD];
    let mut len = 0;
    let mut out = Vec::with_capacity(4096);
    // When the head being received must be complete: set while a head is on its way (and
    // for the first one, from the start), `None` while a keep-alive connection is idle.
    let mut head_deadline = Some(after(HEAD_TIMEOUT));
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
            // Where this answer starts: a file that cannot be read after all leaves the
            // answers before it, then the connection closes.
            let mark = out.len();
            out.extend_from_slice(&response.head);
            match response.body {
                http::Body::Bytes(bytes) => out.extend_from_slice(&bytes),
                http::Body::File { key, len } => match usize::try_from(len) {
                    Ok(small) if small <= CHUNK => {
                        if !append_file(files, &key, small, &mut out).await {
                            send(conn, &out[..mark]).await?;
                            return Err(Failure::FileChanged(key));
                        }
                    }
                    _ => {
                        send(conn, &out).await?;
                        out.clear();
                        send_file(conn, files, &key, len, &mut out).await?;
                        out.clear();
                    }
                },
            }
            if out.len() > CHUNK {
                send(conn, &out).await?;
                out.clear();
            }
        }
        if !out.is_empty() {
            send(conn, &out).await?;
            out.clear();
        }
        if close {
            return Ok(linger(conn, &mut buf).await?);
        }
        // Keep the unanswered start of the next request, then read more of it.
        if start > 0 {
            head_deadline = None;
        }
        buf.copy_within(start..len, 0);
        len -= start;
        if len > 0 && head_deadline.is_none() {
            head_deadline = Some(after(HEAD_TIMEOUT));
        }
        let deadline = head_deadline.unwrap_or_else(|| after(IDLE));
        match until(deadline, conn.read(&mut buf[len..])).await {
            Some(Ok(0)) => return Ok(()),
            Some(Ok(n)) => {
                len += n;
                // The first bytes of the next head: its time starts now.
                if head_deadline.is_none() {
                    head_deadline = Some(after(HEAD_TIMEOUT));
                }
            }
            Some(Err(e)) => return Err(e.into()),
            // A head started and did not finish in time: say so, then close.
            None if len > 0 => {
                let response = http::timed_out();
                out.extend_from_slice(&response.head);
                if let http::Body::Bytes(body) = response.body {
                    out.extend_from_slice(&body);
                }
                send(conn, &out).await?;
                return Ok(linger(conn, &mut buf).await?);
            }
            // Nothing came: close quietly.
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
    until(after(LINGER), drain).await;
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
