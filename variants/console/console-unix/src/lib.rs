//! [`petrel_console::Console`] on unix: standard output, unbuffered.

use std::io::Write;

/// Standard output.
pub struct UnixConsole;

#[petrel_macros::implements]
impl petrel_console::Console for UnixConsole {
    fn write(bytes: &[u8]) {
        // Best effort, as the interface says: a closed stdout must not kill the unikernel.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }
}
