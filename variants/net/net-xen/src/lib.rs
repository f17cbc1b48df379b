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

extern crate alloc;

use core::task::Waker;
use petrel_device_adapter::net::{NetDevices, NetDriver};
use petrel_net::{NetError, NetInfo};
use petrel_platform_xen::netfront::{MTU, Netfront};

pub use petrel_device_adapter::net::connect;

/// The connected interfaces; a backend handle is an index in this table.
static INTERFACES: NetDevices<Device> = NetDevices::new();

/// A netfront interface as the adapter drives it.
struct Device(Netfront);

impl NetDriver for Device {
    fn info(&self) -> NetInfo {
        NetInfo {
            mac: self.0.mac(),
            mtu: MTU,
        }
    }

    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, NetError> {
        Ok(self.0.read(buf))
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<bool, NetError> {
        petrel_net::check_frame(&self.info(), frame.len())?;
        Ok(self.0.write(frame))
    }

    /// Woken through the interface's event channel, so the idle loop's `hlt` ends when the
    /// backend delivers a frame.
    fn register_waker(&mut self, waker: &Waker) {
        self.0.register_waker(waker);
    }
}

/// The xen network backend.
pub struct XenNet;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_net::NetBackend for XenNet {
    fn acquire(name: &str) -> Result<u64, NetError> {
        let index = petrel_platform_xen::devices::acquire_net(name)
            .map_err(petrel_device_adapter::net::acquire_error)?;
        let mut xs = petrel_platform_xen::xenstore::connect().ok_or(NetError::NotFound)?;
        let interface = Netfront::connect(&mut xs, index).map_err(|e| {
            e.report(&alloc::format!("device/vif/{index}"));
            if e.not_attached() {
                NetError::NotFound
            } else {
                NetError::Io
            }
        })?;
        INTERFACES.acquire(Ok(Device(interface)))
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
