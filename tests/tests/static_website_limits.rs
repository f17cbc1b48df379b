//! examples/static_website's bounds against hostile or careless clients, end to end on unix
//! (socket stack) with `--kv=direct`, so that files are read from the host directory at run
//! time:
//!
//! - a 64 MiB file downloaded by four slow readers at once: the server's resident memory
//!   stays far below one copy of the file (it streams in chunks), and every reader gets
//!   every byte;
//! - hidden files (`.secret`, `.git/config`) exist in htdocs/ and are 404;
//! - slowloris: a client trickling a request head one byte every 500 ms is disconnected
//!   without an answer at the head deadline (picoserve's `read_request` timeout aborts the
//!   connection; it sends no 408) (the idle limit alone would restart with every
//!   byte), a client that sends nothing is closed at the same deadline, and a normal client
//!   is served meanwhile.

use petrel_e2e::{Background, Scratch, build_lock, free_port};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the first answer may take: `petrel run` configures and builds the example first.
const STARTUP: Duration = Duration::from_secs(180);

/// The large file's size: 64 MiB.
const BIG: u64 = 64 << 20;

/// The bound on the server's resident memory while four readers are in the middle of
/// [`BIG`]: a server holding the file in memory per request would need four times `BIG`.
const RSS_BOUND_KB: u64 = 64 * 1024;

/// static_website's head deadline (`read_request` of `CONFIG` in examples/static_website/src/lib.rs).
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection with a read timeout.
fn open(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    s
}

/// Reads a response head (up to the empty line): the status code and the head's text.
fn read_head(r: &mut impl BufRead) -> (u16, String) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).expect("read a head line");
        assert!(n > 0, "end of stream inside a head: {head:?}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (code, head)
}

/// `GET path` on a fresh connection that asks to close: the status and the body.
fn get(addr: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    let mut s = open(addr);
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut r = BufReader::new(s);
    let (code, _) = read_head(&mut r);
    let mut body = Vec::new();
    r.read_to_end(&mut body).expect("read body");
    (code, body)
}

