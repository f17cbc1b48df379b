//! Readiness, abort and DNS servers: the calls of [`petrel_stack::StackBackend`] that the
//! ecosystem's traits (`ReadReady`, edge-nal's `Readable`, `TcpShutdown::abort`) and
//! `Stack::resolve` need, on one [`Engine`].

use crate::engine::{Engine, Entry};
use core::net::IpAddr;
use core::task::{Context, Poll};
use petrel_stack::{Readiness, StackError};
use smoltcp::socket::{tcp, udp};

/// Whether a read of TCP socket `s` would not wait: bytes, the peer's FIN, or a failure.
fn tcp_readable(s: &tcp::Socket<'_>) -> bool {
    match s.state() {
        tcp::State::SynSent | tcp::State::SynReceived | tcp::State::Listen => false,
        _ => s.can_recv() || !s.may_recv(),
    }
}

/// Whether a write of TCP socket `s` would not wait: room in the send buffer, or a failure.
fn tcp_writable(s: &tcp::Socket<'_>) -> bool {
    match s.state() {
        tcp::State::SynSent | tcp::State::SynReceived | tcp::State::Listen => false,
        _ => s.can_send() || !s.may_send(),
    }
}

impl Engine {
    /// See [`petrel_stack::StackBackend::poll_readable`].
    pub fn poll_readable(&mut self, id: u64, cx: &mut Context<'_>) -> Poll<Result<(), StackError>> {
        match self.entries.get(&id) {
            Some(&Entry::Stream(h)) => {
                let s = self.sockets.get_mut::<tcp::Socket>(h);
                if tcp_readable(s) {
                    return Poll::Ready(Ok(()));
                }
                s.register_recv_waker(cx.waker());
                Poll::Pending
            }
            Some(&Entry::Udp(h, _)) => {
                if self
                    .inboxes
                    .get(&id)
                    .is_some_and(|i| !i.datagrams.is_empty())
                {
                    return Poll::Ready(Ok(()));
                }
                let s = self.sockets.get_mut::<udp::Socket>(h);
                if s.can_recv() {
                    return Poll::Ready(Ok(()));
                }
                s.register_recv_waker(cx.waker());
                self.inboxes.entry(id).or_default().waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Some(Entry::Listener(_)) => Poll::Ready(Err(StackError::WrongKind)),
            None => Poll::Ready(Err(StackError::BadHandle)),
        }
    }

    /// See [`petrel_stack::StackBackend::readiness`].
    pub fn readiness(&mut self, id: u64) -> Result<Readiness, StackError> {
        match self.entries.get(&id) {
            Some(&Entry::Stream(h)) => {
                let s = self.sockets.get::<tcp::Socket>(h);
                Ok(Readiness {
                    readable: tcp_readable(s),
                    writable: tcp_writable(s),
                })
            }
            Some(&Entry::Udp(h, _)) => {
                let s = self.sockets.get::<udp::Socket>(h);
                let inbox = self
                    .inboxes
                    .get(&id)
                    .is_some_and(|i| !i.datagrams.is_empty());
                Ok(Readiness {
                    readable: inbox || s.can_recv(),
                    writable: s.can_send(),
                })
            }
            Some(Entry::Listener(_)) => Err(StackError::WrongKind),
            None => Err(StackError::BadHandle),
        }
    }

    /// See [`petrel_stack::StackBackend::tcp_abort`]: smoltcp sends the reset.
    pub fn tcp_abort(&mut self, id: u64) -> Result<(), StackError> {
        match self.entries.get(&id) {
            Some(&Entry::Stream(h)) => {
                self.sockets.get_mut::<tcp::Socket>(h).abort();
                self.connecting.remove(&id);
                self.wake_driver();
                Ok(())
            }
            Some(_) => Err(StackError::WrongKind),
            None => Err(StackError::BadHandle),
        }
    }

    /// See [`petrel_stack::StackBackend::dns_servers`]: the DHCP lease's.
    pub fn dns_servers(&self, out: &mut [IpAddr]) -> usize {
        let servers = self.lease_dns_servers.iter().flatten();
        let mut n = 0;
        for (slot, server) in out.iter_mut().zip(servers) {
            *slot = IpAddr::V4(*server);
            n += 1;
        }
        n
    }
}
