//! For the benchmark only (scripts/bench-usernet.sh): runs a command whose network device is
//! served by passt instead of libslirp, to compare the two backends with the same guest.
//!
//! `passt_relay SOCKET COMMAND [ARGS...]` connects to passt's qemu-mode socket SOCKET
//! (frames with a 4-byte big-endian length before each), makes a `SOCK_SEQPACKET` pair like
//! petrel-usernet's, starts COMMAND with `{fd}` in its arguments replaced by the guest end's
//! number, and copies frames both ways until COMMAND exits.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::Command;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(socket), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: passt_relay SOCKET COMMAND [ARGS...]  ({{fd}} in ARGS: the guest end)");
        std::process::exit(2);
    };
    let mut passt = UnixStream::connect(&socket).unwrap_or_else(|e| {
        eprintln!("passt_relay: {socket}: {e}");
        std::process::exit(1)
    });
    let mut fds = [0; 2];
    // SAFETY: socketpair writes two descriptors into `fds`.
    let rc = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET, 0, fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "socketpair: {}", std::io::Error::last_os_error());
    // SAFETY: fresh descriptors, owned here (fds[1] is inherited by the child).
    let (host, guest) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: F_SETFD only changes flags: our end is not inherited.
    unsafe { libc::fcntl(host.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let fd = guest.as_raw_fd().to_string();
    let mut child = Command::new(&program)
        .args(args.map(|a| a.replace("{fd}", &fd)))
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("passt_relay: {program}: {e}");
            std::process::exit(1)
        });
    drop(guest);
    let mut frame = [0u8; 65600];
    let mut stream: Vec<u8> = Vec::new();
    loop {
        let mut polls = [
            libc::pollfd {
                fd: host.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: passt.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `polls` is valid for its length.
        unsafe { libc::poll(polls.as_mut_ptr(), 2, 200) };
        if let Ok(Some(status)) = child.try_wait() {
            std::process::exit(status.code().unwrap_or(1));
        }
        if polls[0].revents & (libc::POLLIN | libc::POLLHUP) != 0 {
            // SAFETY: `frame` is writable for its length.
            let n =
                unsafe { libc::recv(host.as_raw_fd(), frame.as_mut_ptr().cast(), frame.len(), 0) };
            if n <= 0 {
                let _ = child.wait();
                return;
            }
            let n = n as usize;
            let mut out = (n as u32).to_be_bytes().to_vec();
            out.extend_from_slice(&frame[..n]);
            if passt.write_all(&out).is_err() {
                return;
            }
        }
        if polls[1].revents & (libc::POLLIN | libc::POLLHUP) != 0 {
            let n = passt.read(&mut frame).unwrap_or(0);
            if n == 0 {
                return;
            }
            stream.extend_from_slice(&frame[..n]);
            while stream.len() >= 4 {
                let len = u32::from_be_bytes([stream[0], stream[1], stream[2], stream[3]]) as usize;
                if stream.len() < 4 + len {
                    break;
                }
                // A full socketpair drops the frame, as libslirp's side does.
                // SAFETY: the slice is readable for `len` bytes.
                unsafe {
                    libc::send(
                        host.as_raw_fd(),
                        stream[4..].as_ptr().cast(),
                        len,
                        libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                    )
                };
                stream.drain(..4 + len);
            }
        }
    }
}
