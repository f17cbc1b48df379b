//! [`petrel_random::Random`] on unix: the kernel's `getrandom(2)`.

/// The kernel's random source.
pub struct UnixRandom;

#[petrel_macros::implements]
impl petrel_random::Random for UnixRandom {
    fn fill(buf: &mut [u8]) {
        let mut filled = 0;
        while filled < buf.len() {
            let rest = &mut buf[filled..];
            // SAFETY: the pointer and length describe `rest`, which we own mutably.
            let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
            if n > 0 {
                filled += n as usize;
            } else if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                // No entropy source at all is not something a unikernel can recover from.
                panic!("getrandom(2) failed: {}", std::io::Error::last_os_error());
            }
        }
    }
}
