//! An HTTP application written from picoserve's documentation (tests/fixtures/picoserve_app,
//! not one of the examples) built and served on unix (socket stack, 127.0.0.1), spt (direct
//! stack, user-mode network and `--publish`) and virtio (direct stack, QEMU's user network
//! and `--publish`). Each boot is checked route by route with a raw HTTP/1.1 client on
//! 127.0.0.1: text, a path parameter, query and form extraction, JSON, a POSTed body echoed
//! back, state shared by connections, a chunked answer, server-sent events that are written
//! without a flush (regression: they stayed in Petrel's transmit buffer), a static file with
//! its ETag, a redirect, a custom 404 and 405, all but the events on one keep-alive
//! connection; and a WebSocket echo.
//!
//! Without QEMU (virtio) or libslirp (spt) a test prints a loud SKIPPED line, except under CI
//! (`CI` set), where that is a failure.

use petrel_e2e::{
    Background, Scratch, build_lock, can_boot, expect, free_port, have_libslirp, petrel, wait_for,
};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long the first answer may take: `petrel run` checks the build, the direct stack gets
/// its lease, and a virtio guest boots under TCG.
const STARTUP: Duration = Duration::from_secs(180);

/// The greeting passed as a boot argument (`--greeting`), answered by `/hello/NAME`.
const GREETING: &str = "Bonjour";

