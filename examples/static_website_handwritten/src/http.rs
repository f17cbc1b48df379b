//! The server's HTTP/1.1 logic, apart from the network: bytes of requests in, responses out.
//!
//! [`next`] takes the bytes a connection has received so far and either asks for more
//! ([`Next::Incomplete`]) or answers the first request in them ([`Next::Respond`], which says
//! how many bytes that request used, so that pipelined requests follow). Files come from a
//! [`Files`] (the `htdocs` store in the unikernel, a table in the tests), so this module has
//! no device in it and its tests run on the host with `cargo test`.
//!
//! What it does:
//!
//! - parses with `httparse` (HTTP/1.0 and 1.1); a request it cannot parse is `400`, and the
//!   connection closes after the answer;
//! - `GET` and `HEAD` (the same headers, no body); any other method is `405` with `Allow`;
//! - the path is percent-decoded, its query dropped, `.` and empty segments ignored and `..`
//!   resolved (`400` if it climbs above the root); `/` and every directory serve their
//!   `index.html` (`/about` and `/about/` alike); a missing file is `404`;
//! - `Content-Type` from the extension, `Content-Length` always;
//! - keep-alive: HTTP/1.1 keeps the connection unless the request says `Connection: close`,
//!   HTTP/1.0 closes it unless the request says `Connection: keep-alive`; a request with a
//!   body (this server reads none) is answered, then the connection closes;
//! - limits: a request head of at most [`MAX_HEAD`] bytes and [`MAX_HEADERS`] header lines,
//!   else `431` and close. Nothing here panics, whatever the bytes.
//!
//! A file's answer names the file and its length ([`Body::File`]) instead of holding its
//! bytes: the server reads and sends it in chunks, so a connection's memory does not grow
//! with the file.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;

/// The largest request head (request line and headers) the server buffers, in bytes.
pub const MAX_HEAD: usize = 8 * 1024;

/// The most header lines a request may have.
pub const MAX_HEADERS: usize = 32;

/// A response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Bytes in memory (error pages; nothing for HEAD).
    Bytes(Cow<'static, [u8]>),
    /// The first `len` bytes of the file `key`, to be read as they are sent.
    File {
        /// The file's key.
        key: String,
        /// Its length when the request was answered (the `Content-Length`).
        len: u64,
    },
}

impl Body {
    /// The body's length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::File { len, .. } => *len,
        }
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a key names in the served directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A file, with its length in bytes.
    File(u64),
    /// A directory.
    Directory,
    /// Nothing (or the store could not read it).
    Missing,
}

/// The served files, by key (`index.html`, `about/index.html`; the root is `""`). Keys given
/// to [`Files::find`] are already normalised: no empty, `.` or `..` segments.
pub trait Files {
    /// What `key` names. (Not `Send`: the executor is single-threaded.)
    fn find(&self, key: &str) -> impl Future<Output = Found>;
}

/// The status codes this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 200: the file follows.
    Ok,
    /// 400: the request could not be parsed or is not allowed (a path above the root).
    BadRequest,
    /// 404: no such file.
    NotFound,
    /// 405: a method other than GET and HEAD.
    MethodNotAllowed,
    /// 408: the request head did not arrive in time (the server closes the connection).
    RequestTimeout,
    /// 431: the request head is larger than [`MAX_HEAD`] or has more than [`MAX_HEADERS`]
    /// lines.
    HeadTooLarge,
}

impl Status {
    /// The status line's code and reason phrase.
    pub fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::RequestTimeout => "408 Request Timeout",
            Status::HeadTooLarge => "431 Request Header Fields Too Large",
        }
    }
}

/// One response: the head (status line and headers) and the body to send after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status.
    pub status: Status,
    /// The status line and headers, ending with the empty line.
    pub head: Vec<u8>,
    /// The body (empty for HEAD requests).
    pub body: Body,
    /// Whether the connection closes after this response.
    pub close: bool,
}

/// What [`next`] made of the bytes received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// No complete request head yet: read more bytes (the buffer is below [`MAX_HEAD`]).
    Incomplete,
    /// The first request, answered.
    Respond {
        /// How many bytes of the buffer that request used (its head).
        consumed: usize,
        /// The answer.
        response: Response,
    },
}

