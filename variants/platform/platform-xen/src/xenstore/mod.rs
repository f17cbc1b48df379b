//! A xenstore client over the shared ring page (`struct xenstore_domain_interface`:
//! `req[1024]`, `rsp[1024]`, then `req_cons`, `req_prod`, `rsp_cons`, `rsp_prod`), found
//! through `HVM_PARAM_STORE_PFN` and `HVM_PARAM_STORE_EVTCHN`.
//!
//! Requests are synchronous: one at a time, the reply awaited by polling the response ring
//! (yielding the vCPU between looks) up to a deadline. That is enough for setting devices up
//! (reading a backend's path, writing the frontend's ring references), which is what
//! netfront and blkfront need it for. Relative paths are relative to the domain's home,
//! `/local/domain/<domid>`.

pub mod wire;

use alloc::string::String;
use alloc::vec::Vec;

use crate::ring::Ring;
use wire::{Message, Op, Reassembler};

/// Offsets in the page.
const REQ: usize = 0;
const RSP: usize = 1024;
const REQ_CONS: usize = 2048;
const REQ_PROD: usize = 2052;
const RSP_CONS: usize = 2056;
const RSP_PROD: usize = 2060;
/// Each ring's size.
const RING_SIZE: u32 = 1024;

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// xenstored answered with this errno name (`ENOENT`, `EACCES`, ...).
    Store(String),
    /// No reply before the deadline.
    Timeout,
    /// The request does not fit in a message.
    TooLong,
    /// The reply stream is not xenstore's.
    Protocol,
}

/// What the client needs from its environment: kicking the event channel and waiting a
/// little (both are hypercalls in the guest, a fake xenstored in the tests).
pub trait Transport {
    /// A request starts (a deadline for its reply may start now).
    fn begin(&mut self) {}
    /// Tells xenstored that a request is in the ring.
    fn notify(&mut self);
    /// Lets time pass while waiting for the reply; `false` once the deadline has passed.
    fn wait(&mut self) -> bool;
}

/// A xenstore connection.
pub struct Client<T: Transport> {
    req: Ring,
    rsp: Ring,
    transport: T,
    next_id: u32,
    incoming: Reassembler,
    /// Watch events that arrived while a reply was awaited.
    events: Vec<Message>,
}

impl<T: Transport> Client<T> {
    /// A client on the ring page at `page`.
    ///
    /// # Safety
    ///
    /// `page` must be the mapped xenstore ring page (or, in tests, a zeroed page-aligned
    /// 4 KiB buffer) that stays valid for the client's life.
    pub unsafe fn new(page: usize, transport: T) -> Self {
        Client {
            req: Ring {
                buf: page + REQ,
                size: RING_SIZE,
                cons: page + REQ_CONS,
                prod: page + REQ_PROD,
            },
            rsp: Ring {
                buf: page + RSP,
                size: RING_SIZE,
                cons: page + RSP_CONS,
                prod: page + RSP_PROD,
            },
            transport,
            next_id: 1,
            incoming: Reassembler::default(),
            events: Vec::new(),
        }
    }

