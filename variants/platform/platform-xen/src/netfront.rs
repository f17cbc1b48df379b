//! A PV network frontend (netfront), first cut: one interface (`device/vif/N`), one queue,
//! frames of at most one page, the receive side in copy mode (`request-rx-copy`).
//!
//! Connecting: the frontend finds its backend in xenstore (`device/vif/N/backend`,
//! `backend-id`, `mac`), shares two rings with it (a page each, granted to the backend),
//! allocates an event channel the backend binds to, writes `tx-ring-ref`, `rx-ring-ref`,
//! `event-channel`, `request-rx-copy`, `feature-rx-notify`, `feature-no-csum-offload`
//! (every frame carries a complete checksum), switches `state` to Connected
//! (4) and waits until the backend's `state` is Connected too.
//!
//! The rings (`netif.h`) start with a 64-byte header (`req_prod`, `req_event`, `rsp_prod`,
//! `rsp_event`, padding), then 256 slots: on the transmit ring a request is
//! `{ gref u32, offset u16, flags u16, id u16, size u16 }` and a response `{ id u16,
//! status i16 }`; on the receive ring a request is `{ id u16, pad u16, gref u32 }` and a
//! response `{ id u16, offset u16, flags u16, status i16 }` (status: the length, or < 0).
//! Every buffer is a page granted once and reused: the backend copies received frames into
//! the receive pages and reads frames to send from the transmit pages.

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{Ordering, fence};
use core::task::Waker;

use crate::grant_table::{self, GrantRef};
use crate::pv::{self, ConnectError, SharedPage as Page};
use crate::xenstore::{Client, Guest};
use crate::{events, evtchn};

/// Slots per ring (the largest power of two that fits a page for both rings).
const SLOTS: u32 = 256;
/// The ring header's size.
const HEADER: usize = 64;
/// The largest frame (the MTU plus the Ethernet header): one page is enough.
const ETH: usize = 14;
/// The MTU the backend is asked for (the default; no `feature-sg`, no GSO).
pub const MTU: u16 = 1500;
/// How many transmit buffers (and ids) there are: at most 64, one bit each in
/// `Netfront::tx_in_flight`.
const TX_BUFFERS: u16 = 64;
const _: () = assert!(TX_BUFFERS <= 64);

/// Offsets of the shared ring header fields.
const REQ_PROD: usize = 0;
const RSP_PROD: usize = 8;
const RSP_EVENT: usize = 12;

/// A connected network interface.
pub struct Netfront {
    port: u32,
    mac: [u8; 6],
    tx: Page,
    rx: Page,
    tx_bufs: Vec<(Page, GrantRef)>,
    rx_bufs: Vec<(Page, GrantRef)>,
    tx_free: Vec<u16>,
    /// Bit `id` set while transmit buffer `id` is the backend's: an id it answers twice, or
    /// one it was never given, is not taken back (two frames would share a buffer).
    tx_in_flight: u64,
    tx_prod: u32,
    tx_cons: u32,
    rx_prod: u32,
    rx_cons: u32,
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.trim().split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

impl Netfront {
    /// Connects `device/vif/<index>` (see the module docs).
    pub fn connect(xs: &mut Client<Guest>, index: u32) -> Result<Netfront, ConnectError> {
        let dev = alloc::format!("device/vif/{index}");
        let (backend, backend_id) = pv::backend_of(xs, &dev)?;
        let mac = parse_mac(&pv::read_text(xs, &alloc::format!("{dev}/mac"), "mac")?)
            .ok_or(ConnectError::Malformed("mac"))?;

        let page = || Page::new().ok_or(ConnectError::Resources("memory"));
        let grant = |frame: u32, ro: bool| {
            grant_table::grant(backend_id, frame, ro)
                .map_err(|_| ConnectError::Resources("grant references"))
        };
        let (tx, rx) = (page()?, page()?);
        for ring in [&tx, &rx] {
            // SHARED_RING_INIT: the event thresholds start at 1.
            ring.put::<u32>(4, 1);
            ring.put::<u32>(RSP_EVENT, 1);
        }
        let tx_ref = grant(tx.frame(), false)?;
        let rx_ref = grant(rx.frame(), false)?;
        let mut tx_bufs = Vec::new();
        for _ in 0..TX_BUFFERS {
            let p = page()?;
            let r = grant(p.frame(), true)?;
            tx_bufs.push((p, r));
        }
        let mut rx_bufs = Vec::new();
        for _ in 0..SLOTS {
            let p = page()?;
            let r = grant(p.frame(), false)?;
            rx_bufs.push((p, r));
        }
        let port = evtchn::alloc_unbound(backend_id)
            .map_err(|_| ConnectError::Resources("event channel"))?;
        let mut nf = Netfront {
            port,
            mac,
            tx,
            rx,
            tx_bufs,
            rx_bufs,
            tx_free: (0..TX_BUFFERS).rev().collect(),
            tx_in_flight: 0,
            tx_prod: 0,
            tx_cons: 0,
            rx_prod: 0,
            rx_cons: 0,
        };
        for id in 0..SLOTS as u16 {
            nf.post_rx(id);
        }
        nf.publish_rx();

        let keys: [(&str, String); 6] = [
            ("tx-ring-ref", alloc::format!("{}", tx_ref.0)),
            ("rx-ring-ref", alloc::format!("{}", rx_ref.0)),
            ("event-channel", alloc::format!("{port}")),
            ("request-rx-copy", "1".into()),
            ("feature-rx-notify", "1".into()),
            // Complete checksums only: otherwise netback hands over TCP and UDP frames from
            // dom0 with the checksum left blank (offloaded), which the stack drops as bad.
            ("feature-no-csum-offload", "1".into()),
        ];
        for (key, value) in keys {
            pv::write_text(xs, &alloc::format!("{dev}/{key}"), &value, "frontend keys")?;
        }
        pv::write_text(xs, &alloc::format!("{dev}/state"), "4", "state")?;
        pv::wait_state(xs, &alloc::format!("{backend}/state"), "4")?;
        evtchn::notify(port);
        Ok(nf)
    }

