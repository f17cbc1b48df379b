//! [`petrel_stack`] on any network device: Petrel's own TCP/IP stack, built on
//! [smoltcp](https://docs.rs/smoltcp).
//!
//! Selected by `petrel configure --net=direct` (the default on every target but unix). The
//! stack needs a `net` device (role `net`, the default instance `service`), so
//! `petrel run` attaches one: a tap on unix and spt, QEMU user networking on virtio.
//!
//! Addresses, as in mirage:
//!
//! - With DHCP (the configure key `--dhcp`, on by default) the stack asks for an IPv4 lease
//!   at boot and the main function starts once it has one. `--ipv4` given at boot overrides
//!   DHCP with a static address.
//! - With `--no-dhcp`, `--ipv4` (default `10.0.0.2/24`) and `--ipv4-gateway` set IPv4.
//! - IPv6: a link-local address from the MAC address always; `--ipv6` and `--ipv6-gateway`
//!   add a global one.
//!
//! ```text
//! petrel configure --target unix --net=direct --no-dhcp
//! sudo ip tuntap add tap0 mode tap user $USER && sudo ip addr add 10.0.0.1/24 dev tap0 && sudo ip link set tap0 up
//! cargo run --release -- --ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1
//! ```
//!
//! Layers: `device` (bounded frame queues smoltcp reads and writes), `engine` (one stack:
//! the smoltcp interface, its sockets, DHCP; no I/O), `sockets` (the socket calls on an
//! engine), `driver` (the task moving frames between the device and the engine), and this
//! file (the boot-time constructor and the backend the `Stack` handle calls).
//!
//! Listeners hold out against SYN floods from spoofed sources with bounded memory: a few
//! sockets always listening, a bounded set of half-open connections from which the oldest
//! is dropped (after 5 s at most), and no SYN cookies, which smoltcp cannot support. The
//! choice and its numbers are in `engine.rs`'s module docs and the README.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

mod addressing;
mod device;
mod driver;
mod engine;
mod readiness;
mod sockets;
#[cfg(test)]
mod tests;

pub use addressing::{Addressing, AddressingError, DEFAULT_IPV4};
pub use engine::Engine;

/// The log target of every message of the stack, whichever module logs it.
const LOG_TARGET: &str = "petrel_stack_direct";

use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::future::{Future, poll_fn};
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use core::task::{Context, Poll};
use petrel_bootvar::{Ipv4Prefix, Ipv6Prefix};
use petrel_net::Net;
use petrel_stack::{Stack, StackError};