    /// Sends one request and waits for its reply.
    fn call(&mut self, op: Op, parts: &[&[u8]]) -> Result<Vec<u8>, Error> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let msg = wire::encode(op, id, parts).ok_or(Error::TooLong)?;
        self.transport.begin();
        let mut sent = 0;
        while sent < msg.len() {
            let n = self.req.put(&msg[sent..]);
            sent += n;
            self.transport.notify();
            if n == 0 && !self.transport.wait() {
                return Err(Error::Timeout);
            }
        }
        loop {
            let mut buf = [0u8; 256];
            let n = self.rsp.take(&mut buf);
            if n > 0 {
                self.incoming.push(&buf[..n]);
                // Room in the ring again: tell xenstored.
                self.transport.notify();
            }
            while let Some(reply) = self.incoming.next_message().map_err(|_| Error::Protocol)? {
                if reply.ty == Op::WatchEvent as u32 {
                    self.events.push(reply);
                } else if reply.req_id == id {
                    return if reply.ty == Op::Error as u32 {
                        let name = wire::strings(&reply.payload).next().unwrap_or(b"EIO");
                        Err(Error::Store(String::from_utf8_lossy(name).into_owned()))
                    } else {
                        Ok(reply.payload)
                    };
                }
            }
            if n == 0 && !self.transport.wait() {
                return Err(Error::Timeout);
            }
        }
    }

    /// The value at `path`.
    pub fn read(&mut self, path: &str) -> Result<Vec<u8>, Error> {
        self.call(Op::Read, &[path.as_bytes()])
    }

    /// Sets `path` to `value`.
    pub fn write(&mut self, path: &str, value: &[u8]) -> Result<(), Error> {
        self.call(Op::Write, &[path.as_bytes(), value]).map(drop)
    }

    /// The children of `path`.
    pub fn directory(&mut self, path: &str) -> Result<Vec<String>, Error> {
        let payload = self.call(Op::Directory, &[path.as_bytes()])?;
        Ok(wire::strings(&payload)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect())
    }

    /// Removes `path` and everything below it.
    pub fn remove(&mut self, path: &str) -> Result<(), Error> {
        self.call(Op::Rm, &[path.as_bytes()]).map(drop)
    }

    /// Watch events received so far (path, token), oldest first; taken.
    pub fn take_events(&mut self) -> Vec<Message> {
        core::mem::take(&mut self.events)
    }
}

/// How long a guest request may wait for xenstored.
const GUEST_TIMEOUT_NS: u64 = 5_000_000_000;

/// The guest's transport: the store's event channel, and yielding the vCPU while waiting,
/// up to [`GUEST_TIMEOUT_NS`] per request.
pub struct Guest {
    port: u32,
    deadline_ns: u64,
}

impl Transport for Guest {
    fn begin(&mut self) {
        self.deadline_ns = crate::clock::monotonic_ns() + GUEST_TIMEOUT_NS;
    }

    fn notify(&mut self) {
        crate::hypercall::evtchn_send(self.port);
    }

    fn wait(&mut self) -> bool {
        crate::hypercall::sched_yield();
        crate::clock::monotonic_ns() < self.deadline_ns
    }
}

/// Connects to xenstore through `HVM_PARAM_STORE_PFN` and `_EVTCHN`. `None` if Xen gives no
/// store (or gives it above the 4 GiB the boot page tables map).
pub fn connect() -> Option<Client<Guest>> {
    use crate::hypercall::{HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN, hvm_get_param};
    let pfn = hvm_get_param(HVM_PARAM_STORE_PFN).ok()?;
    let port = hvm_get_param(HVM_PARAM_STORE_EVTCHN).ok()?;
    if pfn == 0 || pfn >= 1 << 20 {
        return None;
    }
    let guest = Guest {
        port: port as u32,
        deadline_ns: 0,
    };
    // SAFETY: Xen's store page, identity-mapped below 4 GiB, shared with xenstored for the
    // domain's life.
    Some(unsafe { Client::new((pfn << 12) as usize, guest) })
}

#[cfg(test)]
mod tests {
    use super::wire::{self, Op, Reassembler};
    use super::*;
    use crate::ring::tests::{Page, page};
    use std::collections::BTreeMap;

    /// A xenstored in the test: serves the ring page whenever the client notifies.
    struct FakeStore {
        page: usize,
        store: BTreeMap<String, Vec<u8>>,
        incoming: Reassembler,
        waits: u32,
        /// Sends a watch event before each reply.
        chatty: bool,
    }

    impl FakeStore {
        fn reply(&mut self, ty: u32, id: u32, payload: &[u8]) {
            let rsp = Ring {
                buf: self.page + RSP,
                size: RING_SIZE,
                cons: self.page + RSP_CONS,
                prod: self.page + RSP_PROD,
            };
            let mut msg = Vec::new();
            for v in [ty, id, 0, payload.len() as u32] {
                msg.extend_from_slice(&v.to_le_bytes());
            }
            msg.extend_from_slice(payload);
            assert_eq!(rsp.put(&msg), msg.len(), "the fake never fills the ring");
        }
    }