/// Answers the first request in `buf`, the bytes a connection has received and not yet
/// consumed.
pub async fn next(buf: &[u8], files: &impl Files) -> Next {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let consumed = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Next::Incomplete,
        Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
            return refuse(buf.len(), Status::HeadTooLarge, false);
        }
        Err(_) => return refuse(buf.len(), Status::BadRequest, false),
    };
    let head_only = req.method == Some("HEAD");
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return refuse(consumed, Status::BadRequest, head_only);
    };

    let mut close = version == 0;
    let mut hosts = 0;
    let mut has_body = false;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && version == 0 {
                    close = false;
                }
            }
        } else if h.name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if h.name.eq_ignore_ascii_case("content-length") {
            match parse_length(h.value) {
                Some(0) => {}
                Some(_) => has_body = true,
                None => return refuse(consumed, Status::BadRequest, head_only),
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        }
    }
    // RFC 9112, section 3.2: an HTTP/1.1 request has exactly one Host header.
    if version == 1 && hosts != 1 {
        return refuse(consumed, Status::BadRequest, head_only);
    }
    // The body is not read, so the connection cannot carry another request after it.
    close |= has_body;

    if method != "GET" && method != "HEAD" {
        let response = error(Status::MethodNotAllowed, false, close);
        return Next::Respond { consumed, response };
    }
    let Some(key) = key_of(target) else {
        return refuse(consumed, Status::BadRequest, head_only);
    };
    let (key, len) = match files.find(&key).await {
        Found::File(len) => (key, len),
        Found::Directory => {
            let index = if key.is_empty() {
                String::from("index.html")
            } else {
                key + "/index.html"
            };
            match files.find(&index).await {
                Found::File(len) => (index, len),
                Found::Directory | Found::Missing => {
                    let response = error(Status::NotFound, head_only, close);
                    return Next::Respond { consumed, response };
                }
            }
        }
        Found::Missing => {
            let response = error(Status::NotFound, head_only, close);
            return Next::Respond { consumed, response };
        }
    };
    let head = head(Status::Ok, content_type(&key), len, close, version);
    let body = if head_only {
        Body::Bytes(Cow::Borrowed(&[]))
    } else {
        Body::File { key, len }
    };
    Next::Respond {
        consumed,
        response: Response {
            status: Status::Ok,
            head,
            body,
            close,
        },
    }
}

/// An error answer that closes the connection.
fn refuse(consumed: usize, status: Status, head_only: bool) -> Next {
    Next::Respond {
        consumed,
        response: error(status, head_only, true),
    }
}

/// The answer to a request whose head did not arrive in time: 408, and the connection
/// closes.
pub fn timed_out() -> Response {
    error(Status::RequestTimeout, false, true)
}

/// An error response with a one-line text body (none for HEAD).
fn error(status: Status, head_only: bool, close: bool) -> Response {
    let text = status.line();
    let mut head = head(
        status,
        "text/plain; charset=utf-8",
        text.len() as u64 + 1,
        close,
        1,
    );
    if status == Status::MethodNotAllowed {
        // Before the empty line that ends the head.
        head.truncate(head.len() - 2);
        head.extend_from_slice(b"Allow: GET, HEAD\r\n\r\n");
    }
    let body = if head_only {
        Vec::new()
    } else {
        let mut body = Vec::with_capacity(text.len() + 1);
        body.extend_from_slice(text.as_bytes());
        body.push(b'\n');
        body
    };
    Response {
        status,
        head,
        body: Body::Bytes(Cow::Owned(body)),
        close,
    }
}

