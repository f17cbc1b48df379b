//! Size probe: a freestanding program that reads a command line, and with feature `with`
//! parses it with petrel-bootvar. Every variant allocates, and has a panic handler that
//! prints the location and the message as petrel-rt-core's does, so the difference is the
//! crate's cost.
//! Feature `table` keeps only the application's data (its `App`, whose `help` is the `--help`
//! text build.rs renders on the host as `petrel configure` does, and its `Spec` table), to
//! tell the data's share from the crate's code.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::fmt::Write;
use core::hint::black_box;
use core::sync::atomic::{AtomicUsize, Ordering};

struct Bump;
static NEXT: AtomicUsize = AtomicUsize::new(0);
static mut HEAP: [u8; 1 << 20] = [0; 1 << 20];

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let size = layout.size() + layout.align();
        let at = NEXT.fetch_add(size, Ordering::Relaxed);
        if at + size > 1 << 20 {
            return core::ptr::null_mut();
        }
        let base = (&raw mut HEAP) as *mut u8 as usize + at;
        let aligned = (base + layout.align() - 1) & !(layout.align() - 1);
        aligned as *mut u8
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOC: Bump = Bump;

/// Where output goes: a volatile sink the optimiser cannot remove.
struct Sink;
impl Write for Sink {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            unsafe { core::ptr::write_volatile(&raw mut OUT, b) };
        }
        Ok(())
    }
}
static mut OUT: u8 = 0;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // As petrel-rt-core's handler: the location, then the message.
    if let Some(at) = info.location() {
        let _ = write!(Sink, "panic at {}:{}:{}", at.file(), at.line(), at.column());
    }
    let _ = write!(Sink, ":\n{}", info.message());
    loop {}
}

/// The command line, as a runtime would receive it (volatile: not a constant).
static CMDLINE: &str = "--solo5:info --hello=\"Bonjour, monde\" --port 8080 --ipv4=10.0.0.2/24";

fn cmdline() -> &'static str {
    black_box(CMDLINE)
}

#[cfg(feature = "table")]
mod app {
    use petrel_bootvar::{App, Kind, Spec};

    include!("args.rs");

    pub const APP: App = App {
        name: "probe",
        version: "0.1.0",
        help: include_str!(concat!(env!("OUT_DIR"), "/help.txt")),
    };
    /// One `Values::get` per argument, as the app and its devices read them.
    #[cfg(feature = "with")]
    pub fn read(v: &petrel_bootvar::Values) {
        use core::hint::black_box;
        #[cfg(not(feature = "hello"))]
        use {
            core::net::{Ipv4Addr, Ipv6Addr},
            petrel_bootvar::{Ipv4Prefix, Ipv6Prefix},
        };
        #[cfg(feature = "hello")]
        black_box(v.get::<alloc::string::String>("hello"));
        #[cfg(feature = "network")]
        {
            black_box(v.get::<u16>("port"));
            black_box(v.get::<Option<Ipv4Prefix>>("ipv4"));
            black_box(v.get::<Option<Ipv4Addr>>("ipv4-gateway"));
            black_box(v.get::<Option<Ipv6Prefix>>("ipv6"));
            black_box(v.get::<Option<Ipv6Addr>>("ipv6-gateway"));
        }
        #[cfg(not(any(feature = "hello", feature = "network")))]
        {
            black_box(v.get::<alloc::string::String>("hello"));
            black_box(v.get::<u16>("port"));
            black_box(v.get::<bool>("verbose"));
            black_box(v.get::<Option<i8>>("offset"));
            black_box(v.get::<core::time::Duration>("timeout"));
            black_box(v.get::<Ipv4Prefix>("ipv4"));
            black_box(v.get::<Option<Ipv4Addr>>("ipv4-gateway"));
            black_box(v.get::<Option<Ipv6Prefix>>("ipv6"));
            black_box(v.get::<Option<Ipv6Addr>>("ipv6-gateway"));
            black_box(v.get::<Option<petrel_bootvar::MacAddr>>("mac"));
        }
    }

    /// The boot-time table, as `petrel configure` writes it.
    pub static SPECS: &[Spec] = &{
        let mut specs = [Spec::new("", Kind::String); ARGS.len()];
        let mut i = 0;
        while i < ARGS.len() {
            let (name, kind, default, _, _) = ARGS[i];
            specs[i] = Spec::new(name, kind).default(default);
            i += 1;
        }
        specs
    };
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let line = cmdline();
    // Baseline work: allocate the tokens and print them.
    let words: Vec<String> = line.split(' ').map(String::from).collect();
    for w in &words {
        let _ = Sink.write_str(w);
    }
    let i = black_box(words.len());
    let _ = Sink.write_str(&words[i % 7]);

    // The application's data alone (what `petrel configure` generates), kept in the image.
    #[cfg(all(feature = "table", not(feature = "with")))]
    {
        black_box(&app::APP);
        black_box(app::SPECS);
    }

    #[cfg(feature = "with")]
    {
        use app::{APP, SPECS};
        match petrel_bootvar::parse_cmdline(&APP, SPECS, line) {
            Ok(v) => {
                app::read(&v);
                black_box(v.log_level());
            }
            Err(e) => {
                let _ = Sink.write_str(e.text());
                black_box(e.code());
            }
        }
        // The --help path: what a command line `--help` gives, printed.
        if let Err(e) = petrel_bootvar::parse_cmdline(&APP, SPECS, black_box("--help")) {
            let _ = Sink.write_str(e.text());
            black_box(e.code());
        }
    }
    loop {}
}
