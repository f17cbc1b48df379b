//! A PV block frontend (blkfront), first cut: one disk (`device/vbd/N`), one request at a
//! time, at most one page (8 sectors of 512 bytes) per request, waited for by polling.
//!
//! Connecting: the frontend finds its backend in xenstore (`device/vbd/N/backend`,
//! `backend-id`), shares one ring page and one data page with it (granted), allocates an
//! event channel the backend binds to, writes `ring-ref`, `event-channel` and `protocol`,
//! switches `state` to Initialised (3), waits for the backend to be Connected (4), reads
//! `sectors`, `sector-size` and `info` from it, and switches to Connected.
//!
//! The ring (`blkif.h`, the native x86_64 layout) has a 64-byte header and 32 slots of 112
//! bytes. A request is `{ operation u8, nr_segments u8, handle u16, id u64 at 8,
//! sector_number u64 at 16, segments at 24: { gref u32, first_sect u8, last_sect u8 } x 11 }`;
//! a response `{ id u64, operation u8, status i16 at 10 }` (0 = done).

use alloc::string::String;
use core::sync::atomic::{Ordering, fence};

use crate::grant_table::{self, GrantRef};
use crate::pv::{self, ConnectError, SharedPage as Page};
use crate::xenstore::{Client, Guest};
use crate::{clock, evtchn, hypercall};

/// The sector size of the protocol (and of every request).
pub const SECTOR: u64 = 512;
/// The ring header's size.
const HEADER: usize = 64;
/// A slot's size.
const SLOT: usize = 112;
/// Slots in the ring.
const SLOTS: u32 = 32;
/// How long one request may take.
const TIMEOUT_NS: u64 = 5_000_000_000;

/// Why a transfer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoError {
    /// Not a whole number of sectors, more than a page, or past the end.
    Invalid,
    /// The disk is read-only.
    ReadOnly,
    /// The backend answered with an error, or not within 5 s.
    Device,
}

/// A connected disk.
pub struct Blkfront {
    port: u32,
    handle: u16,
    sectors: u64,
    read_only: bool,
    ring: Page,
    data: Page,
    data_ref: GrantRef,
    prod: u32,
    cons: u32,
}

