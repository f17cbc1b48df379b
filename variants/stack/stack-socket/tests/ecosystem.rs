//! The embedded Rust ecosystem's crates over Petrel's stack handles, on the socket stack and
//! 127.0.0.1, on Petrel's executor: picoserve's server (petrel-stack's `picoserve` feature),
//! edge-http's server (edge-nal `TcpBind`/`TcpAccept`,
//! `TcpSplit`, `Readable`, and embassy-time through Petrel's time driver for its keep-alive
//! timeout), reqwless's client (embedded-nal-async `TcpConnect` and `Dns`), DNS against a
//! local UDP responder, split halves in two tasks, readiness, abort and UDP.
//!
//! One test function: the executor and the timer queue are single-threaded.

mod dns_responder;

use dns_responder::Responder;
use edge_http::Method as EdgeMethod;
use edge_http::io::server::{Connection, DefaultServer, Handler};
use edge_nal::{TcpAccept, TcpBind, TcpShutdown, UdpBind, UdpReceive, UdpSend};
use embedded_io_async::{ErrorKind, Read, ReadReady, Write, WriteReady};
use petrel_dns_udp::resolver;
use petrel_stack::{DnsError, Stack, StackError};
use reqwless::client::HttpClient;
use reqwless::request::Method;
use std::cell::Cell;
use std::fmt::{Debug, Display};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use petrel_console_unix as _;
use petrel_random_unix as _;
use petrel_stack_socket as _;
use petrel_time_unix as _;

/// The body of `GET /hello`.
const HELLO: &[u8] = b"hello from edge-http on petrel";

/// An edge-http handler: `GET /hello` is [`HELLO`], anything else 404.
struct Hello;

impl Handler for Hello {
    type Error<E>
        = edge_http::io::Error<E>
    where
        E: Debug;

    async fn handle<T, const N: usize>(
        &self,
        _task_id: impl Display + Copy,
        conn: &mut Connection<'_, T, N>,
    ) -> Result<(), Self::Error<T::Error>>
    where
        T: Read + Write + edge_nal::TcpSplit,
    {
        let headers = conn.headers()?;
        if headers.method == EdgeMethod::Get && headers.path == "/hello" {
            // A length, not edge-http's `Transfer-Encoding: Chunked`: reqwless 0.14 reads the
            // encoding's name case-sensitively and refuses `Chunked` (an upstream mismatch).
            let len = HELLO.len().to_string();
            let headers = [
                ("Content-Type", "text/plain"),
                ("Content-Length", len.as_str()),
            ];
            conn.initiate_response(200, Some("OK"), &headers).await?;
            conn.write_all(HELLO).await?;
        } else {
            conn.initiate_response(404, Some("Not Found"), &[("Content-Length", "0")])
                .await?;
        }
        Ok(())
    }
}

/// `GET url` with reqwless over `stack`: the status code and the body.
async fn fetch(stack: &Stack, url: &str) -> (u16, Vec<u8>) {
    let mut client = HttpClient::new(stack, stack);
    let mut buf = vec![0u8; 4096];
    let mut request = client
        .request(Method::GET, url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e:?}"));
    let response = request
        .send(&mut buf)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e:?}"));
    let status = response.status.0;
    let body = response
        .body()
        .read_to_end()
        .await
        .unwrap_or_else(|e| panic!("GET {url} body: {e:?}"))
        .to_vec();
    (status, body)
}

/// Writes `len` bytes on `w`.
async fn send_bytes(w: &mut impl Write<Error = StackError>, len: usize) {
    let chunk = [7u8; 1000];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write_all(&chunk[..n]).await.expect("write");
        left -= n;
    }
    w.flush().await.expect("flush");
}

/// Reads `r` to its end: how many bytes.
async fn count_bytes(mut r: impl Read<Error = StackError>) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        match r.read(&mut buf).await.expect("read") {
            0 => return total,
            n => total += n,
        }
    }
}

