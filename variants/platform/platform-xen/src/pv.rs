//! What the PV frontends ([`crate::netfront`], [`crate::blkfront`]) share: pages granted to
//! a backend, the xenstore reads of their handshake, and why connecting failed.

use alloc::string::String;

use crate::xenstore::{self, Client, Guest};
use crate::{clock, hypercall};

/// How long a backend may take to reach a state.
const HANDSHAKE_NS: u64 = 5_000_000_000;

/// A page of the heap shared with a backend (its grant made by the frontend). It is kept for
/// the unikernel's life: a granted page is never handed back to the allocator.
pub struct SharedPage(usize);

impl SharedPage {
    /// A zeroed page; `None` when the heap is out of memory.
    pub fn new() -> Option<SharedPage> {
        let layout = core::alloc::Layout::from_size_align(4096, 4096).ok()?;
        // SAFETY: a non-zero-sized layout; the page is never freed (see the type's docs).
        let p = unsafe { alloc::alloc::alloc_zeroed(layout) };
        (!p.is_null()).then_some(SharedPage(p as usize))
    }

    /// Its guest frame number (the heap is identity-mapped).
    pub fn frame(&self) -> u32 {
        (self.0 >> 12) as u32
    }

    /// Writes `v` at byte `off` (`off + size_of::<T>() <= 4096`, aligned).
    pub fn put<T>(&self, off: usize, v: T) {
        assert!(off + core::mem::size_of::<T>() <= 4096, "inside the page");
        // SAFETY: inside the page (checked), aligned at every call site; the frontend owns
        // the field it writes until it publishes it.
        unsafe { core::ptr::write_volatile((self.0 + off) as *mut T, v) }
    }

    /// Reads a `T` at byte `off` (as [`SharedPage::put`]); volatile, since the backend
    /// writes concurrently.
    pub fn get<T>(&self, off: usize) -> T {
        assert!(off + core::mem::size_of::<T>() <= 4096, "inside the page");
        // SAFETY: as in `put`.
        unsafe { core::ptr::read_volatile((self.0 + off) as *const T) }
    }

    /// Copies `out.len()` bytes from byte `off` (clamped to the page).
    pub fn read_into(&self, off: usize, out: &mut [u8]) {
        let off = off.min(4096);
        let n = out.len().min(4096 - off);
        // SAFETY: inside the page; the backend has finished with it (its response was read
        // first).
        unsafe { core::ptr::copy_nonoverlapping((self.0 + off) as *const u8, out.as_mut_ptr(), n) }
    }

    /// Copies `data` (clamped to a page) to the start of the page.
    pub fn write_from(&self, data: &[u8]) {
        let n = data.len().min(4096);
        // SAFETY: inside the page, which the backend does not read until the request.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), self.0 as *mut u8, n) }
    }
}

/// Why connecting a frontend failed.
#[derive(Debug)]
pub enum ConnectError {
    /// No such device in xenstore, or a key is missing (which one, and xenstore's answer).
    Xenstore(&'static str, xenstore::Error),
    /// A key has an unexpected value.
    Malformed(&'static str),
    /// Out of memory, grant references or event channels.
    Resources(&'static str),
    /// The backend did not reach the state within 5 s (its last state).
    Backend(String),
}

impl core::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConnectError::Xenstore(what, e) => write!(f, "xenstore, {what}: {e:?}"),
            ConnectError::Malformed(what) => write!(f, "xenstore has a malformed {what}"),
            ConnectError::Resources(what) => write!(f, "out of {what}"),
            ConnectError::Backend(state) => write!(
                f,
                "the backend did not connect within 5 s (its state is {state})"
            ),
        }
    }
}

impl ConnectError {
    /// Whether the frontend is simply not there: xenstore has no `backend` for it (the
    /// domain's configuration has no such `vif` or `disk`).
    pub fn not_attached(&self) -> bool {
        matches!(self, ConnectError::Xenstore("backend", xenstore::Error::Store(e)) if e == "ENOENT")
    }

    /// Prints why frontend `dev` (`device/vif/1`) did not connect, unless it is not
    /// attached (the interface's own error says that): the interface's error alone (an I/O
    /// error) would hide the reason.
    pub fn report(&self, dev: &str) {
        if !self.not_attached() {
            let _ = core::fmt::write(
                &mut crate::console::Console,
                format_args!("petrel: {dev}: {self}\n"),
            );
        }
    }
}

/// The value at `path`, trimmed (`what` names it in the error).
pub fn read_text(
    xs: &mut Client<Guest>,
    path: &str,
    what: &'static str,
) -> Result<String, ConnectError> {
    xs.read(path)
        .map(|v| String::from_utf8_lossy(&v).trim().into())
        .map_err(|e| ConnectError::Xenstore(what, e))
}

/// Writes `value` at `path` (`what` names it in the error).
pub fn write_text(
    xs: &mut Client<Guest>,
    path: &str,
    value: &str,
    what: &'static str,
) -> Result<(), ConnectError> {
    xs.write(path, value.as_bytes())
        .map_err(|e| ConnectError::Xenstore(what, e))
}

/// Waits (yielding) until the backend's `state` at `path` reads `want`, for up to 5 s.
pub fn wait_state(xs: &mut Client<Guest>, path: &str, want: &str) -> Result<(), ConnectError> {
    let deadline = clock::monotonic_ns() + HANDSHAKE_NS;
    loop {
        let state = read_text(xs, path, "backend state")?;
        if state == want {
            return Ok(());
        }
        if clock::monotonic_ns() > deadline {
            return Err(ConnectError::Backend(state));
        }
        hypercall::sched_yield();
    }
}

/// The backend's path and domain id of frontend `dev` (`device/vif/0`, ...).
pub fn backend_of(xs: &mut Client<Guest>, dev: &str) -> Result<(String, u16), ConnectError> {
    let backend = read_text(xs, &alloc::format!("{dev}/backend"), "backend")?;
    let id = read_text(xs, &alloc::format!("{dev}/backend-id"), "backend-id")?
        .parse()
        .map_err(|_| ConnectError::Malformed("backend-id"))?;
    Ok((backend, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn says_why_a_frontend_did_not_connect() {
        let absent = ConnectError::Xenstore("backend", xenstore::Error::Store("ENOENT".into()));
        assert!(absent.not_attached());
        let denied = ConnectError::Xenstore("backend", xenstore::Error::Store("EACCES".into()));
        assert!(!denied.not_attached());
        assert_eq!(
            ConnectError::Resources("grant references").to_string(),
            "out of grant references"
        );
        assert_eq!(
            ConnectError::Backend("5".into()).to_string(),
            "the backend did not connect within 5 s (its state is 5)"
        );
    }
}
