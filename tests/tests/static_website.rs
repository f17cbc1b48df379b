//! examples/static_website end to end on unix with the socket stack: `petrel run` serves the
//! embedded htdocs/ over 127.0.0.1, checked with `curl` (bodies, content types, HEAD, 404)
//! and with a raw client (keep-alive, pipelining, a malformed request answered 400 while the
//! server keeps serving), and under 400 hostile requests.

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

/// Waits for an HTTP answer on `addr`, not just an open port: `petrel run` builds first.
fn wait_for_http(running: &mut Background, addr: SocketAddr) {
    let start = Instant::now();
    loop {
        match Conn::open(addr).and_then(|mut c| c.get("/")) {
            Ok(reply) => {
                assert_eq!(reply.status(), 200, "{reply:?}\n--- log\n{}", running.log());
                return;
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

    wait_for_http(&mut running, addr);
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

/// No bytes a client sends take the server down or hold a connection open: 400 requests
/// (byte soup; valid requests cut short, mutated, or followed by garbage; header lines with
/// no colon; a head over the 8 KiB buffer), each on its own connection that the client then
/// closes for writing, four clients at a time. Each connection must end within 10 s, and the
/// server must still serve `/` afterwards.
#[test]
fn static_website_survives_any_bytes() {
    let _lock = build_lock();
    let p = Scratch::example("static_website");
    let port = free_port();
    let mut running = Background::start(&p, &[format!("--port={port}")]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for_http(&mut running, addr);
    let clients: Vec<_> = (0..4u64)
        .map(|client| {
            std::thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (client + 1));
                // Answers seen: 200, 400, other, none (closed or reset without one).
                let mut seen = [0; 4];
                for i in 0..100 {
                    let request = rng.request();
                    let mut s = TcpStream::connect(addr).expect("connect");
                    s.set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("read timeout");
                    // The server may answer and close before it has read everything: a
                    // refused write is fine, a connection left open is not.
                    let _ = s.write_all(&request);
                    let _ = s.shutdown(std::net::Shutdown::Write);
                    let mut answer = Vec::new();
                    if let Err(e) = s.read_to_end(&mut answer) {
                        assert!(
                            e.kind() == io::ErrorKind::ConnectionReset,
                            "client {client}, request {i} ({request:?}): not closed: {e}"
                        );
                    }
                    let kind = match answer.get(..12) {
                        Some(b"HTTP/1.1 200") => 0,
                        Some(b"HTTP/1.1 400") => 1,
                        Some(_) => 2,
                        None => 3,
                    };
                    seen[kind] += 1;
                }
                seen
            })
        })
        .collect();
    let mut seen = [0; 4];
    for c in clients {
        let counts = c.join().expect("a client failed");
        seen.iter_mut()
            .zip(counts)
            .for_each(|(total, n)| *total += n);
    }
    eprintln!(
        "answers: {} 200, {} 400, {} other, {} none",
        seen[0], seen[1], seen[2], seen[3]
    );
    // The soup reaches the parser both ways: some requests are served, some refused.
    assert!(
        seen[0] > 0 && seen[1] > 0,
        "answers (200, 400, other, none): {seen:?}"
    );
    let mut c = Conn::open(addr).expect("connect after the soup");
    assert_eq!(c.get("/").expect("GET / after the soup").status(), 200);
    assert!(
        running.child.try_wait().expect("try_wait").is_none(),
        "the server died\n{}",
        running.log()
    );
}

/// A small deterministic generator of hostile requests (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn request(&mut self) -> Vec<u8> {
        let valid = b"GET /about/ HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n".to_vec();
        match self.below(6) {
            0 => {
                let len = self.below(1500);
                self.bytes(len)
            }
            1 => {
                let cut = self.below(valid.len());
                valid[..cut].to_vec()
            }
            2 => {
                let mut r = valid.clone();
                for _ in 0..1 + self.below(4) {
                    let at = self.below(r.len());
                    r[at] = self.next() as u8;
                }
                r
            }
            3 => {
                let mut r = valid.clone();
                let len = self.below(300);
                r.extend(self.bytes(len));
                r
            }
            4 => {
                let mut r = b"GET / HTTP/1.1\r\n".to_vec();
                for _ in 0..self.below(20) {
                    let len = self.below(40);
                    let line: Vec<u8> =
                        self.bytes(len).into_iter().filter(|&b| b != b':').collect();
                    r.extend(line);
                    r.extend(b"\r\n");
                }
                r.extend(b"\r\n");
                r
            }
            _ => {
                let mut r = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
                r.extend(std::iter::repeat_n(b'a', 9000 + self.below(4000)));
                r.extend(b"\r\n\r\n");
                r
            }
        }
    }
}