async fn http_over_edge_http_and_reqwless(dns: SocketAddr) {
    let stack = Stack::acquire("stack").expect("the socket stack");
    let listener = TcpBind::bind(&stack, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let port = listener.local_addr().expect("local address").port();
    petrel_executor::spawn(async move {
        let mut server = Box::new(DefaultServer::new());
        let _ = server.run(Some(2_000), listener, Hello).await;
    });

    let (status, body) = fetch(&stack, &format!("http://127.0.0.1:{port}/hello")).await;
    assert_eq!((status, body.as_slice()), (200, HELLO));
    let (status, _) = fetch(&stack, &format!("http://127.0.0.1:{port}/nothing")).await;
    assert_eq!(status, 404);

    // By name: reqwless asks the stack's Dns, which asks the local responder.
    resolver::set_servers(&[dns]);
    let (status, body) = fetch(&stack, &format!("http://petrel.test:{port}/hello")).await;
    assert_eq!((status, body.as_slice()), (200, HELLO));
}

/// picoserve's server (its `Socket` and `Timer` from petrel-stack's `picoserve` feature),
/// one task per connection as in picoserve's README, and reqwless's client.
async fn http_over_picoserve() {
    use petrel_stack::picoserve::Timer;
    use picoserve::response::Response;
    use picoserve::routing::get;
    let stack = Stack::acquire("stack").expect("the socket stack");
    let listener = stack
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .expect("listen");
    let port = listener.local_addr().expect("local address").port();
    let app = picoserve::Router::new().route("/", get(|| async { "Hello World" }));
    let app = app.route("/stalled", get(|| async { Response::ok(Stalled(true)) }));
    let app = app.route("/unflushed", get(|| async { Response::ok(Stalled(false)) }));
    let long = || async { Response::ok("long").with_header("X-Long", LongValue) };
    let app = Rc::new(app.route("/long", get(long)));
    petrel_executor::spawn(async move {
        loop {
            let Ok((conn, _peer)) = listener.accept().await else {
                return;
            };
            let app = app.clone();
            petrel_executor::spawn(async move {
                static CONFIG: picoserve::Config =
                    picoserve::Config::const_default().keep_connection_alive();
                let mut buf = [0u8; 2048];
                let served = picoserve::Server::custom(&app, Timer, &CONFIG, &mut buf)
                    .serve(conn)
                    .await;
                if let Err(e) = served {
                    panic!("picoserve: {e:?}");
                }
            });
        }
    });
    for _ in 0..2 {
        let (status, body) = fetch(&stack, &format!("http://127.0.0.1:{port}/")).await;
        assert_eq!((status, body.as_slice()), (200, b"Hello World".as_slice()));
    }
    let (status, _) = fetch(&stack, &format!("http://127.0.0.1:{port}/nothing")).await;
    assert_eq!(status, 404);

    // A head line longer than the adapter's transmit buffer (formatted in parts, each part
    // formatted again from the start) arrives whole.
    let conn = stack
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .expect("connect");
    conn.write_all(b"GET /long HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("send the request");
    let got = String::from_utf8(read_to_end(&conn).await).expect("an ASCII answer");
    let expected = format!("\r\nX-Long: {}\r\n", LongValue);
    assert!(got.contains(&expected), "the long header was cut: {got:?}");
    assert!(got.ends_with("\r\n\r\nlong"), "{got:?}");

    // A streamed answer that flushes and then waits: what it flushed arrives although the
    // connection neither reads nor writes again (the adapter sends it before the executor
    // idles). Written and not flushed, as picoserve's server-sent events are, after a pause:
    // the same.
    streamed_start_arrives(&stack, port, "/stalled").await;
    streamed_start_arrives(&stack, port, "/unflushed").await;
}

/// Asks `path` of the picoserve server on `port` and waits for the start of its answer,
/// `first` and `second`. 10 s: it would never come otherwise.
async fn streamed_start_arrives(stack: &Stack, port: u16, path: &str) {
    let conn = stack
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .expect("connect");
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .expect("send the request");
    let mut got = Vec::new();
    let arrived = petrel_time::timeout(Duration::from_secs(10), async {
        while !got.ends_with(b"second") {
            let mut buf = [0u8; 512];
            let n = conn.read(&mut buf).await.expect("read the answer");
            assert!(n > 0, "end of stream: {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(
        arrived.is_ok(),
        "{path}: the start of a streamed answer was not sent: {:?}",
        String::from_utf8_lossy(&got)
    );
}

/// Reads `conn` until the peer closes it.
async fn read_to_end(conn: &petrel_stack::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    loop {
        let mut buf = [0u8; 1024];
        match conn.read(&mut buf).await.expect("read") {
            0 => return got,
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A header value of 5,000 bytes in 500 pieces: longer than the picoserve adapter's
/// 2 KiB transmit buffer, with pieces that straddle its boundary.
struct LongValue;

impl std::fmt::Display for LongValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (0..500).try_for_each(|i| write!(f, "{:09}|", i * 7))
    }
}

/// A picoserve body that sends `first`, then 50 ms later `second` (formatted), each flushed if
/// `.0`, and then waits forever for the rest.
struct Stalled(bool);

impl picoserve::response::Content for Stalled {
    fn content_type(&self) -> &'static str {
        "text/plain"
    }

    fn content_length(&self) -> usize {
        20 // more than is sent: the rest never comes
    }

    async fn write_content<W: picoserve::io::Write>(self, mut out: W) -> Result<(), W::Error> {
        out.write_all(b"first").await?;
        if self.0 {
            out.flush().await?;
        }
        petrel_time::sleep(Duration::from_millis(50)).await;
        // Formatted, as picoserve writes heads, chunk sizes and formatted event data.
        out.write_fmt(format_args!("{}", "second")).await?;
        if self.0 {
            out.flush().await?;
        }
        std::future::pending().await
    }
}

async fn dns_answers_and_errors(dns: SocketAddr) {
    let stack = Stack::acquire("stack").expect("the socket stack");
    resolver::set_servers(&[dns]);
    assert_eq!(
        stack.resolve("petrel.test").await,
        Ok(vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()])
    );
    assert_eq!(stack.resolve("Petrel.Test.").await.map(|a| a.len()), Ok(2));
    assert_eq!(
        stack.resolve("v6only.test").await,
        Ok(vec!["fd00::5".parse().unwrap()])
    );
    assert_eq!(
        stack.resolve("10.1.2.3").await,
        Ok(vec!["10.1.2.3".parse().unwrap()])
    );
    assert_eq!(stack.resolve("missing.test").await, Err(DnsError::NxDomain));
    assert_eq!(stack.resolve("empty.test").await, Err(DnsError::NoAddress));
    assert_eq!(
        stack.resolve("broken.test").await,
        Err(DnsError::ServerFailure)
    );
    assert_eq!(stack.resolve("a..b").await, Err(DnsError::InvalidName));
    assert_eq!(DnsError::NxDomain.to_string(), "no such name (NXDOMAIN)");
    // A server that never answers: every try times out.
    let started = std::time::Instant::now();
    assert_eq!(stack.resolve("silent.test").await, Err(DnsError::TimedOut));
    let tries = resolver::TRY_TIMEOUT * resolver::TRIES as u32;
    assert!(
        started.elapsed() >= tries,
        "gave up after {:?}",
        started.elapsed()
    );
    // edge-nal's Dns says which family it wants.
    use edge_nal::{AddrType, Dns};
    let v6 = Dns::get_host_by_name(&stack, "petrel.test", AddrType::IPv6).await;
    assert_eq!(v6, Ok("::1".parse().unwrap()));
    let gone = Dns::get_host_by_name(&stack, "missing.test", AddrType::Either).await;
    assert_eq!(gone, Err(StackError::NotFound));
    resolver::set_servers(&[]);
}

async fn halves_in_two_tasks_readiness_and_abort() {
    let stack = Stack::acquire("stack").expect("the socket stack");
    let listener = stack
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .expect("listen");
    let addr = listener.local_addr().expect("local address");
    const LEN: usize = 300_000;

    // Both sides send LEN bytes while reading the other's, each side's halves in two tasks:
    // neither could finish if reading waited for writing or the other way round.
    let server_got = Rc::new(Cell::new(None));
    let got = server_got.clone();
    petrel_executor::spawn(async move {
        let (_, conn) = TcpAccept::accept(&listener).await.expect("accept");
        let (reader, mut writer) = conn.into_split();
        petrel_executor::spawn(async move {
            send_bytes(&mut writer, LEN).await;
            writer.shutdown().await.expect("shutdown");
        });
        got.set(Some(count_bytes(reader).await));
        // Then a second connection, which this side resets.
        let (_, mut conn) = TcpAccept::accept(&listener).await.expect("accept");
        conn.write_all(b"x").await.expect("write");
        TcpShutdown::abort(&mut conn).await.expect("abort");
    });
    let conn = stack.connect(addr).await.expect("connect");
    assert!(conn.write_ready().expect("write_ready"));
    let (reader, mut writer) = conn.into_split();
    petrel_executor::spawn(async move {
        send_bytes(&mut writer, LEN).await;
        writer.shutdown().await.expect("shutdown");
    });
    assert_eq!(count_bytes(reader).await, LEN);
    for _ in 0..100 {
        if server_got.get().is_some() {
            break;
        }
        embassy_time::Timer::after_millis(10).await;
    }
    assert_eq!(server_got.get(), Some(LEN));

    // The reset connection: readable, then a read fails with ConnectionReset.
    let mut conn = stack.connect(addr).await.expect("connect");
    edge_nal::Readable::readable(&mut conn)
        .await
        .expect("readable");
    assert!(ReadReady::read_ready(&mut conn).expect("read_ready"));
    let mut buf = [0u8; 16];
    let mut failed = None;
    for _ in 0..50 {
        match Read::read(&mut conn, &mut buf).await {
            // The byte written before the reset may come first.
            Ok(_) => embassy_time::Timer::after_millis(10).await,
            Err(e) => {
                failed = Some(embedded_io_async::Error::kind(&e));
                break;
            }
        }
    }
    assert_eq!(failed, Some(ErrorKind::ConnectionReset));
    let late = Write::write(&mut conn, b"late").await;
    let kind = late.map_err(|e| embedded_io_async::Error::kind(&e));
    assert!(
        matches!(
            kind,
            Err(ErrorKind::BrokenPipe | ErrorKind::ConnectionReset)
        ),
        "{kind:?}"
    );
    assert!(WriteReady::write_ready(&mut conn).is_ok());
}

async fn udp_through_edge_nal() {
    let stack = Stack::acquire("stack").expect("the socket stack");
    let mut a = UdpBind::bind(&stack, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let mut b = UdpBind::bind(&stack, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let b_addr = b.local_addr().expect("local address");
    UdpSend::send(&mut a, b_addr, b"datagram")
        .await
        .expect("send");
    edge_nal::Readable::readable(&mut b)
        .await
        .expect("readable");
    let mut buf = [0u8; 64];
    let (n, from) = UdpReceive::receive(&mut b, &mut buf)
        .await
        .expect("receive");
    assert_eq!(&buf[..n], b"datagram");
    assert_eq!(from, a.local_addr().expect("local address"));
    let joined = edge_nal::MulticastV4::join_v4(
        &mut a,
        "239.1.1.1".parse().unwrap(),
        "0.0.0.0".parse().unwrap(),
    )
    .await;
    assert_eq!(joined, Err(StackError::Unsupported));
}

#[test]
fn ecosystem_crates_run_over_the_socket_stack() {
    let responder = Responder::start();
    let dns = responder.addr();
    petrel_executor::block_on(async move {
        // Without a resolver (no `dns` device), names cannot be looked up; addresses can.
        let stack = Stack::acquire("stack").expect("the socket stack");
        assert_eq!(
            stack.resolve("petrel.test").await,
            Err(DnsError::NotConfigured)
        );
        assert_eq!(stack.resolve("::1").await, Ok(vec!["::1".parse().unwrap()]));
        // What a `dns` device's constructor does.
        petrel_stack::dns::set_resolver(resolver::lookup);
        http_over_edge_http_and_reqwless(dns).await;
        http_over_picoserve().await;
        dns_answers_and_errors(dns).await;
        halves_in_two_tasks_readiness_and_abort().await;
        udp_through_edge_nal().await;
    });
}
