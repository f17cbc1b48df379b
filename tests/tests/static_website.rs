//! examples/static_website end to end on unix with the socket stack: `petrel run` serves the
//! embedded htdocs/ over 127.0.0.1, checked with `curl` (bodies, content types, HEAD, 404)
//! and with a raw client (keep-alive, pipelining, a malformed request answered 400 while the
//! server keeps serving).

use petrel_e2e::{Background, Scratch, build_lock, free_port};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the first answer may take: `petrel run` configures and builds the example first.
const STARTUP: Duration = Duration::from_secs(120);

/// One HTTP response as read off the wire.
#[derive(Debug)]
struct Reply {
    /// The status line and headers, without the empty line.
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn status(&self) -> u16 {
        self.head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {:?}", self.head))
    }

    /// A header's value (case-insensitive name).
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one response framed by `Content-Length` (no body for a response to HEAD).
fn read_reply(r: &mut impl BufRead, head_request: bool) -> io::Result<Reply> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("end of stream inside a response head: {head:?}"),
            ));
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let mut reply = Reply {
        head,
        body: Vec::new(),
    };
    if !head_request {
        let len: usize = reply
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| io::Error::other(format!("no Content-Length: {:?}", reply.head)))?;
        reply.body = vec![0; len];
        r.read_exact(&mut reply.body)?;
    }
    Ok(reply)
}

/// A raw HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            reader: BufReader::new(stream),
        })
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.reader.get_mut().write_all(bytes)
    }

    fn get(&mut self, path: &str) -> io::Result<Reply> {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())?;
        read_reply(&mut self.reader, false)
    }

    /// Whether the server closed the connection (end of stream, or a reset).
    fn closed_by_server(&mut self) -> bool {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => rest.is_empty(),
            Err(e) => e.kind() == io::ErrorKind::ConnectionReset,
        }
    }
}

