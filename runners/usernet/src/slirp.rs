//! libslirp (QEMU's user-mode network) loaded at run time, and the thread that serves the
//! host's end of the guest's socketpair with it: frames from the guest go to
//! `slirp_input`, frames libslirp sends go back as one record each; libslirp's own sockets
//! and timers are polled in the same loop.
//!
//! The declarations follow `<slirp/libslirp.h>` (libslirp 4.x), with `SlirpConfig`
//! version 1, which every 4.x release accepts.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::mpsc;
use std::time::Instant;

use crate::publish::{Forward, Proto};

/// The shared library, by its soname (Debian's `libslirp0`).
const LIBRARY: &str = "libslirp.so.0";

/// Largest frame the guest sends (MTU plus the Ethernet header, with room to spare).
const FRAME_MAX: usize = 2048;

const POLL_IN: c_int = 1;
const POLL_OUT: c_int = 2;
const POLL_PRI: c_int = 4;
const POLL_ERR: c_int = 8;
const POLL_HUP: c_int = 16;

/// `struct SlirpConfig` up to version 1's fields.
#[repr(C)]
struct Config {
    version: u32,
    restricted: c_int,
    in_enabled: bool,
    vnetwork: libc::in_addr,
    vnetmask: libc::in_addr,
    vhost: libc::in_addr,
    in6_enabled: bool,
    vprefix_addr6: libc::in6_addr,
    vprefix_len: u8,
    vhost6: libc::in6_addr,
    vhostname: *const c_char,
    tftp_server_name: *const c_char,
    tftp_path: *const c_char,
    bootfile: *const c_char,
    vdhcp_start: libc::in_addr,
    vnameserver: libc::in_addr,
    vnameserver6: libc::in6_addr,
    vdnssearch: *const *const c_char,
    vdomainname: *const c_char,
    if_mtu: usize,
    if_mru: usize,
    disable_host_loopback: bool,
    enable_emu: bool,
}

type TimerCb = unsafe extern "C" fn(opaque: *mut c_void);
type AddPoll = unsafe extern "C" fn(fd: c_int, events: c_int, opaque: *mut c_void) -> c_int;
type GetRevents = unsafe extern "C" fn(idx: c_int, opaque: *mut c_void) -> c_int;

/// `struct SlirpCb`, without the version-4 fields (not read with a version-1 config).
#[repr(C)]
struct Callbacks {
    send_packet: unsafe extern "C" fn(buf: *const c_void, len: usize, opaque: *mut c_void) -> isize,
    guest_error: unsafe extern "C" fn(msg: *const c_char, opaque: *mut c_void),
    clock_get_ns: unsafe extern "C" fn(opaque: *mut c_void) -> i64,
    timer_new: unsafe extern "C" fn(
        cb: TimerCb,
        cb_opaque: *mut c_void,
        opaque: *mut c_void,
    ) -> *mut c_void,
    timer_free: unsafe extern "C" fn(timer: *mut c_void, opaque: *mut c_void),
    timer_mod: unsafe extern "C" fn(timer: *mut c_void, expire_ms: i64, opaque: *mut c_void),
    register_poll_fd: unsafe extern "C" fn(fd: c_int, opaque: *mut c_void),
    unregister_poll_fd: unsafe extern "C" fn(fd: c_int, opaque: *mut c_void),
    notify: unsafe extern "C" fn(opaque: *mut c_void),
}

/// The libslirp functions this module calls.
struct Api {
    new: unsafe extern "C" fn(*const Config, *const Callbacks, *mut c_void) -> *mut c_void,
    pollfds_fill: unsafe extern "C" fn(*mut c_void, *mut u32, AddPoll, *mut c_void),
    pollfds_poll: unsafe extern "C" fn(*mut c_void, c_int, GetRevents, *mut c_void),
    input: unsafe extern "C" fn(*mut c_void, *const u8, c_int),
    add_hostfwd: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        libc::in_addr,
        c_int,
        libc::in_addr,
        c_int,
    ) -> c_int,
    version_string: unsafe extern "C" fn() -> *const c_char,
}