    /// Queues receive slot `id` (its page) for the backend to fill.
    fn post_rx(&mut self, id: u16) {
        let slot = HEADER + 8 * (self.rx_prod % SLOTS) as usize;
        self.rx.put::<u16>(slot, id);
        self.rx
            .put::<u32>(slot + 4, self.rx_bufs[usize::from(id)].1.0);
        self.rx_prod = self.rx_prod.wrapping_add(1);
    }

    /// Publishes the posted receive slots.
    fn publish_rx(&mut self) {
        fence(Ordering::Release);
        self.rx.put::<u32>(REQ_PROD, self.rx_prod);
        evtchn::notify(self.port);
    }

    /// The MAC address xenstore gives.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// The event channel (its events wake the task registered with
    /// [`Netfront::register_waker`]).
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Receives one frame into `buf`; `None` when nothing is there. Frames longer than `buf`
    /// are cut.
    pub fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        // Responses without a frame (errors) are skipped: at most a ringful per call.
        for _ in 0..=SLOTS {
            if let Some(n) = self.read_one(buf)? {
                return Some(n);
            }
        }
        None
    }

    /// One response: `Some(Some(n))` a frame, `Some(None)` a response without one (an
    /// error), `None` when there is none (the event for the next one asked for).
    fn read_one(&mut self, buf: &mut [u8]) -> Option<Option<usize>> {
        let prod = self.rx.get::<u32>(RSP_PROD);
        fence(Ordering::Acquire);
        if self.rx_cons == prod {
            // Ask for an event at the next response, then look once more (a response
            // that arrived in between would not send one).
            self.rx.put::<u32>(RSP_EVENT, self.rx_cons.wrapping_add(1));
            fence(Ordering::SeqCst);
            if self.rx.get::<u32>(RSP_PROD) == self.rx_cons {
                return None;
            }
            return Some(None);
        }
        // A producer index further ahead than the ring holds: a confused backend, whose
        // slots are not read.
        if prod.wrapping_sub(self.rx_cons) > SLOTS {
            return None;
        }
        let slot = HEADER + 8 * (self.rx_cons % SLOTS) as usize;
        let id = self.rx.get::<u16>(slot);
        // The backend says where in the page; never past it.
        let offset = usize::from(self.rx.get::<u16>(slot + 2)).min(4096);
        let status = self.rx.get::<u16>(slot + 6) as i16;
        self.rx_cons = self.rx_cons.wrapping_add(1);
        let id = id % SLOTS as u16;
        let n = if status > 0 {
            let len = (status as usize).min(buf.len()).min(4096 - offset);
            self.rx_bufs[usize::from(id)]
                .0
                .read_into(offset, &mut buf[..len]);
            len
        } else {
            0
        };
        self.post_rx(id);
        self.publish_rx();
        Some((n > 0).then_some(n))
    }