/// Every stack of the unikernel, by index, with its instance name.
struct Stacks(RefCell<Vec<(&'static str, Engine)>>);
// SAFETY: the executor and every task run on one thread, as for petrel-time's queue.
unsafe impl Sync for Stacks {}
static STACKS: Stacks = Stacks(RefCell::new(Vec::new()));

/// Runs `f` on stack `index`; `None` if there is no such stack.
fn with_engine<T>(index: u64, f: impl FnOnce(&mut Engine) -> T) -> Option<T> {
    let mut stacks = STACKS.0.borrow_mut();
    let i = usize::try_from(index).ok()?;
    stacks.get_mut(i).map(|(_, e)| f(e))
}

/// Prints `message` on the console and exits with `code`: a stack that cannot start.
fn fail(name: &str, code: i32, message: fmt::Arguments<'_>) -> ! {
    let _ = fmt::write(
        &mut petrel_console::Writer,
        format_args!("stack `{name}`: {message}\n"),
    );
    petrel_platform::exit(code)
}

/// The device constructor the generated crate calls for each `type = "stack"` instance on
/// the direct stack: builds the stack on `net` from the boot arguments, starts its driver,
/// and with DHCP waits for the first lease.
pub async fn connect(
    name: &'static str,
    params: &[(&str, &str)],
    args: &'static petrel_bootvar::Values,
    net: &Net,
) -> Stack {
    // This instance's `dhcp` key when instances differ (`--key public.dhcp=false`), else the
    // crate's feature.
    // The prefix of this instance's boot arguments (`--public-ipv4`), for messages.
    let prefix = petrel_bootvar::instance_prefix(params);
    let dhcp = petrel_bootvar::instance_key(params, "dhcp")
        .map_or(cfg!(feature = "dhcp"), |v| v == "true");
    let addressing = Addressing::new(
        dhcp,
        args.get::<Option<Ipv4Prefix>>("ipv4"),
        args.get::<Option<Ipv4Addr>>("ipv4-gateway"),
        args.get::<Option<Ipv6Prefix>>("ipv6"),
        args.get::<Option<Ipv6Addr>>("ipv6-gateway"),
    )
    .unwrap_or_else(|e| fail(name, 64, format_args!("{}", e.named(prefix))));
    let now = driver::instant(petrel_time::now_ns());
    let index = STACKS.0.borrow().len() as u64;
    if index >= sockets::MAX_STACKS {
        fail(
            name,
            255,
            format_args!("at most {} direct stacks", sockets::MAX_STACKS),
        );
    }
    let engine = Engine::new(
        index,
        net.mac(),
        net.frame_len(),
        petrel_random::u64(),
        &addressing,
        now,
    )
    .unwrap_or_else(|_| {
        fail(
            name,
            255,
            format_args!(
                "the MAC address of network device `{}` is not a unicast address",
                net.name()
            ),
        )
    });
    STACKS.0.borrow_mut().push((name, engine));
    petrel_executor::spawn(driver::run(index, net.handle(), net.frame_len()));
    if addressing.dhcp {
        log::info!(
            "stack `{name}` on `{}`: asking for a DHCP lease",
            net.name()
        );
        wait_for_lease(index, name, net.name(), prefix).await;
    } else if let Some(v4) = addressing.ipv4 {
        match addressing.ipv4_gateway {
            Some(gw) => log::info!("stack `{name}` on `{}`: {v4}, gateway {gw}", net.name()),
            None => log::info!("stack `{name}` on `{}`: {v4}", net.name()),
        }
    }
    Stack::acquire_or_exit(name)
}

/// How often a stack still waiting for its DHCP lease says so.
const LEASE_REMINDER: core::time::Duration = core::time::Duration::from_secs(10);

/// Waits until stack `index` has its DHCP lease, with a reminder and a hint every
/// [`LEASE_REMINDER`]: a network without a DHCP server would otherwise look like a hang.
async fn wait_for_lease(index: u64, name: &str, net: &str, prefix: &str) {
    let mut waited = core::time::Duration::ZERO;
    loop {
        let mut reminder = petrel_time::sleep(LEASE_REMINDER);
        let leased = poll_fn(|cx| {
            let lease = with_engine(index, |e| e.poll_lease(cx)).unwrap_or(Poll::Ready(()));
            if lease.is_ready() {
                return Poll::Ready(true);
            }
            core::pin::Pin::new(&mut reminder).poll(cx).map(|()| false)
        })
        .await;
        if leased {
            return;
        }
        waited += LEASE_REMINDER;
        log::warn!(
            "stack `{name}`: no DHCP lease after {} s; is there a DHCP server on the network of `{net}`? (--{prefix}ipv4=ADDRESS/PREFIX sets a static address)",
            waited.as_secs()
        );
    }
}

/// The backend `petrel_stack::Stack` calls.
struct DirectStack;

/// Runs socket call `f` on the engine socket handle `sock` belongs to.
fn on_socket<T>(
    sock: u64,
    f: impl FnOnce(&mut Engine) -> Result<T, StackError>,
) -> Result<T, StackError> {
    with_engine(sockets::stack_of(sock), f).unwrap_or(Err(StackError::BadHandle))
}

/// [`on_socket`] for poll calls.
fn poll_socket<T>(
    sock: u64,
    f: impl FnOnce(&mut Engine) -> Poll<Result<T, StackError>>,
) -> Poll<Result<T, StackError>> {
    with_engine(sockets::stack_of(sock), f).unwrap_or(Poll::Ready(Err(StackError::BadHandle)))
}

/// Runs `f` on stack `stack`.
fn on_stack<T>(
    stack: u64,
    f: impl FnOnce(&mut Engine) -> Result<T, StackError>,
) -> Result<T, StackError> {
    with_engine(stack, f).unwrap_or(Err(StackError::NotFound))
}

#[petrel_macros::implements]
impl petrel_stack::StackBackend for DirectStack {
    fn acquire(name: &str) -> Result<u64, StackError> {
        STACKS
            .0
            .borrow()
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| i as u64)
            .ok_or(StackError::NotFound)
    }
    fn tcp_listen(stack: u64, addr: SocketAddr) -> Result<u64, StackError> {
        on_stack(stack, |e| e.tcp_listen(addr))
    }
    fn tcp_poll_accept(
        sock: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(u64, SocketAddr), StackError>> {
        poll_socket(sock, |e| e.tcp_poll_accept(sock, cx))
    }
    fn tcp_connect(stack: u64, addr: SocketAddr) -> Result<u64, StackError> {
        on_stack(stack, |e| e.tcp_connect(addr))
    }
    fn tcp_poll_connect(sock: u64, cx: &mut Context<'_>) -> Poll<Result<(), StackError>> {
        poll_socket(sock, |e| e.tcp_poll_connect(sock, cx))
    }
    fn tcp_poll_read(
        sock: u64,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, StackError>> {
        poll_socket(sock, |e| e.tcp_poll_read(sock, cx, buf))
    }
    fn tcp_poll_write(
        sock: u64,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, StackError>> {
        poll_socket(sock, |e| e.tcp_poll_write(sock, cx, buf))
    }
    fn tcp_poll_shutdown(sock: u64, _cx: &mut Context<'_>) -> Poll<Result<(), StackError>> {
        poll_socket(sock, |e| e.tcp_poll_shutdown(sock))
    }
    fn tcp_peer_addr(sock: u64) -> Result<SocketAddr, StackError> {
        on_socket(sock, |e| e.tcp_peer_addr(sock))
    }
    fn udp_bind(stack: u64, addr: SocketAddr) -> Result<u64, StackError> {
        on_stack(stack, |e| e.udp_bind(addr))
    }
    fn udp_poll_send_to(
        sock: u64,
        cx: &mut Context<'_>,
        buf: &[u8],
        addr: SocketAddr,
    ) -> Poll<Result<usize, StackError>> {
        poll_socket(sock, |e| e.udp_poll_send_to(sock, cx, buf, addr))
    }
    fn udp_poll_recv_from(
        sock: u64,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, SocketAddr), StackError>> {
        poll_socket(sock, |e| e.udp_poll_recv_from(sock, cx, buf))
    }
    fn local_addr(sock: u64) -> Result<SocketAddr, StackError> {
        on_socket(sock, |e| e.local_addr(sock))
    }
    fn close(sock: u64) {
        with_engine(sockets::stack_of(sock), |e| e.close(sock));
    }
    fn poll_readable(sock: u64, cx: &mut Context<'_>) -> Poll<Result<(), StackError>> {
        poll_socket(sock, |e| e.poll_readable(sock, cx))
    }
    fn readiness(sock: u64) -> Result<petrel_stack::Readiness, StackError> {
        on_socket(sock, |e| e.readiness(sock))
    }
    fn tcp_abort(sock: u64) -> Result<(), StackError> {
        on_socket(sock, |e| e.tcp_abort(sock))
    }
    fn dns_servers(stack: u64, out: &mut [core::net::IpAddr]) -> usize {
        with_engine(stack, |e| e.dns_servers(out)).unwrap_or(0)
    }
}