impl Blkfront {
    /// Connects `device/vbd/<id>` (see the module docs).
    pub fn connect(xs: &mut Client<Guest>, id: u32) -> Result<Blkfront, ConnectError> {
        let dev = alloc::format!("device/vbd/{id}");
        let (backend, backend_id) = pv::backend_of(xs, &dev)?;
        let handle = u16::try_from(id).map_err(|_| ConnectError::Malformed("device id"))?;
        let page = || Page::new().ok_or(ConnectError::Resources("memory"));
        let (ring, data) = (page()?, page()?);
        // SHARED_RING_INIT: the event thresholds start at 1.
        ring.put::<u32>(4, 1);
        ring.put::<u32>(12, 1);
        let grant = |frame: u32| {
            grant_table::grant(backend_id, frame, false)
                .map_err(|_| ConnectError::Resources("grant references"))
        };
        let ring_ref = grant(ring.frame())?;
        let data_ref = grant(data.frame())?;
        let port = evtchn::alloc_unbound(backend_id)
            .map_err(|_| ConnectError::Resources("event channel"))?;
        let keys: [(&str, String); 3] = [
            ("ring-ref", alloc::format!("{}", ring_ref.0)),
            ("event-channel", alloc::format!("{port}")),
            ("protocol", "x86_64-abi".into()),
        ];
        for (key, value) in keys {
            pv::write_text(xs, &alloc::format!("{dev}/{key}"), &value, "frontend keys")?;
        }
        pv::write_text(xs, &alloc::format!("{dev}/state"), "3", "state")?;
        pv::wait_state(xs, &alloc::format!("{backend}/state"), "4")?;
        let number = |xs: &mut Client<Guest>, key: &'static str| -> Result<u64, ConnectError> {
            pv::read_text(xs, &alloc::format!("{backend}/{key}"), key)?
                .parse()
                .map_err(|_| ConnectError::Malformed(key))
        };
        let sectors = number(xs, "sectors")?;
        let sector_size = number(xs, "sector-size")?;
        let info = number(xs, "info").unwrap_or(0);
        if sector_size != SECTOR {
            return Err(ConnectError::Malformed(
                "sector-size (only 512 is supported)",
            ));
        }
        pv::write_text(xs, &alloc::format!("{dev}/state"), "4", "state")?;
        Ok(Blkfront {
            port,
            handle,
            sectors,
            read_only: info & 4 != 0, // VDISK_READONLY
            ring,
            data,
            data_ref,
            prod: 0,
            cons: 0,
        })
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.sectors * SECTOR
    }

    /// Whether the backend refuses writes.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Checks a transfer of `len` bytes at byte `offset`; its first sector.
    fn check(&self, offset: u64, len: usize) -> Result<u64, IoError> {
        let len = len as u64;
        if len == 0 || len > 4096 || !len.is_multiple_of(SECTOR) || !offset.is_multiple_of(SECTOR) {
            return Err(IoError::Invalid);
        }
        match offset.checked_add(len) {
            Some(end) if end <= self.capacity() => Ok(offset / SECTOR),
            _ => Err(IoError::Invalid),
        }
    }

    /// One request on the data page: `op` 0 reads, 1 writes, `sectors` from `sector`.
    fn transfer(&mut self, op: u8, sector: u64, sectors: u8) -> Result<(), IoError> {
        // Requests that timed out stay on the ring until their late answers come: never
        // write over one the backend has not answered.
        if self.prod.wrapping_sub(self.cons) >= SLOTS {
            return Err(IoError::Device);
        }
        let id = u64::from(self.prod);
        let slot = HEADER + SLOT * (self.prod % SLOTS) as usize;
        let r = &self.ring;
        r.put::<u8>(slot, op);
        r.put::<u8>(slot + 1, 1); // one segment
        r.put::<u16>(slot + 2, self.handle);
        r.put::<u64>(slot + 8, id);
        r.put::<u64>(slot + 16, sector);
        r.put::<u32>(slot + 24, self.data_ref.0);
        r.put::<u8>(slot + 28, 0); // first sector in the page
        r.put::<u8>(slot + 29, sectors - 1); // last sector in the page
        self.prod = self.prod.wrapping_add(1);
        fence(Ordering::Release);
        r.put::<u32>(0, self.prod);
        evtchn::notify(self.port);
        let deadline = clock::monotonic_ns() + TIMEOUT_NS;
        loop {
            let rsp_prod: u32 = r.get(8);
            fence(Ordering::Acquire);
            if let Some(status) = take_answer(r, &mut self.cons, rsp_prod, id) {
                return if status == 0 {
                    Ok(())
                } else {
                    Err(IoError::Device)
                };
            }
            if clock::monotonic_ns() > deadline {
                return Err(IoError::Device);
            }
            hypercall::sched_yield();
        }
    }

    /// Reads `buf.len()` bytes (whole sectors, at most 4096) at byte `offset`.
    pub fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let sector = self.check(offset, buf.len())?;
        self.transfer(0, sector, (buf.len() as u64 / SECTOR) as u8)?;
        self.data.read_into(0, buf);
        Ok(())
    }

    /// Writes `buf` (whole sectors, at most 4096 bytes) at byte `offset`.
    pub fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), IoError> {
        let sector = self.check(offset, buf.len())?;
        if self.read_only {
            return Err(IoError::ReadOnly);
        }
        self.data.write_from(buf);
        self.transfer(1, sector, (buf.len() as u64 / SECTOR) as u8)
    }
}

/// Consumes the responses from `cons` up to `rsp_prod` until the one to request `id`, and
/// gives its status. Answers to other requests (late ones, to requests that timed out) are
/// skipped; a `rsp_prod` further ahead than the ring holds (a confused backend) is not read.
fn take_answer(ring: &Page, cons: &mut u32, rsp_prod: u32, id: u64) -> Option<i16> {
    if rsp_prod.wrapping_sub(*cons) > SLOTS {
        return None;
    }
    while *cons != rsp_prod {
        let slot = HEADER + SLOT * (*cons % SLOTS) as usize;
        let answered: u64 = ring.get(slot);
        let status: i16 = ring.get(slot + 10);
        *cons = cons.wrapping_add(1);
        if answered == id {
            return Some(status);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_its_own_answer_and_skips_late_ones() {
        let ring = Page::new().expect("memory");
        let answer = |n: u32, id: u64, status: i16| {
            let slot = HEADER + SLOT * (n % SLOTS) as usize;
            ring.put::<u64>(slot, id);
            ring.put::<i16>(slot + 10, status);
        };
        // A late error for request 7 (which timed out), then request 8's answer.
        answer(0, 7, -1);
        answer(1, 8, 0);
        let mut cons = 0;
        assert_eq!(take_answer(&ring, &mut cons, 2, 8), Some(0));
        assert_eq!(cons, 2);
        assert_eq!(
            take_answer(&ring, &mut cons, 2, 9),
            None,
            "not answered yet"
        );
        // A backend error reaches the request it answers.
        answer(2, 9, -1);
        assert_eq!(take_answer(&ring, &mut cons, 3, 9), Some(-1));
        // A producer index far ahead is not believed: nothing is consumed.
        assert_eq!(take_answer(&ring, &mut cons, 3 + SLOTS + 1, 10), None);
        assert_eq!(cons, 3);
        // Indices wrap.
        let mut cons = u32::MAX;
        answer(u32::MAX, 11, 0);
        assert_eq!(take_answer(&ring, &mut cons, 0, 11), Some(0));
        assert_eq!(cons, 0);
    }
}