/// One response as read off the wire.
#[derive(Debug)]
struct Reply {
    status: u16,
    /// Header lines as (lower-case name, value).
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP/1.1 connection to 127.0.0.1:`port`.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            reader: BufReader::new(stream),
        })
    }

    /// Sends one request (`body` with its Content-Length, if any) and reads its head.
    fn send(&mut self, method: &str, path: &str, extra: &str, body: &[u8]) -> io::Result<Reply> {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}").into_bytes();
        if !body.is_empty() || method == "POST" {
            req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);
        self.reader.get_mut().write_all(&req)?;
        self.head()
    }

    /// A whole response: the head, then a body framed by Content-Length or chunked (none for
    /// HEAD, 304 or a head only).
    fn request(&mut self, method: &str, path: &str, extra: &str, body: &[u8]) -> io::Result<Reply> {
        let mut reply = self.send(method, path, extra, body)?;
        if method == "HEAD" || reply.status == 304 {
            return Ok(reply);
        }
        if reply.header("transfer-encoding") == Some("chunked") {
            reply.body = self.chunks()?;
        } else {
            let len: usize = reply
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| io::Error::other(format!("no Content-Length: {reply:?}")))?;
            reply.body = vec![0; len];
            self.reader.read_exact(&mut reply.body)?;
        }
        Ok(reply)
    }

    fn get(&mut self, path: &str) -> io::Result<Reply> {
        self.request("GET", path, "", &[])
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        Ok(line)
    }

    fn head(&mut self) -> io::Result<Reply> {
        let status_line = self.line()?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.line()?;
            if line == "\r\n" {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| io::Error::other(format!("bad header {line:?}")))?;
            headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
        }
        Ok(Reply {
            status,
            headers,
            body: Vec::new(),
        })
    }

    /// Sends a final WebSocket frame (masked, as from a client) of at most 125 bytes.
    fn frame(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let len = u8::try_from(payload.len()).expect("a short test frame");
        let mut frame = vec![0x80 | opcode, 0x80 | len];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        self.reader.get_mut().write_all(&frame)
    }

    /// Reads a short unmasked WebSocket frame (as from a server): its opcode and payload.
    fn read_frame(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let mut head = [0; 2];
        self.reader.read_exact(&mut head)?;
        let mut payload = vec![0; usize::from(head[1] & 0x7f)];
        self.reader.read_exact(&mut payload)?;
        Ok((head[0] & 0x0f, payload))
    }

    /// A chunked body, decoded.
    fn chunks(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let size = self.line()?;
            let size = usize::from_str_radix(size.trim(), 16)
                .map_err(|_| io::Error::other(format!("bad chunk size {size:?}")))?;
            let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
            self.reader.read_exact(&mut chunk)?;
            if size == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

/// Checks every route of the application listening on 127.0.0.1:`port` (the log of
/// `running` in failures).
fn check_routes(port: u16, running: &Background) {
    let log = || format!("\n--- log\n{}", running.log());
    let mut c = Conn::open(port).unwrap_or_else(|e| panic!("connect: {e}{}", log()));
    let get = |c: &mut Conn, path: &str| {
        c.get(path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}{}", log()))
    };

    let r = get(&mut c, "/");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "Hello from picoserve on Petrel\n")
    );
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("connection"), Some("keep-alive"), "{r:?}");
    let r = get(&mut c, "/hello/petrel%20user");
    assert_eq!(
        r.text(),
        format!("{GREETING}, petrel user!\n"),
        "path parameter"
    );
    let r = get(&mut c, "/sum?a=40&b=2");
    assert_eq!((r.status, r.text().as_str()), (200, "42\n"), "query");
    let r = get(&mut c, "/sum?a=forty&b=2");
    assert_eq!(r.status, 400, "a query that does not parse: {r:?}");
    let form = b"a=-5&b=12";
    let extra = "Content-Type: application/x-www-form-urlencoded\r\n";
    let r = c.request("POST", "/sum", extra, form).expect("POST /sum");
    assert_eq!((r.status, r.text().as_str()), (200, "7\n"), "form");

    // A binary body larger than the connection's 2 KiB buffers, echoed back.
    let body: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 256) as u8).collect();
    let r = c.request("POST", "/echo", "", &body).expect("POST /echo");
    assert_eq!(r.status, 200);
    assert!(r.body == body, "the echo differs{}", log());
    assert_eq!(r.header("x-echo-length"), Some("5000"), "a custom header");
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));

    // State shared by connections: visits counted on this one, read on another.
    assert_eq!(get(&mut c, "/count").text(), "visit 1\n");
    assert_eq!(get(&mut c, "/count").text(), "visit 2\n");
    let mut other = Conn::open(port).expect("a second connection");
    let r = get(&mut other, "/json");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"{"name":"picoserve-app","server":"petrel","visits":2,"primes":[2,3,5,7]}"#
    );
    drop(other);

    let r = get(&mut c, "/chunked");
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.text(), "streamed by picoserve over petrel");

    let r = get(&mut c, "/page.html");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.text(), "<!doctype html><h1>picoserve</h1>\n");
    let etag = r.header("etag").expect("File sends an ETag").to_string();
    let r = c.request("HEAD", "/page.html", "", &[]).expect("HEAD");
    assert_eq!((r.status, r.header("content-length")), (200, Some("34")));
    let r = c
        .request(
            "GET",
            "/page.html",
            &format!("If-None-Match: {etag}\r\n"),
            &[],
        )
        .expect("conditional GET");
    assert_eq!(r.status, 304, "{r:?}");

    let r = get(&mut c, "/old");
    assert_eq!((r.status, r.header("location")), (303, Some("/")));
    let r = get(&mut c, "/no/such/page");
    assert_eq!(
        (r.status, r.text().as_str()),
        (404, "no route for /no/such/page\n")
    );
    let r = c.request("DELETE", "/json", "", &[]).expect("DELETE");
    assert_eq!(r.status, 405);

    // Server-sent events, written without a flush: three arrive while the stream goes on.
    let mut events = Conn::open(port).expect("connect for /events");
    let r = events.send("GET", "/events", "", &[]).expect("GET /events");
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let mut data = Vec::new();
    while data.len() < 3 {
        let line = events
            .line()
            .unwrap_or_else(|e| panic!("event {}: {e}{}", data.len() + 1, log()));
        if let Some(d) = line.strip_prefix("data:") {
            data.push(d.trim().to_string());
        }
    }
    assert_eq!(data, ["1", "2", "3"]);
    drop(events);

    // A WebSocket: the handshake (RFC 6455's example key), a text and a binary message
    // echoed, then a close answered with a close.
    let mut ws = Conn::open(port).expect("connect for /ws");
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    let r = ws.send("GET", "/ws", upgrade, &[]).expect("GET /ws");
    assert_eq!(r.status, 101, "{r:?}");
    assert_eq!(
        r.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    for (opcode, payload) in [(1, &b"hello petrel"[..]), (2, &[0, 1, 2, 255][..])] {
        ws.frame(opcode, payload).expect("send a frame");
        let echoed = ws
            .read_frame()
            .unwrap_or_else(|e| panic!("echo: {e}{}", log()));
        assert_eq!(echoed, (opcode, payload.to_vec()));
    }
    ws.frame(8, &1000u16.to_be_bytes()).expect("send a close");
    assert_eq!(ws.read_frame().expect("the close").0, 8);
    drop(ws);

    // Still serving, on a new connection (the first may have idled out by now).
    let r = get(&mut Conn::open(port).expect("connect"), "/");
    assert_eq!(r.status, 200, "{}", log());
}