    impl Transport for &mut FakeStore {
        fn notify(&mut self) {
            let req = Ring {
                buf: self.page + REQ,
                size: RING_SIZE,
                cons: self.page + REQ_CONS,
                prod: self.page + REQ_PROD,
            };
            let mut buf = [0u8; 64];
            loop {
                let n = req.take(&mut buf);
                if n == 0 {
                    break;
                }
                self.incoming.push(&buf[..n]);
            }
            while let Some(m) = self
                .incoming
                .next_message()
                .expect("client writes well-formed requests")
            {
                if self.chatty {
                    self.reply(Op::WatchEvent as u32, 0, b"backend\0tok\0");
                }
                let parts: Vec<&[u8]> = m.payload.splitn(2, |&b| b == 0).collect();
                let path = String::from_utf8(parts[0].to_vec()).expect("UTF-8 path");
                match Op::from_u32(m.ty) {
                    Some(Op::Read) => match self.store.get(&path).cloned() {
                        Some(v) => self.reply(m.ty, m.req_id, &v),
                        None => self.reply(Op::Error as u32, m.req_id, b"ENOENT\0"),
                    },
                    Some(Op::Write) => {
                        self.store.insert(path, parts[1].to_vec());
                        self.reply(m.ty, m.req_id, b"OK\0");
                    }
                    Some(Op::Directory) => {
                        let prefix = format!("{path}/");
                        let mut out = Vec::new();
                        for k in self.store.keys().filter_map(|k| k.strip_prefix(&prefix)) {
                            out.extend_from_slice(k.as_bytes());
                            out.push(0);
                        }
                        self.reply(m.ty, m.req_id, &out);
                    }
                    _ => self.reply(Op::Error as u32, m.req_id, b"EINVAL\0"),
                }
            }
        }

        fn wait(&mut self) -> bool {
            self.waits += 1;
            self.waits < 10
        }
    }

    fn fake(p: &Page) -> FakeStore {
        FakeStore {
            page: p.0.as_ptr() as usize,
            store: BTreeMap::new(),
            incoming: Reassembler::default(),
            waits: 0,
            chatty: false,
        }
    }

    #[test]
    fn reads_writes_and_lists_through_the_ring() {
        let p = page();
        let mut store = fake(&p);
        store.store.insert("name".into(), b"xs-guest".to_vec());
        // SAFETY: a zeroed page-aligned page that outlives the client.
        let mut c = unsafe { Client::new(p.0.as_ptr() as usize, &mut store) };
        assert_eq!(c.read("name").expect("read"), b"xs-guest");
        assert_eq!(c.read("nope"), Err(Error::Store("ENOENT".into())));
        // Enough traffic to wrap both 1 KiB rings several times.
        for i in 0..100 {
            let value = format!("value-{i}-{}", "x".repeat(i));
            c.write(&format!("device/vif/0/k{i:03}"), value.as_bytes())
                .expect("write");
            assert_eq!(
                c.read(&format!("device/vif/0/k{i:03}")).expect("read"),
                value.as_bytes()
            );
        }
        let list = c.directory("device/vif/0").expect("directory");
        assert_eq!(list.len(), 100);
        assert_eq!(list[0], "k000");
        assert_eq!(c.remove("name"), Err(Error::Store("EINVAL".into())));
    }

    #[test]
    fn keeps_watch_events_and_times_out() {
        let p = page();
        let mut store = fake(&p);
        store.chatty = true;
        store.store.insert("a".into(), b"1".to_vec());
        // SAFETY: as above.
        let mut c = unsafe { Client::new(p.0.as_ptr() as usize, &mut store) };
        assert_eq!(c.read("a").expect("read"), b"1");
        let events = c.take_events();
        assert_eq!(events.len(), 1);
        assert_eq!(
            wire::strings(&events[0].payload).collect::<Vec<_>>(),
            [&b"backend"[..], b"tok"]
        );
        assert!(c.take_events().is_empty());
        assert_eq!(
            c.write("big", &[b'x'; 5000]),
            Err(Error::TooLong),
            "over 4096 bytes"
        );
    }

    #[test]
    fn a_silent_store_times_out() {
        struct Silent(u32);
        impl Transport for Silent {
            fn notify(&mut self) {}
            fn wait(&mut self) -> bool {
                self.0 += 1;
                self.0 < 5
            }
        }
        let p = page();
        // SAFETY: as above.
        let mut c = unsafe { Client::new(p.0.as_ptr() as usize, Silent(0)) };
        assert_eq!(c.read("name"), Err(Error::Timeout));
    }
}