/// The resident memory of process `pid` (`VmRSS` in /proc/PID/status), in KiB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// The process named `name` among the descendants of `root` (`petrel run` starts the
/// unikernel as its child).
fn descendant(root: u32, name: &str) -> Option<u32> {
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid ...`: comm may hold spaces, so start after its `)`.
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        if comm.trim() != name {
            return None;
        }
        let mut p = pid;
        while let Some(up) = parent(p).filter(|&up| up > 1) {
            if up == root {
                return Some(pid);
            }
            p = up;
        }
        None
    })
}

/// htdocs/ with a 64 MiB file (sparse: it costs no disk) and hidden files.
fn add_files(htdocs: &Path) {
    let big = std::fs::File::create(htdocs.join("big.bin")).expect("create big.bin");
    big.set_len(BIG).expect("size big.bin");
    std::fs::write(htdocs.join(".secret"), "password=hunter2\n").expect("write .secret");
    std::fs::create_dir_all(htdocs.join(".git")).expect("mkdir .git");
    std::fs::write(htdocs.join(".git/config"), "[core]\n").expect("write .git/config");
}

/// Starts the server with `--kv=direct` and waits for its first answer.
fn start(site: &Scratch) -> (Background, SocketAddr) {
    let port = free_port();
    let mut cmd = petrel_e2e::petrel(&site.dir, "unix");
    cmd.args(["run", "--kv=direct", "--"])
        .arg(format!("--port={port}"));
    let mut running = Background::spawn(&mut cmd, site.dir.join("run.log"));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    petrel_e2e::wait_for("GET / to answer 200", STARTUP, &mut running, |_| {
        let mut s =
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .map_err(|e| e.to_string())?;
        let mut first = [0u8; 12];
        s.read_exact(&mut first).map_err(|e| e.to_string())?;
        if &first == b"HTTP/1.1 200" {
            Ok(())
        } else {
            Err(format!("answered {:?}", String::from_utf8_lossy(&first)))
        }
    });
    (running, addr)
}

#[test]
fn large_files_stream_in_bounded_memory_and_hidden_files_are_404() {
    let _lock = build_lock();
    let site = Scratch::example("static_website");
    add_files(&site.dir.join("htdocs"));
    let (running, addr) = start(&site);
    let pid = descendant(running.child.id(), "static-website")
        .unwrap_or_else(|| panic!("no static-website process\n--- log\n{}", running.log()));

    // Four readers take the head and 1 MiB of the body, then stop reading: the server is in
    // the middle of the file for each, its sends held back by the full socket buffers.
    let idle_rss = rss_kb(pid);
    let mut readers: Vec<BufReader<TcpStream>> = (0..4)
        .map(|_| {
            let mut s = open(addr);
            s.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .expect("send");
            let mut r = BufReader::new(s);
            let (code, head) = read_head(&mut r);
            assert_eq!(code, 200, "{head}");
            assert!(
                head.contains(&format!("Content-Length: {BIG}\r\n")),
                "{head}"
            );
            let mut first = vec![0u8; 1 << 20];
            r.read_exact(&mut first).expect("the first MiB");
            r
        })
        .collect();
    let mut peak = 0;
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(100));
        peak = peak.max(rss_kb(pid));
    }
    eprintln!(
        "static-website VmRSS: {idle_rss} kB idle, at most {peak} kB with 4 readers in the \
         middle of a {} MiB file",
        BIG >> 20
    );
    assert!(
        peak < RSS_BOUND_KB,
        "VmRSS {peak} kB with 4 readers of a {} MiB file (bound {RSS_BOUND_KB} kB): the server \
         holds files in memory\n--- log\n{}",
        BIG >> 20,
        running.log()
    );
    // Then each reads the rest: every byte arrives (a sparse file reads as zeros).
    for (i, mut r) in readers.drain(..).enumerate() {
        let mut got = (1u64 << 20) as usize;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = r.read(&mut buf).expect("read the rest");
            if n == 0 {
                break;
            }
            assert!(
                buf[..n].iter().all(|&b| b == 0),
                "reader {i}: not the file's bytes"
            );
            got += n;
        }
        assert_eq!(got as u64, BIG, "reader {i}: the whole file");
    }

    // Hidden files exist and are not served; their visible neighbours are.
    for path in ["/.secret", "/.git/config", "/.git/", "/%2esecret"] {
        let (code, body) = get(addr, path);
        assert_eq!(code, 404, "{path}: {}", String::from_utf8_lossy(&body));
        assert!(
            !String::from_utf8_lossy(&body).contains("hunter2"),
            "{path}"
        );
    }
    let (code, _) = get(addr, "/style.css");
    assert_eq!(code, 200);
}

#[test]
fn slowloris_is_cut_at_the_head_deadline_while_others_are_served() {
    let _lock = build_lock();
    let site = Scratch::example("static_website");
    let (running, addr) = start(&site);

    // Trickles a request head, one byte every 500 ms, until the server closes.
    let trickle = std::thread::spawn(move || {
        let mut s = open(addr);
        let start = Instant::now();
        let head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        for &b in head.iter().cycle().take(60) {
            if s.write_all(&[b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
            // Anything from the server (the end of the stream, a reset) ends the test.
            s.set_nonblocking(true).expect("nonblocking");
            let mut peek = [0u8; 1];
            let answered = !matches!(s.peek(&mut peek), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock);
            s.set_nonblocking(false).expect("blocking");
            if answered {
                break;
            }
        }
        let cut = start.elapsed();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        (cut, answer)
    });
    // Opens a connection and sends nothing.
    let silent = std::thread::spawn(move || {
        let mut s = open(addr);
        let start = Instant::now();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        (start.elapsed(), answer)
    });
    // Meanwhile a normal client is served, several times.
    for _ in 0..5 {
        let (code, body) = get(addr, "/");
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
        std::thread::sleep(Duration::from_millis(500));
    }

    let (cut, answer) = trickle.join().expect("trickling client");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        cut >= HEAD_TIMEOUT - Duration::from_secs(1)
            && cut <= HEAD_TIMEOUT + Duration::from_secs(3),
        "the trickling client was cut after {cut:?}, not at the {HEAD_TIMEOUT:?} head deadline \
         (answer {answer:?})\n--- log\n{}",
        running.log()
    );
    // picoserve aborts a late head's connection without answering it (no 408).
    assert!(answer.is_empty(), "a late head is not answered: {answer:?}");
    let (closed, answer) = silent.join().expect("silent client");
    assert!(
        closed >= HEAD_TIMEOUT - Duration::from_secs(1)
            && closed <= HEAD_TIMEOUT + Duration::from_secs(3),
        "a silent connection was closed after {closed:?}"
    );
    assert!(
        answer.is_empty(),
        "nothing was asked, nothing answered: {answer:?}"
    );
    let (code, _) = get(addr, "/");
    assert_eq!(code, 200, "still serving");
}
