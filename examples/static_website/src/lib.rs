//! An HTTP/1.1 server of the `htdocs` store on `--port` (default 8080), over IPv4 and IPv6
//! (mirage-skeleton's static_website), on picoserve: GET and HEAD, content types, 404,
//! keep-alive and pipelining. One task per connection; README.md lists its bounds.
#![no_std]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use petrel::{kv_ro::*, log::*, prelude::*, stack::TcpListener, stack::picoserve::Timer};
use picoserve::response::{Content, IntoResponse, Response, ResponseWriter, StatusCode};
use picoserve::url_encoded::UrlEncodedString;
use picoserve::{Config, ResponseSent, Router, Timeouts, io, request, routing::*, time::Duration};

/// Bytes of a file read from the store and sent at a time: a connection's memory for files.
const CHUNK: usize = 16 * 1024;

/// Content types by extension (anything else is `application/octet-stream`).
const TYPES: &str = "html=text/html; charset=utf-8,css=text/css; charset=utf-8,js=text/javascript,\
    txt=text/plain; charset=utf-8,json=application/json,svg=image/svg+xml,png=image/png,jpg=\
    image/jpeg,jpeg=image/jpeg,gif=image/gif,webp=image/webp,ico=image/x-icon,pdf=application/pdf";

/// The head deadline (5 s from its first byte; the first head: from the connection's start),
/// the keep-alive idle limit (30 s) and a minimum send rate (each chunk within 16 s).
static CONFIG: Config = Config::new(Timeouts {
    start_read_request: Duration::from_secs(5),
    persistent_start_read_request: Duration::from_secs(30),
    read_request: Duration::from_secs(5),
    write: Duration::from_secs(16),
})
.keep_connection_alive();

/// The boot arguments declared in unikernel.toml.
#[derive(petrel::BootArgs)]
pub struct Args {
    /// `--port=PORT`, default 8080.
    port: u16,
}

/// A file of the store, `len` bytes, sent [`CHUNK`] bytes at a time (nothing for HEAD).
struct File(KvRo, String, u64, bool);

impl Content for File {
    fn content_type(&self) -> &'static str {
        let ext = self.1.rsplit_once('.').map_or("", |(_, ext)| ext);
        let mut types = TYPES.split(',').filter_map(|entry| entry.split_once('='));
        types.find(|(e, _)| e.eq_ignore_ascii_case(ext)).map_or("application/octet-stream", |t| t.1)
    }

    fn content_length(&self) -> usize {
        usize::try_from(self.2).unwrap_or(usize::MAX) // 64-bit targets: never saturates
    }

    async fn write_content<W: io::Write>(self, mut out: W) -> Result<(), W::Error> {
        for at in (0..self.2).step_by(CHUNK).take_while(|_| self.3) {
            // No larger than the file: zeroing 16 KiB for each small file cost more than HTTP.
            // A file shorter than its Content-Length now (`--kv=direct`): zeros, the head is out.
            let mut buf = vec![0; usize::try_from(self.2 - at).map_or(CHUNK, |n| n.min(CHUNK))];
            let _ = self.0.get_partial(&self.1, at, &mut buf).await;
            out.write_all(&buf).await?;
        }
        Ok(())
    }
}

/// The file a request path names (a directory's `index.html`) and its length; `None` if it
/// is missing or hidden (a segment starting with `.`; the store ignores `.` and empty ones).
async fn find(htdocs: &KvRo, path: request::Path<'_>) -> Option<(String, u64)> {
    let key = UrlEncodedString(path.encoded()).chars().map(|c| Some(c.ok()?.into_char()));
    let plain = !path.encoded().contains(['%', '+']); // nothing to decode: one copy
    let mut key: String = if plain { path.encoded().into() } else { key.collect::<Option<_>>()? };
    let hidden = key.split('/').any(|s| s.starts_with('.') && s != ".");
    let mut len = htdocs.size(&key).await; // one lookup for a file, two for a directory
    if len == Err(KvError::IsDirectory) {
        key += "/index.html";
        len = htdocs.size(&key).await;
    }
    Some((key, len.ok().filter(|_| !hidden)?))
}

/// Every request: `/` and directories serve their `index.html`; hidden files are missing.
struct Site(KvRo);

impl PathRouterService for Site {
    async fn call_path_router_service<R: io::Read, W: ResponseWriter<Error = R::Error>>(
        &self, _: &(), _: (), path: request::Path<'_>, req: request::Request<'_, R>, w: W,
    ) -> Result<ResponseSent, W::Error> {
        let (connection, method) = (req.body_connection.finalize().await?, req.parts.method());
        if method != "GET" && method != "HEAD" {
            let refused = Response::new(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
            return refused.with_header("Allow", "GET, HEAD").write_to(connection, w).await;
        }
        let Some((key, len)) = find(&self.0, path).await else {
            return (StatusCode::NOT_FOUND, "404 Not Found\n").write_to(connection, w).await;
        };
        Response::ok(File(self.0.clone(), key, len, method == "GET")).write_to(connection, w).await
    }
}

/// Accepts connections on `listener` forever, one task each.
async fn accept(listener: TcpListener, app: &'static Router<ServicePathRouter<Site>>) {
    let _ = listener.local_addr().inspect(|at| info!("static-website: listening on {at}"));
    loop {
        let Ok((conn, peer)) = listener.accept().await.inspect_err(|e| warn!("accept: {e}")) else {
            // Out of sockets, usually: the next accept may work once connections close.
            petrel::time::sleep(core::time::Duration::from_millis(100)).await;
            continue;
        };
        petrel::spawn(async move {
            let mut buf = vec![0; 8 * 1024]; // the request head's limit
            let served = picoserve::Server::custom(app, Timer, &CONFIG, &mut buf).serve(conn);
            let _ = served.await.inspect_err(|e| debug!("static-website: {peer}: {e:?}"));
        });
    }
}

/// Listens on `--port` on every IPv4 and IPv6 address and serves `htdocs`.
#[petrel::main]
pub async fn start(stack: petrel::stack::Stack, htdocs: KvRo, args: Args) {
    let app = Box::leak(Box::new(Router::from_service(Site(htdocs))));
    for ip in [IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::V6(Ipv6Addr::UNSPECIFIED)] {
        match stack.listen(SocketAddr::new(ip, args.port)).await {
            Ok(listener) => petrel::spawn(accept(listener, app)),
            Err(e) => warn!("static-website: cannot listen on {ip} port {}: {e}", args.port),
        }
    }
    core::future::pending().await
}
