//! Grant tables (version 1): how the guest lets a backend in dom0 map or copy its pages,
//! which netfront and blkfront need for their rings and buffers.
//!
//! A grant reference is an index into the table, an array of 8-byte entries
//! (`struct grant_entry_v1 { uint16_t flags; domid_t domid; uint32_t frame; }`) in frames
//! Xen lends the guest (`XENMEM_add_to_physmap(XENMAPSPACE_grant_table)`). To grant, the
//! guest writes `domid` and `frame` and then, last, `flags = GTF_permit_access` (plus
//! `GTF_readonly`); to revoke, it clears `flags` atomically unless Xen has marked the entry
//! in use (`GTF_reading`/`GTF_writing`: the backend still has it mapped). References 0-7
//! are reserved for the toolstack (console and xenstore pages).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU16, AtomicU32, Ordering, fence};

use petrel_rt_core::single_core::Global;

/// `GTF_permit_access`: the entry grants access to `frame` to `domid`.
pub const GTF_PERMIT_ACCESS: u16 = 1;
/// `GTF_readonly`: read-only access.
pub const GTF_READONLY: u16 = 1 << 2;
/// `GTF_reading`: Xen has the frame mapped or is copying from it.
pub const GTF_READING: u16 = 1 << 3;
/// `GTF_writing`: Xen has the frame mapped writable or is copying to it.
pub const GTF_WRITING: u16 = 1 << 4;
/// `GNTTAB_NR_RESERVED_ENTRIES`.
pub const RESERVED: u32 = 8;
/// Entries per 4 KiB frame.
pub const PER_FRAME: usize = 4096 / 8;

/// One `grant_entry_v1`, as shared with Xen.
#[repr(C)]
pub struct Entry {
    /// `GTF_*` flags.
    pub flags: AtomicU16,
    /// The domain allowed in.
    pub domid: AtomicU16,
    /// The guest frame granted.
    pub frame: AtomicU32,
}

/// A grant reference, to hand to a backend (through xenstore or a ring).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantRef(pub u32);

/// Why a grant could not be made or revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantError {
    /// Every reference is in use.
    Exhausted,
    /// The backend still uses the entry (`GTF_reading`/`GTF_writing`): try again later.
    InUse,
    /// Not a reference this table handed out.
    NotGranted,
    /// Xen gave no grant table.
    NoTable,
}

/// The guest's grant table: the shared entries and the free references.
pub struct GrantTable {
    entries: &'static [Entry],
    free: Vec<u32>,
}

impl GrantTable {
    /// A table over `entries` (the frames Xen lent, or a test's memory), all free but the
    /// reserved ones.
    pub fn new(entries: &'static [Entry]) -> Self {
        let free = (RESERVED..entries.len() as u32).rev().collect();
        GrantTable { entries, free }
    }

    /// Grants `domid` access to guest frame `frame` (read-only if `readonly`).
    pub fn grant(
        &mut self,
        domid: u16,
        frame: u32,
        readonly: bool,
    ) -> Result<GrantRef, GrantError> {
        let r = self.free.pop().ok_or(GrantError::Exhausted)?;
        let e = &self.entries[r as usize];
        e.domid.store(domid, Ordering::Relaxed);
        e.frame.store(frame, Ordering::Relaxed);
        // Xen must see the domain and frame before the flag that makes them valid.
        fence(Ordering::Release);
        let ro = if readonly { GTF_READONLY } else { 0 };
        e.flags.store(GTF_PERMIT_ACCESS | ro, Ordering::Release);
        Ok(GrantRef(r))
    }

    /// Revokes grant `r` unless the backend still uses it; the reference is free again.
    pub fn end(&mut self, r: GrantRef) -> Result<(), GrantError> {
        let e = self
            .entries
            .get(r.0 as usize)
            .filter(|_| r.0 >= RESERVED && !self.free.contains(&r.0))
            .ok_or(GrantError::NotGranted)?;
        let mut flags = e.flags.load(Ordering::Acquire);
        loop {
            if flags & (GTF_READING | GTF_WRITING) != 0 {
                return Err(GrantError::InUse);
            }
            match e
                .flags
                .compare_exchange(flags, 0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(now) => flags = now,
            }
        }
        self.free.push(r.0);
        Ok(())
    }

    /// How many references are free.
    pub fn free(&self) -> usize {
        self.free.len()
    }
}

/// The domain's one grant table (Xen has one per domain), set up on first use.
static TABLE: Global<Option<GrantTable>> = Global::new(None);

