//! [`petrel_net`] on virtio: legacy virtio-net PCI devices, bound by
//! `petrel-platform-virtio` to the image's manifest in PCI order (the first `-device
//! virtio-net-pci` is the first network device of the manifest).
//!
//! A read that finds no frame registers the task with the device's interrupt
//! (`Interface::register_waker`), so the `hlt` of an idle executor ends when a frame arrives.
#![no_std]
#![warn(missing_docs)]
// The backend is exported only on the bare machine (as the other `*-virtio` crates do); on a
// hosted build (workspace checks, unit tests) its helpers are unused.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

use petrel_net::{Net, NetError, NetInfo};
use petrel_platform_virtio::devices::AcquireError;
use petrel_platform_virtio::net::{self as vnet, Interface};
use petrel_rt_core::single_core::Handles;

/// The device constructor the generated crate calls for each `type = "net"` instance:
/// acquires the manifest device `name`, or prints why it cannot and exits 255.
pub async fn connect(
    name: &'static str,
    _params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
) -> Net {
    Net::acquire_or_exit(name)
}

/// The acquired interfaces; a backend handle is an index in this table.
static INTERFACES: Handles<Interface> = Handles::new();

/// Runs `f` on interface `handle`; an unknown handle is [`NetError::NotFound`].
fn with_interface<T>(handle: u64, f: impl FnOnce(&mut Interface) -> T) -> Result<T, NetError> {
    INTERFACES.with(handle, f).ok_or(NetError::NotFound)
}

/// The virtio network backend.
pub struct VirtioNet;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_net::NetBackend for VirtioNet {
    fn acquire(name: &str) -> Result<u64, NetError> {
        let interface = vnet::acquire(name).map_err(acquire_error)?;
        Ok(INTERFACES.insert(interface))
    }

    fn info(handle: u64) -> Result<NetInfo, NetError> {
        info(handle)
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

/// The facts of interface `handle`.
fn info(handle: u64) -> Result<NetInfo, NetError> {
    with_interface(handle, |i| NetInfo {
        mac: i.mac(),
        mtu: i.mtu(),
    })
}

/// One receive attempt: a frame, or pending with the waker registered on the interrupt.
fn poll_read(
    handle: u64,
    cx: &mut core::task::Context<'_>,
    buf: &mut [u8],
) -> core::task::Poll<Result<usize, NetError>> {
    use core::task::Poll;
    match with_interface(handle, |i| match i.read(buf) {
        Err(vnet::NetError::Again) => {
            i.register_waker(cx.waker());
            None
        }
        other => Some(other),
    }) {
        Err(e) => Poll::Ready(Err(e)),
        Ok(None) => Poll::Pending,
        Ok(Some(r)) => Poll::Ready(r.map_err(net_error)),
    }
}

/// One transmit attempt: queued, or pending (and woken again at once: transmit completions
/// raise no interrupt) while every transmit buffer is in flight.
fn poll_write(
    handle: u64,
    cx: &mut core::task::Context<'_>,
    frame: &[u8],
) -> core::task::Poll<Result<(), NetError>> {
    use core::task::Poll;
    match with_interface(handle, |i| i.write(frame)) {
        Err(e) => Poll::Ready(Err(e)),
        Ok(Err(vnet::NetError::Again)) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Ok(r) => Poll::Ready(r.map_err(net_error)),
    }
}

fn acquire_error(e: AcquireError) -> NetError {
    match e {
        AcquireError::NotFound | AcquireError::WrongType => NetError::NotFound,
        AcquireError::Busy => NetError::Busy,
    }
}

fn net_error(e: vnet::NetError) -> NetError {
    match e {
        vnet::NetError::Invalid => NetError::Invalid,
        vnet::NetError::Again => NetError::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map() {
        assert_eq!(acquire_error(AcquireError::Busy), NetError::Busy);
        assert_eq!(acquire_error(AcquireError::WrongType), NetError::NotFound);
        assert_eq!(net_error(vnet::NetError::Invalid), NetError::Invalid);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        assert_eq!(
            poll_write(7, &mut cx, &[0; 60]),
            core::task::Poll::Ready(Err(NetError::NotFound))
        );
    }
}
