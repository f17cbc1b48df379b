//! The network device as smoltcp sees it: bounded queues of whole Ethernet frames.
//!
//! The driver task (`driver.rs`) moves frames between these queues and the real device
//! ([`petrel_net`]); smoltcp only ever touches the queues, so the stack itself does no I/O
//! and can be driven frame by frame in tests and fuzzing.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use smoltcp::phy::{Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Frames received and not yet processed, at most: beyond that the device is not read (its
/// own buffers, then the network, hold or drop them).
pub const RX_QUEUE: usize = 64;
/// Frames produced and not yet sent, at most: beyond that smoltcp is told the device is busy
/// and retries later.
pub const TX_QUEUE: usize = 64;

/// The two queues and the largest frame.
#[derive(Debug)]
pub struct Queues {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
    frame_len: usize,
}

impl Queues {
    /// Empty queues for a device whose frames are at most `frame_len` bytes (header included).
    pub fn new(frame_len: usize) -> Queues {
        Queues {
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            frame_len,
        }
    }

    /// Whether another received frame would be refused.
    pub fn rx_full(&self) -> bool {
        self.rx.len() >= RX_QUEUE
    }

    /// Queues a received frame; drops it (`false`) if the queue is full or it is longer than
    /// the device's frames.
    pub fn push_rx(&mut self, frame: &[u8]) -> bool {
        if self.rx_full() || frame.len() > self.frame_len {
            return false;
        }
        self.rx.push_back(frame.to_vec());
        true
    }

    /// The oldest frame waiting to be sent.
    pub fn front_tx(&self) -> Option<&[u8]> {
        self.tx.front().map(Vec::as_slice)
    }

    /// Forgets the oldest frame waiting to be sent (it was sent).
    pub fn pop_tx(&mut self) -> Option<Vec<u8>> {
        self.tx.pop_front()
    }

    /// Frames waiting, received and to send.
    pub fn lens(&self) -> (usize, usize) {
        (self.rx.len(), self.tx.len())
    }

    fn tx_room(&self) -> bool {
        self.tx.len() < TX_QUEUE
    }
}

impl Device for Queues {
    type RxToken<'a> = Received;
    type TxToken<'a> = Sending<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Received, Sending<'_>)> {
        // A frame may need an answer (ARP, a TCP ACK): take one only when it can be sent.
        if !self.tx_room() {
            return None;
        }
        let frame = self.rx.pop_front()?;
        Some((
            Received(frame),
            Sending {
                tx: &mut self.tx,
                frame_len: self.frame_len,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Sending<'_>> {
        if !self.tx_room() {
            return None;
        }
        Some(Sending {
            tx: &mut self.tx,
            frame_len: self.frame_len,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        // For Ethernet smoltcp counts the header in the MTU.
        caps.max_transmission_unit = self.frame_len;
        caps.max_burst_size = Some(TX_QUEUE);
        caps
    }
}

/// One received frame, handed to smoltcp.
pub struct Received(Vec<u8>);

impl smoltcp::phy::RxToken for Received {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

/// Room for one frame in the send queue.
pub struct Sending<'a> {
    tx: &'a mut VecDeque<Vec<u8>>,
    frame_len: usize,
}

impl smoltcp::phy::TxToken for Sending<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // smoltcp never asks for more than the MTU it was given; the clamp keeps a bug there
        // from producing a frame the device would refuse.
        let mut frame = vec![0; len.min(self.frame_len)];
        let r = f(&mut frame);
        self.tx.push_back(frame);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_are_bounded() {
        let mut q = Queues::new(1514);
        assert!(!q.push_rx(&[0; 1515]), "longer than a frame");
        for _ in 0..RX_QUEUE {
            assert!(q.push_rx(&[0; 60]));
        }
        assert!(q.rx_full());
        assert!(!q.push_rx(&[0; 60]));
        let now = Instant::from_millis(0);
        let mut taken = 0;
        while let Some(tx) = q.transmit(now) {
            smoltcp::phy::TxToken::consume(tx, 60, |_| ());
            taken += 1;
        }
        assert_eq!(taken, TX_QUEUE);
        assert!(
            q.receive(now).is_none(),
            "no frame taken without room to answer"
        );
        q.pop_tx();
        assert!(q.receive(now).is_some());
    }
}