    /// Takes back the transmit buffers the backend is done with.
    fn reclaim_tx(&mut self) {
        let prod = self.tx.get::<u32>(RSP_PROD);
        fence(Ordering::Acquire);
        reclaim(
            &self.tx,
            &mut self.tx_cons,
            prod,
            &mut self.tx_in_flight,
            &mut self.tx_free,
        );
    }

    /// Queues one frame (at most MTU + 14 bytes); `false` if it is too long or every
    /// transmit buffer is in flight.
    pub fn write(&mut self, frame: &[u8]) -> bool {
        if frame.len() > ETH + usize::from(MTU) {
            return false;
        }
        self.reclaim_tx();
        let Some(id) = self.tx_free.pop() else {
            return false;
        };
        self.tx_in_flight |= 1 << id;
        let (page, gref) = &self.tx_bufs[usize::from(id)];
        page.write_from(frame);
        let slot = HEADER + 12 * (self.tx_prod % SLOTS) as usize;
        self.tx.put::<u32>(slot, gref.0);
        self.tx.put::<u16>(slot + 4, 0); // offset
        self.tx.put::<u16>(slot + 6, 0); // flags
        self.tx.put::<u16>(slot + 8, id);
        self.tx.put::<u16>(slot + 10, frame.len() as u16);
        self.tx_prod = self.tx_prod.wrapping_add(1);
        fence(Ordering::Release);
        self.tx.put::<u32>(REQ_PROD, self.tx_prod);
        evtchn::notify(self.port);
        true
    }

    /// Wakes `waker` at the interface's next event. One-shot: register again after each
    /// wake-up, after [`Netfront::read`] returned `None`.
    pub fn register_waker(&self, waker: &Waker) {
        events::register_waker(self.port, waker);
    }
}

/// Consumes the transmit responses from `cons` up to `prod`: each buffer in flight that the
/// backend answers goes back to `free`, once. A `prod` further ahead than the ring holds (a
/// confused backend) is not read.
fn reclaim(tx: &Page, cons: &mut u32, prod: u32, in_flight: &mut u64, free: &mut Vec<u16>) {
    if prod.wrapping_sub(*cons) > SLOTS {
        return;
    }
    while *cons != prod {
        let slot = HEADER + 12 * (*cons % SLOTS) as usize;
        let id = tx.get::<u16>(slot);
        let bit = 1u64.checked_shl(u32::from(id)).unwrap_or(0);
        if *in_flight & bit != 0 {
            *in_flight &= !bit;
            free.push(id);
        }
        *cons = cons.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_back_each_transmit_buffer_once() {
        let tx = Page::new().expect("memory");
        let answer = |n: u32, id: u16| tx.put::<u16>(HEADER + 12 * (n % SLOTS) as usize, id);
        // Buffers 3 and 5 are the backend's; it answers 3, 3 again, 9 (never given) and 5.
        let (mut cons, mut in_flight, mut free) = (0, (1 << 3) | (1 << 5), alloc::vec![]);
        for (n, id) in [3, 3, 9, 5].into_iter().enumerate() {
            answer(n as u32, id);
        }
        reclaim(&tx, &mut cons, 4, &mut in_flight, &mut free);
        assert_eq!((cons, in_flight, free.as_slice()), (4, 0, &[3, 5][..]));
        // An id past the bitmask, and a producer index far ahead.
        answer(4, 700);
        reclaim(&tx, &mut cons, 5, &mut in_flight, &mut free);
        assert_eq!((cons, free.len()), (5, 2));
        reclaim(&tx, &mut cons, 5 + SLOTS + 1, &mut in_flight, &mut free);
        assert_eq!(cons, 5, "not believed");
    }

    #[test]
    fn parses_xenstore_macs() {
        assert_eq!(
            parse_mac("00:16:3e:6a:45:ca"),
            Some([0x00, 0x16, 0x3e, 0x6a, 0x45, 0xca])
        );
        assert_eq!(parse_mac("00:16:3e:6a:45"), None);
        assert_eq!(parse_mac("00:16:3e:6a:45:ca:01"), None);
        assert_eq!(parse_mac("00:16:3e:6a:45:zz"), None);
    }
}