/// A response head. An HTTP/1.0 client that keeps the connection is told so.
fn head(status: Status, content_type: &str, length: u64, close: bool, version: u8) -> Vec<u8> {
    let mut h = Vec::with_capacity(160);
    h.extend_from_slice(b"HTTP/1.1 ");
    h.extend_from_slice(status.line().as_bytes());
    h.extend_from_slice(b"\r\nServer: petrel\r\nContent-Type: ");
    h.extend_from_slice(content_type.as_bytes());
    h.extend_from_slice(b"\r\nContent-Length: ");
    push_decimal(&mut h, length);
    if close {
        h.extend_from_slice(b"\r\nConnection: close");
    } else if version == 0 {
        h.extend_from_slice(b"\r\nConnection: keep-alive");
    }
    h.extend_from_slice(b"\r\n\r\n");
    h
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A `Content-Length` value: decimal digits only (no sign, no spaces inside), or `None`.
fn parse_length(value: &[u8]) -> Option<u64> {
    let value = value.trim_ascii();
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// The store key a request target names, or `None` if the target is not acceptable: not a
/// path (`*`, garbage), a bad percent escape, not UTF-8, a NUL byte, or above the root.
///
/// `/` is `""`; `/a//./b/../c.txt?x=1` is `a/c.txt`. An absolute target
/// (`http://host/path`) is taken by its path.
pub fn key_of(target: &str) -> Option<String> {
    let path = if target.starts_with('/') {
        target
    } else {
        let scheme_len = ["http://", "https://"].into_iter().find_map(|s| {
            let prefix = target.get(..s.len())?;
            prefix.eq_ignore_ascii_case(s).then_some(s.len())
        })?;
        let rest = &target[scheme_len..];
        rest.find('/').map_or("/", |i| &rest[i..])
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path.as_bytes())?;
    let decoded = String::from_utf8(decoded).ok()?;
    if decoded.contains('\0') {
        return None;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            s => segments.push(s),
        }
    }
    Some(segments.join("/"))
}

/// `%XX` escapes decoded (`+` stays `+` in paths), or `None` for a bad escape.
fn percent_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let hi = hex(*s.get(i + 1)?)?;
            let lo = hex(*s.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

/// The value of one hexadecimal digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The `Content-Type` of a key, by its extension (case-insensitive);
/// `application/octet-stream` when unknown.
pub fn content_type(key: &str) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key);
    let Some((_, ext)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    const TYPES: &[(&str, &str)] = &[
        ("html", "text/html; charset=utf-8"),
        ("htm", "text/html; charset=utf-8"),
        ("css", "text/css; charset=utf-8"),
        ("js", "text/javascript; charset=utf-8"),
        ("mjs", "text/javascript; charset=utf-8"),
        ("json", "application/json"),
        ("txt", "text/plain; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
        ("csv", "text/csv; charset=utf-8"),
        ("xml", "application/xml"),
        ("svg", "image/svg+xml"),
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("gif", "image/gif"),
        ("webp", "image/webp"),
        ("avif", "image/avif"),
        ("ico", "image/vnd.microsoft.icon"),
        ("wasm", "application/wasm"),
        ("pdf", "application/pdf"),
        ("woff", "font/woff"),
        ("woff2", "font/woff2"),
        ("ttf", "font/ttf"),
        ("otf", "font/otf"),
        ("mp3", "audio/mpeg"),
        ("ogg", "audio/ogg"),
        ("wav", "audio/wav"),
        ("mp4", "video/mp4"),
        ("webm", "video/webm"),
        ("zip", "application/zip"),
        ("gz", "application/gzip"),
        ("tar", "application/x-tar"),
    ];
    TYPES
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map_or("application/octet-stream", |&(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};

    /// A few files, as the crunch store would give them.
    struct Table(&'static [(&'static str, &'static [u8])]);

    impl Files for Table {
        async fn find(&self, key: &str) -> Found {
            if let Some(v) = self.file(key) {
                return Found::File(v.len() as u64);
            }
            let dir = key.is_empty()
                || self
                    .0
                    .iter()
                    .any(|(k, _)| k.starts_with(&format!("{key}/")));
            if dir {
                Found::Directory
            } else {
                Found::Missing
            }
        }
    }

    impl Table {
        fn file(&self, key: &str) -> Option<&'static [u8]> {
            self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
        }
    }

    /// The bytes a response's body stands for (a file's, read from the table).
    fn bytes(r: &Response) -> Vec<u8> {
        match &r.body {
            Body::Bytes(b) => b.to_vec(),
            Body::File { key, len } => {
                let v = SITE.file(key).expect("the body names a file of the table");
                assert_eq!(*len, v.len() as u64, "the body's length is the file's");
                v.to_vec()
            }
        }
    }

    const SITE: Table = Table(&[
        ("index.html", b"<h1>home</h1>"),
        ("style.css", b"h1{}"),
        ("img/logo.png", b"\x89PNG\r\n\x1a\n\0\xff"),
        ("about/index.html", b"about"),
        ("empty/readme.txt", b"no index here"),
        ("a b.txt", b"spaced"),
    ]);

    /// Runs a future that never waits (the table answers at once).
    fn now<F: Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the table never waits"),
        }
    }

    fn answer(req: &[u8]) -> (usize, Response) {
        match now(next(req, &SITE)) {
            Next::Respond { consumed, response } => (consumed, response),
            Next::Incomplete => panic!("incomplete: {:?}", String::from_utf8_lossy(req)),
        }
    }

    fn head_text(r: &Response) -> String {
        String::from_utf8(r.head.clone()).expect("heads are ASCII")
    }

    fn get(path: &str) -> Response {
        answer(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).1
    }

    #[test]
    fn serves_index_with_type_and_length() {
        let r = get("/");
        assert_eq!(r.status, Status::Ok);
        assert_eq!(
            head_text(&r),
            "HTTP/1.1 200 OK\r\nServer: petrel\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Length: 13\r\n\r\n"
        );
        assert_eq!(bytes(&r), b"<h1>home</h1>");
        assert!(!r.close);
        assert!(
            matches!(&r.body, Body::File { key, len: 13 } if key == "index.html"),
            "the file is named, not read: {:?}",
            r.body
        );
    }

    #[test]
    fn content_types() {
        assert!(
            head_text(&get("/style.css")).contains("Content-Type: text/css; charset=utf-8\r\n")
        );
        let png = get("/img/logo.png");
        assert!(head_text(&png).contains("Content-Type: image/png\r\n"));
        assert_eq!(bytes(&png), b"\x89PNG\r\n\x1a\n\0\xff");
        assert_eq!(content_type("a/b.JPG"), "image/jpeg");
        assert_eq!(content_type("Makefile"), "application/octet-stream");
        assert_eq!(content_type("dir.d/noext"), "application/octet-stream");
        assert_eq!(content_type("x.unknown"), "application/octet-stream");
    }

    #[test]
    fn directories_serve_their_index() {
        for path in [
            "/about",
            "/about/",
            "//about/./",
            "/about/index.html",
            "/img/../about",
        ] {
            let r = get(path);
            assert_eq!(r.status, Status::Ok, "{path}");
            assert_eq!(bytes(&r), b"about", "{path}");
            assert!(head_text(&r).contains("text/html"), "{path}");
        }
        assert_eq!(
            get("/empty").status,
            Status::NotFound,
            "a directory without index.html"
        );
    }

    #[test]
    fn missing_is_404_with_a_small_body() {
        let r = get("/nope.html");
        assert_eq!(r.status, Status::NotFound);
        assert!(head_text(&r).starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(head_text(&r).contains("Content-Length: 14\r\n"));
        assert_eq!(bytes(&r), b"404 Not Found\n");
        assert!(!r.close, "a 404 keeps the connection");
    }

    #[test]
    fn head_has_the_headers_and_no_body() {
        let (_, r) = answer(b"HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.status, Status::Ok);
        assert!(head_text(&r).contains("Content-Length: 4\r\n"));
        assert!(r.body.is_empty());
        let (_, r) = answer(b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.status, Status::NotFound);
        assert!(head_text(&r).contains("Content-Length: 14\r\n"));
        assert!(r.body.is_empty());
    }

    #[test]
    fn a_late_head_is_408_and_closes() {
        let r = timed_out();
        assert_eq!(r.status, Status::RequestTimeout);
        assert!(head_text(&r).starts_with("HTTP/1.1 408 Request Timeout\r\n"));
        assert!(head_text(&r).contains("Connection: close\r\n"));
        assert_eq!(bytes(&r), b"408 Request Timeout\n");
        assert!(r.close);
    }

    #[test]
    fn a_file_body_is_named_with_its_length_not_read() {
        // Whatever its size: the server streams it.
        struct Huge;
        impl Files for Huge {
            async fn find(&self, key: &str) -> Found {
                match key {
                    "" => Found::Directory,
                    "big.iso" => Found::File(5 << 30),
                    _ => Found::Missing,
                }
            }
        }
        let req = b"GET /big.iso HTTP/1.1\r\nHost: x\r\n\r\n";
        let Next::Respond { response, .. } = now(next(req, &Huge)) else {
            panic!("complete request");
        };
        assert!(head_text(&response).contains("Content-Length: 5368709120\r\n"));
        assert_eq!(
            response.body,
            Body::File {
                key: "big.iso".into(),
                len: 5 << 30
            }
        );
        let req = b"HEAD /big.iso HTTP/1.1\r\nHost: x\r\n\r\n";
        let Next::Respond { response, .. } = now(next(req, &Huge)) else {
            panic!("complete request");
        };
        assert!(head_text(&response).contains("Content-Length: 5368709120\r\n"));
        assert!(response.body.is_empty());
    }

    #[test]
    fn other_methods_are_405() {
        let (_, r) = answer(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.status, Status::MethodNotAllowed);
        assert!(head_text(&r).contains("\r\nAllow: GET, HEAD\r\n\r\n"));
        assert!(!r.close);
        let (_, r) = answer(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!(r.status, Status::MethodNotAllowed);
        assert!(r.close, "the body is not read: the connection closes");
        assert!(head_text(&r).contains("Connection: close\r\n"));
    }

    #[test]
    fn keep_alive_rules() {
        let close = |req: &str| answer(req.as_bytes()).1.close;
        assert!(!close("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(close(
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ));
        assert!(close(
            "GET / HTTP/1.1\r\nHost: x\r\nconnection: Upgrade, CLOSE\r\n\r\n"
        ));
        assert!(close("GET / HTTP/1.0\r\n\r\n"));
        assert!(!close("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        let (_, r) = answer(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert!(head_text(&r).contains("Connection: keep-alive\r\n"));
        let (_, r) = answer(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(head_text(&r).contains("Connection: close\r\n"));
    }

    #[test]
    fn pipelined_requests_are_answered_one_by_one() {
        let both =
            b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET";
        let (n, r) = answer(both);
        assert_eq!(bytes(&r), b"h1{}");
        let (m, r) = answer(&both[n..]);
        assert_eq!(r.status, Status::NotFound);
        assert_eq!(both.len() - n - m, 3);
        assert_eq!(now(next(&both[n + m..], &SITE)), Next::Incomplete);
    }

    #[test]
    fn malformed_requests_are_400_and_close() {
        for req in [
            &b"GARBAGE\r\n\r\n"[..],
            b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
            b"\0\0\0\0\r\n\r\n",
        ] {
            let (n, r) = answer(req);
            assert_eq!(
                r.status,
                Status::BadRequest,
                "{:?}",
                String::from_utf8_lossy(req)
            );
            assert!(r.close);
            assert!(n <= req.len());
            assert!(head_text(&r).contains("Connection: close\r\n"));
        }
    }

    #[test]
    fn paths_are_decoded_and_confined() {
        assert_eq!(get("/a%20b.txt").status, Status::Ok);
        assert_eq!(get("/index.html?x=1&y=/../..").status, Status::Ok);
        assert_eq!(get("http://example.com/style.css").status, Status::Ok);
        assert_eq!(get("HTTP://example.com").status, Status::Ok);
        assert_eq!(key_of("/a//./b/../c.txt?q#f").as_deref(), Some("a/c.txt"));
        assert_eq!(key_of("/%2e%2e/x"), None);
        assert_eq!(key_of("/a/%2e%2e/b").as_deref(), Some("b"));
        assert_eq!(key_of("/").as_deref(), Some(""));
        assert_eq!(key_of("/%"), None);
        assert_eq!(key_of("/%4"), None);
    }

    #[test]
    fn limits() {
        // Incomplete while below the limit, 431 at it.
        let mut big = b"GET / HTTP/1.1\r\nHost: x\r\nX: ".to_vec();
        assert_eq!(now(next(&big, &SITE)), Next::Incomplete);
        big.resize(MAX_HEAD, b'a');
        let (_, r) = answer(&big);
        assert_eq!(r.status, Status::HeadTooLarge);
        assert!(r.close);
        let mut many = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(answer(&many).1.status, Status::HeadTooLarge);
    }

    #[test]
    fn never_panics_on_any_bytes() {
        // Every prefix and every single-byte corruption of a few requests, plus a
        // pseudo-random stream: each answer is incomplete or a well-formed response.
        let seeds: [&[u8]; 3] = [
            b"GET /about/?q=%41 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
            b"HEAD http://h/img/logo.png HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
            b"POST /%2e%2e/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        ];
        let mut x: u32 = 0x9e37_79b9;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let check = |req: &[u8]| match now(next(req, &SITE)) {
            Next::Incomplete => assert!(req.len() < MAX_HEAD),
            Next::Respond { consumed, response } => {
                assert!(consumed <= req.len());
                assert!(response.head.starts_with(b"HTTP/1.1 "));
                assert!(response.head.ends_with(b"\r\n\r\n"));
            }
        };
        for seed in seeds {
            for i in 0..=seed.len() {
                check(&seed[..i]);
            }
            for i in 0..seed.len() {
                for _ in 0..16 {
                    let mut req = seed.to_vec();
                    req[i] = rand() as u8;
                    check(&req);
                }
            }
        }
        for _ in 0..2000 {
            let len = (rand() % 200) as usize;
            let req: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
            check(&req);
        }
        check(&vec![b'\n'; MAX_HEAD * 2]);
    }
}
