//! Tasks that keep waking each other must not starve a task waiting for a device: the
//! executor only learns of device readiness when it idles, so a busy executor checks it
//! every few rounds anyway (on unix: `poll(2)` with a deadline already past).

use petrel_platform_unix as _;
use petrel_time_unix as _;
use std::future::poll_fn;
use std::sync::mpsc;
use std::task::Poll;
use std::time::Duration;

/// Reads one byte from non-blocking `fd`, waiting for it through `register_fd`.
async fn read_byte(fd: i32) -> u8 {
    poll_fn(|cx| {
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into a live local.
        let n = unsafe { libc::read(fd, (&raw mut byte).cast(), 1) };
        if n == 1 {
            Poll::Ready(byte)
        } else {
            petrel_platform_unix::register_fd(fd, libc::POLLIN, cx.waker());
            Poll::Pending
        }
    })
    .await
}

#[test]
fn a_busy_task_does_not_starve_a_device_waiter() {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) writes two descriptors into `fds`.
    assert_eq!(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) },
        0
    );
    let [read_end, write_end] = fds;
    let (done, finished) = mpsc::channel();
    // On its own thread, so that a starved executor fails the test instead of hanging it.
    std::thread::spawn(move || {
        let byte = petrel_executor::block_on(async move {
            petrel_executor::spawn(poll_fn(move |cx| {
                // Once the reader waits, the byte arrives; then this task never rests.
                // SAFETY: writes one byte from a live buffer (again and again, ignored once
                // the pipe is full).
                unsafe { libc::write(write_end, [42u8].as_ptr().cast(), 1) };
                cx.waker().wake_by_ref();
                Poll::<()>::Pending
            }));
            read_byte(read_end).await
        });
        let _ = done.send(byte);
    });
    match finished.recv_timeout(Duration::from_secs(10)) {
        Ok(byte) => assert_eq!(byte, 42),
        Err(_) => panic!("the reader was never woken while another task stayed busy"),
    }
}
