//! Petrel interface: network devices, which carry Ethernet frames.
//!
//! A unikernel (or a TCP/IP stack built on it) declares a network device in `unikernel.toml`
//! (`[devices.service] type = "net"`) and receives its handle, a [`Net`]:
//!
//! ```text
//! #[petrel::main]
//! pub async fn start(service: petrel::net::Net) {
//!     let mut frame = vec![0u8; service.frame_len()];
//!     let n = service.read(&mut frame).await?;   // one whole frame
//!     service.write(&frame[..n]).await?;
//! }
//! ```
//!
//! On unix the device is a tap interface (`--interface`, default `tap0`); on hvt and spt a
//! Solo5 `NET_BASIC` device named after the instance (`--net:service=tap0`); on virtio a
//! virtio-net PCI device, in manifest order.
//!
//! As with the other devices, each target provides a backend, the [`NetBackend`] interface:
//! poll-style free functions keyed by a handle number, wrapped by [`Net`]. Frames are whole
//! Ethernet frames without preamble or checksum: at most [`NetInfo::frame_len`] bytes.
#![no_std]
#![warn(missing_docs)]

use core::fmt;
use core::future::poll_fn;

/// The bytes of an Ethernet header (destination, source, EtherType), which the MTU does not
/// count.
pub const ETHERNET_HEADER: usize = 14;

/// The facts of a network device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetInfo {
    /// The device's MAC address.
    pub mac: [u8; 6],
    /// The largest payload of a frame (without the Ethernet header), usually 1500.
    pub mtu: u16,
}

impl NetInfo {
    /// The largest frame, header included: `mtu + 14`.
    pub fn frame_len(&self) -> usize {
        usize::from(self.mtu) + ETHERNET_HEADER
    }
}

/// Why a network device operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetError {
    /// The platform has no network device of that name (it is not attached).
    NotFound,
    /// The device is already in use (each device is acquired once).
    Busy,
    /// The frame is empty or longer than [`NetInfo::frame_len`], or the buffer given to
    /// [`Net::read`] is shorter than that.
    Invalid,
    /// The device or the host failed.
    Io,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetError::NotFound => "no such network device is attached",
            NetError::Busy => "the network device is already in use",
            NetError::Invalid => "the frame or buffer has an invalid size",
            NetError::Io => "the network device failed",
        })
    }
}

impl core::error::Error for NetError {}

/// Checks a frame to send against `info`: nonempty, at most `mtu + 14` bytes.
pub fn check_frame(info: &NetInfo, len: usize) -> Result<(), NetError> {
    if len == 0 || len > info.frame_len() {
        Err(NetError::Invalid)
    } else {
        Ok(())
    }
}

/// Checks a receive buffer against `info`: room for the largest frame.
pub fn check_buffer(info: &NetInfo, len: usize) -> Result<(), NetError> {
    if len < info.frame_len() {
        Err(NetError::Invalid)
    } else {
        Ok(())
    }
}

/// The per-target network backend: one implementation per target, keyed by handle numbers.
///
/// User code does not call it: it receives a [`Net`]. Implementation crates implement it
/// with `#[petrel_macros::implements]`. The `poll` functions follow
/// [`core::future::Future::poll`].
#[petrel_macros::interface]
pub trait NetBackend {
    /// Acquires the network device `name` (the instance name) and returns its handle. Each
    /// device can be acquired once.
    fn acquire(name: &str) -> Result<u64, NetError>;
    /// The facts of device `handle`.
    fn info(handle: u64) -> Result<NetInfo, NetError>;
    /// Receives one frame into `buf` (at least `frame_len` bytes): its length; pending until
    /// a frame arrives.
    fn poll_read(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<usize, NetError>>;
    /// Queues one frame for sending; pending while the device has no room for it.
    fn poll_write(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        frame: &[u8],
    ) -> core::task::Poll<Result<(), NetError>>;
}

/// A network device: the handle the main function receives for a `type = "net"` device.
#[derive(Debug)]
pub struct Net {
    name: &'static str,
    handle: u64,
    info: NetInfo,
}

impl Net {
    /// Acquires the network device `name` through the target's backend.
    pub fn acquire(name: &'static str) -> Result<Net, NetError> {
        let handle = acquire(name)?;
        Ok(Net {
            name,
            handle,
            info: info(handle)?,
        })
    }

    /// Acquires the network device `name`, or prints why it cannot on the console and exits
    /// 255: what the implementations' device constructors do, since a unikernel cannot start
    /// without its declared devices.
    pub fn acquire_or_exit(name: &'static str) -> Net {
        match Net::acquire(name) {
            Ok(net) => net,
            Err(e) => {
                // The console cannot fail; there is nothing else to report to.
                let _ = fmt::write(
                    &mut petrel_console::Writer,
                    format_args!("network device `{name}`: {e}\n"),
                );
                petrel_platform::exit(255)
            }
        }
    }

    /// The instance name (`service`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The backend handle, for code built on the device that calls the backend's poll
    /// functions itself (a TCP/IP stack's driver task, which outlives this borrow).
    pub fn handle(&self) -> u64 {
        self.handle
    }

    /// MAC address and MTU.
    pub fn info(&self) -> NetInfo {
        self.info
    }

    /// The MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.info.mac
    }

    /// The MTU (without the Ethernet header).
    pub fn mtu(&self) -> u16 {
        self.info.mtu
    }

    /// The largest frame, header included (`mtu + 14`): the size of a receive buffer.
    pub fn frame_len(&self) -> usize {
        self.info.frame_len()
    }

    /// Waits for the next frame and reads it into `buf` (at least [`frame_len`](Self::frame_len)
    /// bytes): its length.
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize, NetError> {
        check_buffer(&self.info, buf.len())?;
        poll_fn(|cx| poll_read(self.handle, cx, buf)).await
    }

    /// Sends one frame (at most [`frame_len`](Self::frame_len) bytes), waiting while the
    /// device has no room for it. The network may still lose it.
    pub async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        check_frame(&self.info, frame.len())?;
        poll_fn(|cx| poll_write(self.handle, cx, frame)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETH: NetInfo = NetInfo {
        mac: [2, 0, 0, 0, 0, 1],
        mtu: 1500,
    };

    #[test]
    fn frame_sizes() {
        assert_eq!(ETH.frame_len(), 1514);
        assert_eq!(check_frame(&ETH, 60), Ok(()));
        assert_eq!(check_frame(&ETH, 1514), Ok(()));
        assert_eq!(check_frame(&ETH, 0), Err(NetError::Invalid));
        assert_eq!(check_frame(&ETH, 1515), Err(NetError::Invalid));
        assert_eq!(check_buffer(&ETH, 1514), Ok(()));
        assert_eq!(check_buffer(&ETH, 1513), Err(NetError::Invalid));
    }

    #[test]
    fn errors_display() {
        // Tests run on the host, where `alloc` is there.
        extern crate alloc;
        use alloc::string::ToString;
        assert_eq!(
            NetError::Busy.to_string(),
            "the network device is already in use"
        );
    }
}
