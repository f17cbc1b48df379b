//! virtio-net (legacy): one receive and one transmit queue, frames copied through
//! driver-owned buffers. Received frames raise the device's INTx line, which ends an idle
//! `hlt` and wakes the task registered with [`Interface::register_waker`].

use alloc::vec;
use alloc::vec::Vec;
use core::task::Waker;

use crate::devices::{self, AcquireError, Driver};
use crate::virtio::{DESC_WRITE, Desc, Legacy, Queue};

/// Feature bit: `mtu` in the configuration is valid.
const F_MTU: u32 = 1 << 3;
/// Feature bit: `mac` in the configuration is valid.
const F_MAC: u32 = 1 << 5;
/// The legacy `virtio_net_hdr` (no mergeable buffers): 10 bytes before every frame.
const HDR: usize = 10;
/// The Ethernet header, which the MTU does not count.
const ETH: usize = 14;

/// The driver of one legacy virtio-net device.
pub struct Net {
    dev: Legacy,
    handle: usize,
    rx: Queue,
    tx: Queue,
    mac: [u8; 6],
    mtu: u16,
    rx_bufs: Vec<Vec<u8>>,
    tx_bufs: Vec<Vec<u8>>,
    tx_free: Vec<u16>,
}

impl Net {
    /// Initialises the device bound to manifest index `handle`. `None` without a MAC
    /// address or queues.
    pub(crate) fn new(dev: Legacy, handle: usize) -> Option<Net> {
        let features = dev.begin();
        if features & F_MAC == 0 {
            return None;
        }
        dev.set_features(features & (F_MAC | F_MTU));
        let mut rx = Queue::new(&dev, 0)?;
        let mut tx = Queue::new(&dev, 1)?;
        tx.suppress_interrupts();
        let mut mac = [0u8; 6];
        for (i, b) in mac.iter_mut().enumerate() {
            *b = dev.config8(i as u16);
        }
        // Legacy config: mac[6], status u16, max_virtqueue_pairs u16, mtu u16.
        let mtu = if features & F_MTU != 0 {
            dev.config16(10)
        } else {
            1500
        };
        let len = HDR + ETH + usize::from(mtu);
        let rx_bufs: Vec<Vec<u8>> = (0..rx.size).map(|_| vec![0u8; len]).collect();
        for (i, b) in rx_bufs.iter().enumerate() {
            rx.set_desc(
                i as u16,
                Desc {
                    addr: b.as_ptr() as u64,
                    len: len as u32,
                    flags: DESC_WRITE,
                    next: 0,
                },
            );
            rx.push(i as u16);
        }
        let tx_bufs: Vec<Vec<u8>> = (0..tx.size).map(|_| vec![0u8; len]).collect();
        let tx_free = (0..tx.size).rev().collect();
        dev.ready();
        dev.notify(0);
        Some(Net {
            dev,
            handle,
            rx,
            tx,
            mac,
            mtu,
            rx_bufs,
            tx_bufs,
            tx_free,
        })
    }
}

/// Why a receive or transmit did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// Nothing to receive, or no free transmit buffer: try again later.
    Again,
    /// The frame is larger than MTU + 14 bytes, or the receive buffer is too small.
    Invalid,
}

/// An acquired network interface.
pub struct Interface {
    drv: Net,
}

/// Acquires the network device `name` of the manifest (once).
pub fn acquire(name: &str) -> Result<Interface, AcquireError> {
    acquire_handle(devices::handle_of(
        name,
        petrel_rt_core::solo5::MFT_DEV_NET_BASIC,
    )?)
}

/// Acquires the network device at manifest index `handle` (once).
pub fn acquire_handle(handle: usize) -> Result<Interface, AcquireError> {
    match devices::take(handle)? {
        Driver::Net(drv) => Ok(Interface { drv }),
        other => {
            devices::put_back(handle, other);
            Err(AcquireError::WrongType)
        }
    }
}

impl Interface {
    /// The manifest index.
    pub fn handle(&self) -> usize {
        self.drv.handle
    }

    /// The MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.drv.mac
    }

    /// The MTU (without the 14-byte Ethernet header).
    pub fn mtu(&self) -> u16 {
        self.drv.mtu
    }

    /// Receives one frame into `buf` (at least MTU + 14 bytes); returns its length.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        let d = &mut self.drv;
        if buf.len() < ETH + usize::from(d.mtu) {
            return Err(NetError::Invalid);
        }
        let (id, len) = d.rx.pop_used().ok_or(NetError::Again)?;
        let src = &d.rx_bufs[usize::from(id)];
        let n = (len as usize).saturating_sub(HDR).min(src.len() - HDR);
        buf[..n].copy_from_slice(&src[HDR..HDR + n]);
        d.rx.push(id);
        d.dev.notify(0);
        Ok(n)
    }

    /// Queues one frame (at most MTU + 14 bytes) for transmission.
    pub fn write(&mut self, frame: &[u8]) -> Result<(), NetError> {
        let d = &mut self.drv;
        if frame.len() > ETH + usize::from(d.mtu) {
            return Err(NetError::Invalid);
        }
        while let Some((id, _)) = d.tx.pop_used() {
            d.tx_free.push(id);
        }
        let id = d.tx_free.pop().ok_or(NetError::Again)?;
        let buf = &mut d.tx_bufs[usize::from(id)];
        buf[..HDR].fill(0);
        buf[HDR..HDR + frame.len()].copy_from_slice(frame);
        let desc = Desc {
            addr: buf.as_ptr() as u64,
            len: (HDR + frame.len()) as u32,
            flags: 0,
            next: 0,
        };
        d.tx.set_desc(id, desc);
        d.tx.push(id);
        d.dev.notify(1);
        Ok(())
    }

    /// Wakes `waker` the next time this device interrupts (a frame arrived). One-shot:
    /// register again after each wake-up, after [`Interface::read`] returned
    /// [`NetError::Again`].
    pub fn register_waker(&self, waker: &Waker) {
        crate::idle::register_waker(self.drv.handle, waker);
    }
}
