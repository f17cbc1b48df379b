//! Event-channel operations a frontend needs beyond what [`crate::events`] does for the
//! timer: a port for a backend domain to bind to, closing it, notifying it.
//! (`EVTCHNOP_*` of Xen's `event_channel.h`.)

use crate::hypercall::{self, DOMID_SELF, EVENT_CHANNEL_OP};

/// `struct evtchn_alloc_unbound`.
#[repr(C)]
struct AllocUnbound {
    dom: u16,
    remote_dom: u16,
    port: u32,
}

/// Allocates a port that domain `remote` (the backend) may bind to; `Err(-errno)` if Xen
/// refuses. Its events reach the idle loop, which wakes the task registered with
/// [`crate::events::register_waker`] for it.
pub fn alloc_unbound(remote: u16) -> Result<u32, i64> {
    let mut arg = AllocUnbound {
        dom: DOMID_SELF,
        remote_dom: remote,
        port: 0,
    };
    // SAFETY: EVTCHNOP_alloc_unbound (6) takes a `struct evtchn_alloc_unbound`.
    let rc = unsafe { hypercall::call_ptr(EVENT_CHANNEL_OP, 6, &mut arg) };
    if rc < 0 {
        return Err(rc);
    }
    crate::events::unmask_port(arg.port);
    Ok(arg.port)
}

/// Closes `port`.
pub fn close(port: u32) {
    let mut p = port;
    // SAFETY: EVTCHNOP_close (3) takes a `struct evtchn_close { evtchn_port_t port; }`.
    unsafe { hypercall::call_ptr(EVENT_CHANNEL_OP, 3, &mut p) };
}

/// Notifies the other end of `port`.
pub fn notify(port: u32) {
    hypercall::evtchn_send(port);
}

#[cfg(test)]
mod tests {
    #[test]
    fn argument_layouts_match_xen() {
        assert_eq!(core::mem::size_of::<super::AllocUnbound>(), 8);
        assert_eq!(core::mem::offset_of!(super::AllocUnbound, port), 4);
    }
}
