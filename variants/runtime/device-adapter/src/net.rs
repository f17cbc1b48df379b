//! [`petrel_net`] over a network driver.

use crate::AcquireError;
use core::task::{Context, Poll, Waker};
use petrel_net::{Net, NetError, NetInfo};
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

/// What the adapter needs from a network driver.
pub trait NetDriver {
    /// The interface's MAC address and MTU.
    fn info(&self) -> NetInfo;
    /// Copies the next received frame into `buf`: its length, or `None` when none is waiting.
    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, NetError>;
    /// Queues `frame`: `false` while every transmit buffer is in flight.
    fn transmit(&mut self, frame: &[u8]) -> Result<bool, NetError>;
    /// Wakes `waker` at the interface's next event (a frame arrived).
    fn register_waker(&mut self, waker: &Waker);
}

/// The acquired interfaces of one implementation; a backend handle is an index.
pub struct NetDevices<D>(Handles<D>);

impl<D: NetDriver> NetDevices<D> {
    /// An empty table, for a `static`.
    pub const fn new() -> Self {
        Self(Handles::new())
    }

    /// Adds the interface the platform acquired (or says why it could not): its handle.
    pub fn acquire(&self, acquired: Result<D, AcquireError>) -> Result<u64, NetError> {
        acquired.map(|d| self.0.insert(d)).map_err(acquire_error)
    }

    /// The facts of interface `handle`.
    pub fn info(&self, handle: u64) -> Result<NetInfo, NetError> {
        self.with(handle, |d| d.info())
    }

    /// One receive attempt: a frame, or pending with the waker registered at the device.
    pub fn poll_read(
        &self,
        handle: u64,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NetError>> {
        match self.with(handle, |d| {
            let got = d.receive(buf);
            if let Ok(None) = got {
                d.register_waker(cx.waker());
            }
            got
        }) {
            Ok(Ok(Some(n))) => Poll::Ready(Ok(n)),
            Ok(Ok(None)) => Poll::Pending,
            Ok(Err(e)) | Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// One transmit attempt: queued, or pending (and woken again at once: the task polls for
    /// the transmit buffers the device gives back, which raise no event) while every
    /// transmit buffer is in flight.
    pub fn poll_write(
        &self,
        handle: u64,
        cx: &mut Context<'_>,
        frame: &[u8],
    ) -> Poll<Result<(), NetError>> {
        match self.with(handle, |d| d.transmit(frame)) {
            Ok(Ok(true)) => Poll::Ready(Ok(())),
            Ok(Ok(false)) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Ok(Err(e)) | Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// Runs `f` on interface `handle`; an unknown handle is [`NetError::NotFound`].
    fn with<T>(&self, handle: u64, f: impl FnOnce(&mut D) -> T) -> Result<T, NetError> {
        self.0.with(handle, f).ok_or(NetError::NotFound)
    }
}

impl<D: NetDriver> Default for NetDevices<D> {
    fn default() -> Self {
        Self::new()
    }
}

/// An acquire failure as the interface reports it.
pub fn acquire_error(e: AcquireError) -> NetError {
    match e {
        AcquireError::NotFound | AcquireError::WrongType => NetError::NotFound,
        AcquireError::Busy => NetError::Busy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A driver with one frame to give and room for one frame.
    struct Fake {
        frames: u8,
        room: bool,
        waiting: bool,
    }

    impl NetDriver for Fake {
        fn info(&self) -> NetInfo {
            NetInfo {
                mac: [2, 0, 0, 0, 0, 1],
                mtu: 1500,
            }
        }
        fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, NetError> {
            if self.frames == 0 {
                return Ok(None);
            }
            self.frames -= 1;
            buf[0] = 0xAB;
            Ok(Some(1))
        }
        fn transmit(&mut self, frame: &[u8]) -> Result<bool, NetError> {
            petrel_net::check_frame(&self.info(), frame.len())?;
            Ok(core::mem::take(&mut self.room))
        }
        fn register_waker(&mut self, _: &Waker) {
            self.waiting = true;
        }
    }

    #[test]
    fn polls_map_the_driver() {
        let table = NetDevices::new();
        let h = table
            .acquire(Ok(Fake {
                frames: 1,
                room: true,
                waiting: false,
            }))
            .expect("acquired");
        let mut cx = Context::from_waker(Waker::noop());
        let mut buf = [0; 64];
        assert_eq!(table.poll_read(h, &mut cx, &mut buf), Poll::Ready(Ok(1)));
        assert_eq!(table.poll_read(h, &mut cx, &mut buf), Poll::Pending);
        assert_eq!(table.0.with(h, |d| d.waiting), Some(true));
        assert_eq!(table.poll_write(h, &mut cx, &[0; 60]), Poll::Ready(Ok(())));
        assert_eq!(table.poll_write(h, &mut cx, &[0; 60]), Poll::Pending);
        assert_eq!(
            table.poll_write(h, &mut cx, &[0; 1515]),
            Poll::Ready(Err(NetError::Invalid))
        );
        assert_eq!(table.info(h).map(|i| i.mtu), Ok(1500));
        assert_eq!(
            table.poll_write(7, &mut cx, &[0; 60]),
            Poll::Ready(Err(NetError::NotFound))
        );
        assert_eq!(table.acquire(Err(AcquireError::Busy)), Err(NetError::Busy));
        assert_eq!(
            table.acquire(Err(AcquireError::WrongType)),
            Err(NetError::NotFound)
        );
    }
}
