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

use core::task::Waker;
use petrel_device_adapter::net::{NetDevices, NetDriver};
use petrel_net::{NetError, NetInfo};
use petrel_platform_virtio::net::{self as vnet, Interface};

pub use petrel_device_adapter::net::connect;

/// The acquired interfaces; a backend handle is an index in this table.
static INTERFACES: NetDevices<Device> = NetDevices::new();

/// A virtio-net interface as the adapter drives it.
struct Device(Interface);

impl NetDriver for Device {
    fn info(&self) -> NetInfo {
        NetInfo {
            mac: self.0.mac(),
            mtu: self.0.mtu(),
        }
    }

    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, NetError> {
        match self.0.read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(vnet::NetError::Again) => Ok(None),
            Err(e) => Err(net_error(e)),
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<bool, NetError> {
        match self.0.write(frame) {
            Ok(()) => Ok(true),
            Err(vnet::NetError::Again) => Ok(false),
            Err(e) => Err(net_error(e)),
        }
    }

    /// Woken by the device's interrupt, so the `hlt` of an idle executor ends.
    fn register_waker(&mut self, waker: &Waker) {
        self.0.register_waker(waker);
    }
}

/// The virtio network backend.
pub struct VirtioNet;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_net::NetBackend for VirtioNet {
    fn acquire(name: &str) -> Result<u64, NetError> {
        INTERFACES.acquire(vnet::acquire(name).map(Device))
    }

    fn info(handle: u64) -> Result<NetInfo, NetError> {
        INTERFACES.info(handle)
    }

    fn poll_read(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<usize, NetError>> {
        INTERFACES.poll_read(handle, cx, buf)
    }

    fn poll_write(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        frame: &[u8],
    ) -> core::task::Poll<Result<(), NetError>> {
        INTERFACES.poll_write(handle, cx, frame)
    }
}

/// A driver error as the interface reports it (`Again` is handled before: not an error).
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
        assert_eq!(net_error(vnet::NetError::Invalid), NetError::Invalid);
    }
}