/// `GET /` on 127.0.0.1:`port` answered 200.
fn answers(port: u16) -> Result<(), String> {
    let r = Conn::open(port)
        .and_then(|mut c| c.get("/"))
        .map_err(|e| e.to_string())?;
    (r.status == 200)
        .then_some(())
        .ok_or(format!("status {}", r.status))
}

/// Builds the application for `target`, boots it and checks every route through
/// 127.0.0.1: its own port on unix, a host port published to its 8080 elsewhere.
fn serves_every_route(target: &str) {
    let app = Scratch::fixture("picoserve_app");
    {
        let _lock = build_lock();
        expect(
            petrel(&app.dir, target).args(["build", "--target", target]),
            0,
        );
    }
    let port = free_port();
    let mut cmd = petrel(&app.dir, target);
    cmd.args(["run", "--target", target]);
    if target == "unix" {
        cmd.args(["--", &format!("--port={port}")]);
    } else {
        cmd.args(["--publish", &format!("{port}:8080"), "--"]);
    }
    cmd.arg(format!("--greeting={GREETING}"));
    let mut running = Background::spawn(&mut cmd, app.dir.join("run.log"));
    wait_for("GET / answered", STARTUP, &mut running, |_| answers(port));
    check_routes(port, &running);
    assert!(
        running.exited().is_none(),
        "the server is still running\n{}",
        running.log()
    );
}

#[test]
fn unix_socket_stack_serves_the_picoserve_app() {
    serves_every_route("unix");
}

#[test]
fn spt_direct_stack_serves_the_picoserve_app_through_publish() {
    if have_libslirp("spt_direct_stack_serves_the_picoserve_app_through_publish") {
        serves_every_route("spt");
    }
}

#[test]
fn virtio_direct_stack_serves_the_picoserve_app_through_qemu_user_networking() {
    let test = "virtio_direct_stack_serves_the_picoserve_app_through_qemu_user_networking";
    if can_boot(test, "virtio") {
        serves_every_route("virtio");
    }
}

/// picoserve's `embassy` feature (embassy-net's sockets; it broke direct-stack builds deep
/// inside smoltcp 0.13) is refused by configure in one line that says what to do instead.
#[test]
fn picoserve_embassy_feature_is_refused_in_one_line() {
    let app = Scratch::fixture("picoserve_app");
    let cargo_toml = app.dir.join("Cargo.toml");
    let text = app.read("Cargo.toml");
    let with_embassy = text.replace(r#""ws", "alloc"]"#, r#""ws", "alloc", "embassy"]"#);
    assert_ne!(
        with_embassy, text,
        "the fixture's picoserve features changed"
    );
    std::fs::write(&cargo_toml, with_embassy).expect("write Cargo.toml");
    let ran = expect(
        petrel(&app.dir, "spt").args(["configure", "--target", "spt"]),
        1,
    );
    let errors: Vec<&str> = ran.stderr.lines().filter(|l| l.contains("error")).collect();
    assert!(
        errors.len() == 1
            && errors[0].contains("picoserve 0.20")
            && errors[0].contains("its `embassy` feature is on")
            && errors[0]
                .contains("picoserve::Server::custom(&app, petrel::stack::picoserve::Timer"),
        "{}",
        ran.stderr
    );
    assert!(
        !app.dir.join(".petrel/app").exists(),
        "nothing is generated"
    );
}
