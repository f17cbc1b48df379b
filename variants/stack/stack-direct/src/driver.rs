//! The task that runs a stack: it moves frames between the network device and the engine,
//! runs smoltcp, and sleeps until a frame, a socket call or smoltcp's next timer.

use crate::with_engine;
use alloc::vec;
use core::future::{Future, poll_fn};
use core::pin::Pin;
use core::task::{Context, Poll};
use petrel_net::NetError;
use petrel_time::Timer;
use smoltcp::time::Instant;

/// Rounds of receive, process, send per wake-up before yielding to other tasks.
const ROUNDS: usize = 8;

/// What the driver keeps between wake-ups.
struct Driver {
    /// The engine's index.
    stack: u64,
    /// The network device's backend handle.
    net: u64,
    /// The receive buffer: one whole frame.
    frame: alloc::vec::Vec<u8>,
    /// smoltcp's next timer, if it has one.
    timer: Option<(u64, Timer)>,
    /// The device failed once already (reported once, not at every frame).
    reported: bool,
}

/// Runs stack `stack` on network device `net` (frames of at most `frame_len` bytes) for as
/// long as the unikernel runs.
pub async fn run(stack: u64, net: u64, frame_len: usize) {
    let mut driver = Driver {
        stack,
        net,
        frame: vec![0; frame_len],
        timer: None,
        reported: false,
    };
    poll_fn(|cx| driver.step(cx)).await
}

/// smoltcp's clock from Petrel's (nanoseconds since boot).
pub fn instant(ns: u64) -> Instant {
    Instant::from_micros(i64::try_from(ns / 1000).unwrap_or(i64::MAX))
}

impl Driver {
    fn step(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let now_ns = petrel_time::now_ns();
        let now = instant(now_ns);
        let (net, frame) = (self.net, &mut self.frame);
        let mut failure = None;
        let outcome = with_engine(self.stack, |e| {
            if !e.driver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                e.driver = Some(cx.waker().clone());
            }
            for _ in 0..ROUNDS {
                let mut busy = false;
                while !e.rx_full() {
                    match petrel_net::poll_read(net, cx, frame) {
                        Poll::Ready(Ok(n)) => {
                            e.receive(frame.get(..n).unwrap_or_default());
                            busy = true;
                        }
                        Poll::Ready(Err(err)) => {
                            failure = Some(err);
                            break;
                        }
                        Poll::Pending => break,
                    }
                }
                e.poll(now);
                while let Some(f) = e.next_frame() {
                    match petrel_net::poll_write(net, cx, f) {
                        Poll::Ready(Ok(())) => {
                            e.sent();
                            busy = true;
                        }
                        // A frame the device refuses is lost, as on a real network.
                        Poll::Ready(Err(err)) => {
                            e.sent();
                            failure = Some(err);
                        }
                        Poll::Pending => break,
                    }
                }
                if !busy {
                    return (false, e.poll_delay(now));
                }
            }
            (true, e.poll_delay(now))
        });
        if let Some(err) = failure {
            self.report(err);
        }
        let Some((still_busy, delay)) = outcome else {
            // The engine is gone (cannot happen once created): nothing left to drive.
            return Poll::Ready(());
        };
        if still_busy {
            // More work: come back after the other tasks had their turn.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match delay {
            None => self.timer = None,
            Some(d) => {
                let deadline = now_ns.saturating_add(d.total_micros().saturating_mul(1000));
                if self.timer.as_ref().is_none_or(|(at, _)| *at != deadline) {
                    self.timer = Some((deadline, Timer::at(deadline)));
                }
                if let Some((_, timer)) = &mut self.timer
                    && Pin::new(timer).poll(cx).is_ready()
                {
                    self.timer = None;
                    cx.waker().wake_by_ref();
                }
            }
        }
        Poll::Pending
    }

    fn report(&mut self, err: NetError) {
        if !self.reported {
            self.reported = true;
            log::error!(target: crate::LOG_TARGET, "network device failed: {err} (frames are dropped)");
        }
    }
}
