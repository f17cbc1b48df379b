//! [`petrel_net`] on Solo5 hvt and spt: the tender's `NET_BASIC` devices, named in the image's
//! manifest after their instances (`--net:service=tap0`).
//!
//! Reads that find no frame register the task with `petrel_platform_solo5::wake_on_input`,
//! so the executor's idle (the tender's poll) wakes it when a frame arrives.
#![no_std]
#![warn(missing_docs)]

use core::task::Poll;
use petrel_net::{Net, NetError, NetInfo};
use petrel_platform_solo5 as solo5;

/// The device constructor the generated crate calls for each `type = "net"` instance:
/// acquires the manifest device `name`, or prints why it cannot and exits 255.
pub async fn connect(
    name: &'static str,
    _params: &[(&str, &str)],
    _args: &'static petrel_bootvar::Values,
) -> Net {
    Net::acquire_or_exit(name)
}

/// The Solo5 network backend.
pub struct Solo5Net;

#[petrel_macros::implements]
impl petrel_net::NetBackend for Solo5Net {
    fn acquire(name: &str) -> Result<u64, NetError> {
        // The platform hands each device out once (Solo5's contract).
        match solo5::net_acquire(name) {
            Ok((handle, _)) => Ok(handle),
            Err(solo5::Error::Busy) => Err(NetError::Busy),
            Err(_) => Err(NetError::NotFound),
        }
    }

    fn info(handle: u64) -> Result<NetInfo, NetError> {
        solo5::net_info(handle)
            .map(to_info)
            .map_err(|_| NetError::NotFound)
    }

    fn poll_read(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        buf: &mut [u8],
    ) -> core::task::Poll<Result<usize, NetError>> {
        match solo5::net_read(handle, buf) {
            Ok(n) => Poll::Ready(Ok(n)),
            Err(solo5::Error::Again) => {
                solo5::wake_on_input(handle, cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(error(e))),
        }
    }

    fn poll_write(
        handle: u64,
        cx: &mut core::task::Context<'_>,
        frame: &[u8],
    ) -> core::task::Poll<Result<(), NetError>> {
        match solo5::net_write(handle, frame) {
            Ok(()) => Poll::Ready(Ok(())),
            // Solo5 has no transmit-ready event: try again on the executor's next round.
            Err(solo5::Error::Again) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(error(e))),
        }
    }
}

/// Solo5's facts as the interface's (an MTU beyond 65535 is cut to 65535).
fn to_info(i: solo5::NetInfo) -> NetInfo {
    NetInfo {
        mac: i.mac,
        mtu: u16::try_from(i.mtu).unwrap_or(u16::MAX),
    }
}

/// Solo5's errors as the interface's.
fn error(e: solo5::Error) -> NetError {
    match e {
        solo5::Error::Invalid => NetError::Invalid,
        solo5::Error::Busy => NetError::Busy,
        solo5::Error::Again | solo5::Error::Unspecified => NetError::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solo5_facts_and_errors() {
        let i = to_info(solo5::NetInfo {
            mac: [2, 0, 0, 0, 0, 1],
            mtu: 1500,
        });
        assert_eq!(i.frame_len(), 1514);
        let jumbo = to_info(solo5::NetInfo {
            mac: [0; 6],
            mtu: 1 << 20,
        });
        assert_eq!(jumbo.mtu, u16::MAX);
        assert_eq!(error(solo5::Error::Invalid), NetError::Invalid);
        assert_eq!(error(solo5::Error::Unspecified), NetError::Io);
    }
}