impl Api {
    /// Loads libslirp and looks its functions up. The library stays loaded for the
    /// process's lifetime (the network thread never unloads it).
    fn load() -> Result<Api, String> {
        let missing = |e: libloading::Error| {
            format!(
                "user-mode networking needs libslirp ({LIBRARY}: {e}; Debian: apt-get install libslirp0)"
            )
        };
        // SAFETY: loading libslirp runs its (trivial) initialisers only.
        let lib = unsafe { libloading::Library::new(LIBRARY) }.map_err(missing)?;
        // SAFETY: each symbol is looked up with the type `<slirp/libslirp.h>` declares.
        let api = unsafe {
            Api {
                new: *lib.get(b"slirp_new\0").map_err(missing)?,
                pollfds_fill: *lib.get(b"slirp_pollfds_fill\0").map_err(missing)?,
                pollfds_poll: *lib.get(b"slirp_pollfds_poll\0").map_err(missing)?,
                input: *lib.get(b"slirp_input\0").map_err(missing)?,
                add_hostfwd: *lib.get(b"slirp_add_hostfwd\0").map_err(missing)?,
                version_string: *lib.get(b"slirp_version_string\0").map_err(missing)?,
            }
        };
        // The function pointers above stay valid as long as the library is loaded: forever.
        std::mem::forget(lib);
        Ok(api)
    }
}

fn in_addr(a: Ipv4Addr) -> libc::in_addr {
    libc::in_addr {
        s_addr: u32::from(a).to_be(),
    }
}

fn in6_addr(a: std::net::Ipv6Addr) -> libc::in6_addr {
    libc::in6_addr {
        s6_addr: a.octets(),
    }
}

/// A timer libslirp created: its callback, and when it is due (ms on [`State::clock`]).
struct Timer {
    cb: TimerCb,
    cb_opaque: *mut c_void,
    due_ms: Option<i64>,
}

/// What the callbacks reach through libslirp's `opaque` pointer.
struct State {
    /// The host's end of the guest's socketpair.
    frames: OwnedFd,
    /// libslirp's clock starts with the network.
    clock: Instant,
    /// Live timers (each a leaked `Box`, freed by `timer_free`).
    timers: Vec<*mut Timer>,
    /// The descriptors of one poll round: the socketpair first, then libslirp's.
    pollfds: Vec<libc::pollfd>,
}

