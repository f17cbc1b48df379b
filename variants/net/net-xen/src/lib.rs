//! [`petrel_net`] on xen: PV network interfaces through `petrel_platform_xen::netfront`. The
//! Nth network device of the image's manifest is the guest's `device/vif/N`
//! (`petrel_platform_xen::devices`), which is the order of the `vif` lines
//! `petrel build --target xen` writes into `dist/NAME.xl`.
//!
//! A read that finds no frame registers the task with the interface's event channel, so the
//! idle loop's `hlt` ends when the backend delivers a frame.
#![no_std]
#![warn(missing_docs)]
// The backend is exported only on the bare machine (as the other `*-xen` crates do); on a
// hosted build (workspace checks, unit tests) its helpers are unused.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

use petrel_net::{Net, NetError, NetInfo};
use petrel_platform_xen::devices::AcquireError;
use petrel_platform_xen::netfront::{MTU, Netfront};
use petrel_rt_core::single_core::Handles;

/// The device constructor the generated crate calls for each `type = "net"` instance:
/// connects the PV interface of manifest device `name`, or prints why it cannot and exits
/// 255.
pub async fn connect(
    name: &'static str,
    _params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
) -> Net {
    Net::acquire_or_exit(name)
}

/// The connected interfaces; a backend handle is an index in this table.
static INTERFACES: Handles<Netfront> = Handles::new();

/// Runs `f` on interface `handle`; an unknown handle is [`NetError::NotFound`].
fn with_interface<T>(handle: u64, f: impl FnOnce(&mut Netfront) -> T) -> Result<T, NetError> {
    INTERFACES.with(handle, f).ok_or(NetError::NotFound)
}

/// The xen network backend.
pub struct XenNet;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_net::NetBackend for XenNet {
    fn acquire(name: &str) -> Result<u64, NetError> {
        let index = petrel_platform_xen::devices::acquire_net(name).map_err(acquire_error)?;
        let mut xs = petrel_platform_xen::xenstore::connect().ok_or(NetError::NotFound)?;
        let interface = Netfront::connect(&mut xs, index).map_err(|_| NetError::NotFound)?;
        Ok(INTERFACES.insert(interface))
    }

    fn info(handle: u64) -> Result<NetInfo, NetError> {
        with_interface(handle, |i| NetInfo {
            mac: i.mac(),
            mtu: MTU,
        })
    }

    fn poll_read(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<usize, NetError>> {
        poll_read(handle, cx, buf)
    }

    fn poll_write(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        frame: &[u8],
    ) -> core::task::Poll<Result<(), NetError>> {
        poll_write(handle, cx, frame)
    }
}

/// One receive attempt: a frame, or pending with the waker registered on the event channel.
fn poll_read(
    handle: u64,
    cx: &mut core::task::Context<'_>,
    buf: &mut [u8],
) -> core::task::Poll<Result<usize, NetError>> {
    use core::task::Poll;
    match with_interface(handle, |i| {
        let n = i.read(buf);
        if n.is_none() {
            i.register_waker(cx.waker());
        }
        n
    }) {
        Err(e) => Poll::Ready(Err(e)),
        Ok(None) => Poll::Pending,
        Ok(Some(n)) => Poll::Ready(Ok(n)),
    }
}

/// One transmit attempt: queued, or pending (and woken again at once: the task polls for
/// transmit buffers the backend gives back) while every transmit buffer is in flight.
fn poll_write(
    handle: u64,
    cx: &mut core::task::Context<'_>,
    frame: &[u8],
) -> core::task::Poll<Result<(), NetError>> {
    use core::task::Poll;
    let info = NetInfo {
        mac: [0; 6],
        mtu: MTU,
    };
    if let Err(e) = petrel_net::check_frame(&info, frame.len()) {
        return Poll::Ready(Err(e));
    }
    match with_interface(handle, |i| i.write(frame)) {
        Err(e) => Poll::Ready(Err(e)),
        Ok(true) => Poll::Ready(Ok(())),
        Ok(false) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn acquire_error(e: AcquireError) -> NetError {
    match e {
        AcquireError::NotFound | AcquireError::WrongType => NetError::NotFound,
        AcquireError::Busy => NetError::Busy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map() {
        assert_eq!(acquire_error(AcquireError::Busy), NetError::Busy);
        assert_eq!(acquire_error(AcquireError::WrongType), NetError::NotFound);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        assert_eq!(
            poll_write(7, &mut cx, &[0; 60]),
            core::task::Poll::Ready(Err(NetError::NotFound))
        );
        assert_eq!(
            poll_write(7, &mut cx, &[0; 1515]),
            core::task::Poll::Ready(Err(NetError::Invalid)),
            "longer than MTU + 14"
        );
    }
}