/// Grants `domid` access to guest frame `frame` in the domain's grant table.
pub fn grant(domid: u16, frame: u32, readonly: bool) -> Result<GrantRef, GrantError> {
    with_table(|t| t.grant(domid, frame, readonly))
}

/// Revokes grant `r` of the domain's grant table (see [`GrantTable::end`]).
pub fn end(r: GrantRef) -> Result<(), GrantError> {
    with_table(|t| t.end(r))
}

/// How many references of the domain's grant table are free (0 without one).
pub fn free() -> usize {
    with_table(|t| Ok(t.free())).unwrap_or(0)
}

fn with_table<R>(
    f: impl FnOnce(&mut GrantTable) -> Result<R, GrantError>,
) -> Result<R, GrantError> {
    TABLE.with(|t| {
        if t.is_none() {
            *t = setup();
        }
        t.as_mut().map_or(Err(GrantError::NoTable), f)
    })
}

/// How many grant frames the guest asks for: 2040 usable references, enough for several
/// netfronts (322 references each: two rings, 64 transmit and 256 receive pages) and
/// blkfronts (2 each). Xen's default limit for a guest (`max_grant_frames`) is larger.
pub const FRAMES: usize = 4;

/// Sets up the table: Xen's grant frames 0.. put over contiguous pages of the heap, which
/// the table keeps for the unikernel's life. If Xen lends fewer than [`FRAMES`] (a lower
/// `max_grant_frames`), the table covers those it lent; none at all is no table.
fn setup() -> Option<GrantTable> {
    let layout = core::alloc::Layout::from_size_align(4096 * FRAMES, 4096).ok()?;
    // SAFETY: a non-zero-sized layout; the pages are never freed (they become grant frames).
    let pages = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if pages.is_null() {
        return None;
    }
    use crate::hypercall::{MAPSPACE_GRANT_TABLE, add_to_physmap};
    let first = pages as u64 >> 12;
    let lent = (0..FRAMES as u64)
        // SAFETY: our page-aligned pages, never freed, from now on grant frames 0...
        .take_while(|&i| unsafe { add_to_physmap(MAPSPACE_GRANT_TABLE, i, first + i) }.is_ok())
        .count();
    if lent == 0 {
        return None;
    }
    // SAFETY: the pages now hold `lent * PER_FRAME` entries shared with Xen, all atomics, and
    // live as long as the unikernel.
    let entries = unsafe { core::slice::from_raw_parts(pages as *const Entry, lent * PER_FRAME) };
    Some(GrantTable::new(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: usize) -> (&'static [Entry], GrantTable) {
        let entries: &'static [Entry] = Vec::leak(
            (0..n)
                .map(|_| Entry {
                    flags: AtomicU16::new(0),
                    domid: AtomicU16::new(0),
                    frame: AtomicU32::new(0),
                })
                .collect(),
        );
        (entries, GrantTable::new(entries))
    }

    #[test]
    fn grants_and_revokes_like_xen_expects() {
        assert_eq!(core::mem::size_of::<Entry>(), 8);
        let (entries, mut t) = table(12);
        assert_eq!(t.free(), 4);
        let a = t.grant(0, 0x1234, false).expect("free");
        let b = t.grant(0, 0x5678, true).expect("free");
        assert!(a.0 >= RESERVED && b.0 >= RESERVED && a != b);
        let e = &entries[b.0 as usize];
        assert_eq!(
            e.flags.load(Ordering::SeqCst),
            GTF_PERMIT_ACCESS | GTF_READONLY
        );
        assert_eq!(e.frame.load(Ordering::SeqCst), 0x5678);
        // The backend maps it: revoking must wait.
        e.flags.fetch_or(GTF_READING, Ordering::SeqCst);
        assert_eq!(t.end(b), Err(GrantError::InUse));
        e.flags.fetch_and(!GTF_READING, Ordering::SeqCst);
        assert_eq!(t.end(b), Ok(()));
        assert_eq!(e.flags.load(Ordering::SeqCst), 0);
        assert_eq!(t.end(b), Err(GrantError::NotGranted), "twice");
        assert_eq!(t.end(GrantRef(3)), Err(GrantError::NotGranted), "reserved");
        assert_eq!(
            t.end(GrantRef(99)),
            Err(GrantError::NotGranted),
            "past the end"
        );
        for _ in 0..3 {
            t.grant(0, 1, false).expect("free");
        }
        assert_eq!(t.grant(0, 1, false), Err(GrantError::Exhausted));
        // The reserved entries were never touched.
        assert!(
            entries[..RESERVED as usize]
                .iter()
                .all(|e| e.flags.load(Ordering::SeqCst) == 0)
        );
        assert_eq!(t.end(a), Ok(()));
    }
}
