//! `embassy-time` runs unchanged on Petrel's executor: its driver is Petrel's timer queue
//! (`petrel-time`'s `embassy` module), and so are `petrel_time::timeout`'s timers.

use embassy_time::{Duration, Instant, Ticker, Timer, with_timeout};
use petrel_platform_unix as _;
use petrel_time_unix as _;
use std::future::pending;

#[test]
fn embassy_timers_tickers_and_timeouts_fire_on_petrel_time() {
    // One test: the executor and the timer queue belong to one thread, and the test harness
    // would run two tests on two threads at once.
    petrel_executor::block_on(async {
        let start = Instant::now();
        let host_start = std::time::Instant::now();
        Timer::after(Duration::from_millis(30)).await;
        // Never early, on embassy's clock and on the host's.
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(host_start.elapsed() >= std::time::Duration::from_millis(30));

        let mut ticker = Ticker::every(Duration::from_millis(10));
        for _ in 0..3 {
            ticker.next().await;
        }
        assert!(start.elapsed() >= Duration::from_millis(60));

        let late = with_timeout(Duration::from_millis(20), pending::<()>()).await;
        assert!(late.is_err(), "a future that never completes must time out");
        let early = with_timeout(Duration::from_secs(5), async { 7 }).await;
        assert_eq!(early.ok(), Some(7));

        // `petrel_time::timeout`, for code that does not use embassy-time.
        use core::time::Duration as StdDuration;
        let slow = petrel_time::timeout(StdDuration::from_millis(20), pending::<()>()).await;
        assert_eq!(slow, Err(petrel_time::Elapsed));
        let quick = petrel_time::timeout(
            StdDuration::from_secs(5),
            petrel_time::sleep(StdDuration::from_millis(5)),
        )
        .await;
        assert_eq!(quick, Ok(()));
        assert_eq!(petrel_time::Elapsed.to_string(), "timed out");
    });
}
