// The implementation does not import `RawArgs`, which the interface's signature names; and
// the implementing type is called `Writer` like an item at the root of `petrel_console`.
// Neither confuses the generated shims.
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Platform;

#[petrel_macros::implements]
impl petrel_platform::Platform for Platform {
    fn raw_args() -> petrel_platform::RawArgs {
        petrel_platform::RawArgs::Cmdline("--hello=world".into())
    }

    fn idle(_deadline_ns: u64) {}

    fn exit(code: i32) -> ! {
        std::process::exit(code)
    }
}

static WRITTEN: AtomicUsize = AtomicUsize::new(0);

pub struct Writer;

#[petrel_macros::implements]
impl petrel_console::Console for Writer {
    fn write(bytes: &[u8]) {
        WRITTEN.fetch_add(bytes.len(), Ordering::Relaxed);
    }
}

fn main() {
    assert_eq!(
        petrel_platform::raw_args(),
        petrel_platform::RawArgs::Cmdline("--hello=world".into())
    );
    petrel_platform::idle(u64::MAX);
    petrel_console::write(b"hello");
    assert_eq!(WRITTEN.load(Ordering::Relaxed), 5);
}