impl State {
    fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

/// SAFETY (every callback): libslirp passes back the `opaque` given to `slirp_new`, a
/// `*mut State` that lives as long as the network thread, and calls them on that thread
/// only, never while another `&mut State` is in use (the loop holds none across calls).
unsafe fn state<'a>(opaque: *mut c_void) -> &'a mut State {
    // SAFETY: see above.
    unsafe { &mut *opaque.cast::<State>() }
}

unsafe extern "C" fn send_packet(buf: *const c_void, len: usize, opaque: *mut c_void) -> isize {
    // SAFETY: see `state`.
    let s = unsafe { state(opaque) };
    // A full socketpair drops the frame, as a busy link would: TCP retransmits it.
    // SAFETY: libslirp hands `len` readable bytes at `buf`.
    let n = unsafe {
        libc::send(
            s.frames.as_raw_fd(),
            buf,
            len,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 { len as isize } else { n }
}

unsafe extern "C" fn guest_error(msg: *const c_char, _opaque: *mut c_void) {
    // SAFETY: libslirp passes a NUL-terminated message.
    let msg = unsafe { CStr::from_ptr(msg) };
    eprintln!("user-mode network: guest error: {}", msg.to_string_lossy());
}

unsafe extern "C" fn clock_get_ns(opaque: *mut c_void) -> i64 {
    // SAFETY: see `state`.
    let s = unsafe { state(opaque) };
    i64::try_from(s.clock.elapsed().as_nanos()).unwrap_or(i64::MAX)
}

unsafe extern "C" fn timer_new(
    cb: TimerCb,
    cb_opaque: *mut c_void,
    opaque: *mut c_void,
) -> *mut c_void {
    // SAFETY: see `state`.
    let s = unsafe { state(opaque) };
    let t = Box::into_raw(Box::new(Timer {
        cb,
        cb_opaque,
        due_ms: None,
    }));
    s.timers.push(t);
    t.cast()
}

unsafe extern "C" fn timer_free(timer: *mut c_void, opaque: *mut c_void) {
    // SAFETY: see `state`.
    let s = unsafe { state(opaque) };
    let t = timer.cast::<Timer>();
    if let Some(i) = s.timers.iter().position(|&x| x == t) {
        s.timers.swap_remove(i);
        // SAFETY: `t` came from `Box::into_raw` in `timer_new` and was still live.
        drop(unsafe { Box::from_raw(t) });
    }
}

unsafe extern "C" fn timer_mod(timer: *mut c_void, expire_ms: i64, opaque: *mut c_void) {
    // SAFETY: see `state`.
    let s = unsafe { state(opaque) };
    let t = timer.cast::<Timer>();
    if s.timers.contains(&t) {
        // SAFETY: a live timer (in `timers`), touched only on this thread.
        unsafe { (*t).due_ms = Some(expire_ms) };
    }
}

unsafe extern "C" fn poll_fd_noop(_fd: c_int, _opaque: *mut c_void) {}

unsafe extern "C" fn notify_noop(_opaque: *mut c_void) {}

unsafe extern "C" fn add_poll(fd: c_int, events: c_int, opaque: *mut c_void) -> c_int {
    // SAFETY: `opaque` is the `State` (see `state`).
    let s = unsafe { state(opaque) };
    let mut ev = 0;
    for (from, to) in [
        (POLL_IN, libc::POLLIN),
        (POLL_OUT, libc::POLLOUT),
        (POLL_PRI, libc::POLLPRI),
    ] {
        if events & from != 0 {
            ev |= to;
        }
    }
    s.pollfds.push(libc::pollfd {
        fd,
        events: ev,
        revents: 0,
    });
    c_int::try_from(s.pollfds.len() - 1).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn get_revents(idx: c_int, opaque: *mut c_void) -> c_int {
    // SAFETY: `opaque` is the `State` (see `state`).
    let s = unsafe { state(opaque) };
    let Some(p) = usize::try_from(idx).ok().and_then(|i| s.pollfds.get(i)) else {
        return 0;
    };
    let mut out = 0;
    for (from, to) in [
        (libc::POLLIN, POLL_IN),
        (libc::POLLOUT, POLL_OUT),
        (libc::POLLPRI, POLL_PRI),
        (libc::POLLERR, POLL_ERR),
        (libc::POLLHUP, POLL_HUP),
    ] {
        if p.revents & from != 0 {
            out |= to;
        }
    }
    out
}

static CALLBACKS: Callbacks = Callbacks {
    send_packet,
    guest_error,
    clock_get_ns,
    timer_new,
    timer_free,
    timer_mod,
    register_poll_fd: poll_fd_noop,
    unregister_poll_fd: poll_fd_noop,
    notify: notify_noop,
};

/// Starts the network thread on `frames` (the host's end) with `forwards`, and returns the
/// libslirp version once it is set up, or why it could not be.
pub fn spawn(frames: OwnedFd, forwards: Vec<Forward>) -> Result<String, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("usernet".into())
        .spawn(move || serve(frames, &forwards, &tx))
        .map_err(|e| format!("cannot start the user-mode network thread: {e}"))?;
    rx.recv()
        .unwrap_or_else(|_| Err("the user-mode network thread ended while starting".into()))
}

/// The thread: sets libslirp up (reporting on `ready`), then serves until the guest's end
/// is closed.
fn serve(frames: OwnedFd, forwards: &[Forward], ready: &mpsc::Sender<Result<String, String>>) {
    let api = match Api::load() {
        Ok(api) => api,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let config = Config {
        version: 1,
        restricted: 0,
        in_enabled: true,
        vnetwork: in_addr(crate::NETWORK),
        vnetmask: in_addr(Ipv4Addr::new(255, 255, 255, 0)),
        vhost: in_addr(crate::GATEWAY),
        in6_enabled: true,
        vprefix_addr6: in6_addr("fec0::".parse().unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)),
        vprefix_len: 64,
        vhost6: in6_addr("fec0::2".parse().unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)),
        vhostname: std::ptr::null(),
        tftp_server_name: std::ptr::null(),
        tftp_path: std::ptr::null(),
        bootfile: std::ptr::null(),
        vdhcp_start: in_addr(crate::GUEST),
        vnameserver: in_addr(crate::DNS),
        vnameserver6: in6_addr("fec0::3".parse().unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)),
        vdnssearch: std::ptr::null(),
        vdomainname: std::ptr::null(),
        if_mtu: usize::from(crate::MTU),
        if_mru: usize::from(crate::MTU),
        disable_host_loopback: false,
        enable_emu: false,
    };
    // Lives as long as the thread (which never ends while libslirp may call back).
    let state: *mut State = Box::into_raw(Box::new(State {
        frames,
        clock: Instant::now(),
        timers: Vec::new(),
        pollfds: Vec::new(),
    }));
    // SAFETY: `config` and `CALLBACKS` are valid for the call (libslirp copies the config
    // and keeps the callbacks pointer: `CALLBACKS` is a static).
    let slirp = unsafe { (api.new)(&config, &CALLBACKS, state.cast()) };
    if slirp.is_null() {
        let _ = ready.send(Err("libslirp could not create the network".into()));
        return;
    }
    for f in forwards {
        let udp = c_int::from(f.proto == Proto::Udp);
        // SAFETY: `slirp` is live; the addresses are passed by value.
        let rc = unsafe {
            (api.add_hostfwd)(
                slirp,
                udp,
                in_addr(f.host_addr),
                c_int::from(f.host_port),
                in_addr(crate::GUEST),
                c_int::from(f.guest_port),
            )
        };
        if rc < 0 {
            let _ = ready.send(Err(format!(
                "--publish {f}: cannot use host port {} {}: {}",
                f.proto.name(),
                f.host(),
                io::Error::last_os_error()
            )));
            return;
        }
    }
    // SAFETY: slirp_version_string returns a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr((api.version_string)()) };
    let _ = ready.send(Ok(format!("libslirp {}", version.to_string_lossy())));
    run(&api, slirp, state);
}

/// The loop: poll the socketpair and libslirp's sockets, feed frames in, fire timers. Ends
/// when the guest's end is closed everywhere.
fn run(api: &Api, slirp: *mut c_void, state: *mut State) {
    let mut frame = [0u8; FRAME_MAX];
    loop {
        let (fd, timeout) = {
            // SAFETY: no callback runs while this borrow lives.
            let s = unsafe { &mut *state };
            s.pollfds.clear();
            s.pollfds.push(libc::pollfd {
                fd: s.frames.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            let now = s.now_ms();
            let next = s
                .timers
                .iter()
                // SAFETY: every pointer in `timers` is a live timer.
                .filter_map(|&t| unsafe { (*t).due_ms })
                .map(|due| (due - now).clamp(0, 1000))
                .min()
                .unwrap_or(1000);
            (s.frames.as_raw_fd(), u32::try_from(next).unwrap_or(1000))
        };
        let mut timeout = timeout;
        // SAFETY: `slirp` is live; `add_poll` gets the `State`.
        unsafe { (api.pollfds_fill)(slirp, &mut timeout, add_poll, state.cast()) };
        let rc = {
            // SAFETY: no callback runs during poll.
            let s = unsafe { &mut *state };
            // SAFETY: `pollfds` is a valid array of its length for the call.
            unsafe {
                libc::poll(
                    s.pollfds.as_mut_ptr(),
                    s.pollfds.len() as libc::nfds_t,
                    c_int::try_from(timeout).unwrap_or(1000),
                )
            }
        };
        // SAFETY: as for `pollfds_fill`.
        unsafe { (api.pollfds_poll)(slirp, c_int::from(rc < 0), get_revents, state.cast()) };
        // Frames from the guest.
        loop {
            // SAFETY: `frame` is writable for its length.
            let n = unsafe {
                libc::recv(
                    fd,
                    frame.as_mut_ptr().cast(),
                    frame.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            match n {
                0 => return, // The guest's end is closed: the guest is gone.
                n if n > 0 => {
                    // SAFETY: `n` bytes of `frame` were written; `slirp` is live.
                    unsafe { (api.input)(slirp, frame.as_ptr(), n as c_int) }
                }
                _ => match io::Error::last_os_error().kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock => break,
                    _ => return,
                },
            }
        }
        fire_timers(state);
    }
}

/// Runs the callbacks of the timers that are due.
fn fire_timers(state: *mut State) {
    let due: Vec<*mut Timer> = {
        // SAFETY: no callback runs while this borrow lives.
        let s = unsafe { &mut *state };
        let now = s.now_ms();
        s.timers
            .iter()
            .copied()
            // SAFETY: every pointer in `timers` is a live timer.
            .filter(|&t| unsafe { (*t).due_ms }.is_some_and(|d| d <= now))
            .collect()
    };
    for t in due {
        let (cb, arg) = {
            // SAFETY: as above; a timer freed by an earlier callback is skipped.
            let s = unsafe { &mut *state };
            if !s.timers.contains(&t) {
                continue;
            }
            // SAFETY: `t` is live (checked just above).
            let timer = unsafe { &mut *t };
            timer.due_ms = None;
            (timer.cb, timer.cb_opaque)
        };
        // SAFETY: libslirp's own callback with its own argument, on its thread.
        unsafe { cb(arg) };
    }
}