/// `curl -sS ARGS...`: its standard output, or a panic with its error.
fn curl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn have_curl() -> bool {
    Command::new("sh")
        .args(["-c", "command -v curl"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn static_website_serves_htdocs_over_127_0_0_1() {
    assert!(
        have_curl(),
        "curl is not installed: this test drives the server with it (apt-get install curl)"
    );
    let _lock = build_lock();
    let p = Scratch::example("static_website");
    let htdocs = petrel_e2e::repo().join("examples/static_website/htdocs");
    let file = |rel: &str| std::fs::read(htdocs.join(rel)).expect("read htdocs file");
    let port = free_port();
    let mut running = Background::start(&p, &[format!("--port={port}")]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    // Wait for an HTTP answer, not just an open port.
    let start = Instant::now();
    loop {
        match Conn::open(addr).and_then(|mut c| c.get("/")) {
            Ok(reply) => {
                assert_eq!(reply.status(), 200, "{reply:?}\n--- log\n{}", running.log());
                break;
            }
            Err(e) => {
                if let Ok(Some(status)) = running.child.try_wait() {
                    panic!("petrel run exited {status}\n--- log\n{}", running.log());
                }
                assert!(
                    start.elapsed() < STARTUP,
                    "no HTTP answer on {addr} after {STARTUP:?} ({e})\n--- log\n{}",
                    running.log()
                );
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    // `petrel run` built the image into dist/: what it says about itself.
    petrel_e2e::inspect::check(
        &p,
        "static-website",
        "unix",
        &p.dir.join("dist/static-website"),
    );

    // curl: bodies and content types.
    let index = curl(&[&url("/")]);
    assert_eq!(index, file("index.html"), "GET / is index.html");
    let ctype = curl(&["-o", "/dev/null", "-w", "%{content_type}", &url("/")]);
    assert!(
        String::from_utf8_lossy(&ctype).starts_with("text/html"),
        "{ctype:?}"
    );
    assert_eq!(curl(&[&url("/index.html")]), file("index.html"));
    let ctype = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{content_type}",
        &url("/style.css"),
    ]);
    assert!(
        String::from_utf8_lossy(&ctype).starts_with("text/css"),
        "{ctype:?}"
    );
    assert_eq!(curl(&[&url("/style.css")]), file("style.css"));
    let png = curl(&[&url("/petrel.png")]);
    assert!(png == file("petrel.png"), "petrel.png differs: {png:?}");
    let ctype = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{content_type}",
        &url("/petrel.png"),
    ]);
    assert_eq!(ctype, b"image/png");
    for path in ["/about", "/about/"] {
        assert_eq!(curl(&[&url(path)]), file("about/index.html"), "{path}");
    }

    // HEAD: the headers of GET, no body.
    let head = String::from_utf8(curl(&["-I", &url("/style.css")])).expect("ASCII head");
    // The reason phrase is optional (RFC 9112, section 4): picoserve sends none.
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let len = file("style.css").len();
    assert!(
        head.contains(&format!("Content-Length: {len}\r\n")),
        "{head}"
    );
    assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head:?}");
    let mut c = Conn::open(addr).expect("connect");
    c.send(b"HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let reply = read_reply(&mut c.reader, true).expect("HEAD reply");
    assert_eq!(reply.status(), 200);
    // The next bytes are the next response, not a body: HEAD sent none.
    let reply = c.get("/style.css").expect("GET after HEAD");
    assert_eq!(reply.body, file("style.css"));

    // 404 with a small body.
    let code = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &url("/missing.html"),
    ]);
    assert_eq!(code, b"404");
    assert_eq!(curl(&[&url("/nope/")]), b"404 Not Found\n");

    // Two requests on one keep-alive connection, then two pipelined in one write.
    let mut c = Conn::open(addr).expect("connect");
    let a = c.get("/").expect("first request");
    let b = c
        .get("/petrel.png")
        .expect("second request on the same connection");
    assert_eq!((a.status(), b.status()), (200, 200));
    assert_eq!(a.body, file("index.html"));
    assert_eq!(b.body, file("petrel.png"));
    assert_eq!(b.header("content-type"), Some("image/png"));
    c.send(
        b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /about/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .expect("send pipelined");
    let r1 = read_reply(&mut c.reader, false).expect("pipelined 1");
    let r2 = read_reply(&mut c.reader, false).expect("pipelined 2");
    let r3 = read_reply(&mut c.reader, false).expect("pipelined 3");
    assert_eq!((r1.status(), r2.status(), r3.status()), (200, 404, 200));
    assert_eq!(r1.body, file("style.css"));
    assert_eq!(r3.body, file("about/index.html"));
    assert_eq!(r3.header("connection"), Some("close"));
    assert!(c.closed_by_server(), "Connection: close is honoured");

    // A malformed request: 400, the connection closes, and the server keeps serving.
    let mut c = Conn::open(addr).expect("connect");
    c.send(b"THIS IS NOT HTTP\r\n\r\n").expect("send garbage");
    let reply = read_reply(&mut c.reader, false).expect("reply to garbage");
    assert_eq!(reply.status(), 400, "{reply:?}");
    assert!(c.closed_by_server());
    let mut c = Conn::open(addr).expect("connect");
    c.send(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let reply = read_reply(&mut c.reader, false).expect("reply to DELETE");
    assert_eq!(reply.status(), 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    assert_eq!(c.get("/").expect("GET after 405").body, file("index.html"));
    assert_eq!(curl(&[&url("/")]), file("index.html"), "still serving");

    let log = running.log();
    assert!(
        log.contains(&format!("listening on 0.0.0.0:{port}")),
        "{log}"
    );
    assert!(
        running.child.try_wait().expect("try_wait").is_none(),
        "the server is still running\n{log}"
    );
}

/// The hand-written server's HTTP logic (`examples/static_website_handwritten/src/http.rs`,
/// kept until the bench compares it with the picoserve one) has unit tests that run on the
/// host with a plain `cargo test` in the example: run here so that the test suite runs them.
#[test]
fn static_website_http_unit_tests_pass_on_the_host() {
    let _lock = build_lock();
    let p = Scratch::example("static_website_handwritten");
    // Beside the e2e caches of `petrel_e2e::petrel`: <target>/e2e-cache/host.
    let exe = std::env::current_exe().expect("test executable path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("test binary lives in target/<profile>/deps")
        .join("e2e-cache/host");
    let ran = petrel_e2e::expect(
        Command::new(env!("CARGO"))
            .current_dir(&p.dir)
            .env("CARGO_TARGET_DIR", target)
            .args(["test", "--lib"]),
        0,
    );
    let all = ran.all();
    assert!(
        all.contains("http::tests::never_panics_on_any_bytes ... ok"),
        "{all}"
    );
    assert!(all.contains("test result: ok."), "{all}");
}
