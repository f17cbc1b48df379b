//! What every freestanding Petrel target (Solo5 hvt/spt, virtio, xen) shares. `no_std`.
//!
//! This crate holds no target-specific code: no port I/O, no syscalls, no entry point. A
//! target's runtime crate (`petrel-platform-solo5`, the virtio runtime, ...) owns `_start`,
//! the `#[panic_handler]` and the console, and uses this crate for the rest.
//!
//! # API
//!
//! - [`heap`]: the global allocator.
//!   - [`heap::init_heap`]`(start, end)` (unsafe, call once at boot, before any allocation):
//!     hands `[start, end)` to the allocator; `start` is rounded up to 16 bytes.
//!   - [`heap::size`], [`heap::used`], [`heap::free`]: statistics.
//!   - On `target_os = "none"` this crate *defines* the `#[global_allocator]` (a
//!     `linked_list_allocator` heap). On a hosted target (unit tests, `cargo check` of the
//!     workspace) it does not, so `std` keeps its own. An allocation failure goes through the
//!     default `alloc` error handler, i.e. a panic "memory allocation of N bytes failed".
//! - [`panic`](mod@panic): the panic report.
//!   - [`panic::report`]`(info, console)` formats `panicked at FILE:LINE:COL:\nMESSAGE\n` into a
//!     fixed stack buffer (no allocation; a message that does not fit is cut and ends in
//!     `...`) and hands it to `console` in one call. A panic raised while reporting is
//!     detected and reported as one fixed line only.
//!   - [`panic::FixedBuf`]: the `core::fmt::Write` buffer behind it, reusable for early boot
//!     messages.
//! - [`solo5`]: Solo5 ELF note layouts (v0.12.1 ABI), as `const`-constructible `#[repr(C)]`
//!   types.
//!   - [`solo5::AbiNote::new`]`(target, version)` and the `ABI_TARGET_*` / `*_ABI_VERSION`
//!     constants: the 36-byte `ABI1` note for `.note.solo5.abi`.
//!   - [`solo5::MftNote`]`<N>`, [`solo5::MftEntry`], [`solo5::MftType`]: the `MFT1` manifest
//!     note (`32 + 104 * N` bytes, `N` counting the reserved entry 0) for
//!     `.note.solo5.manifest`. The same [`solo5::MftEntry`] layout is what a tender patches at
//!     boot (`capacity`/`block_size` or `mac`/`mtu`, `attached`), so runtimes read the boot
//!     copy through it ([`solo5::MftEntry::name_bytes`], [`solo5::MftEntry::block`],
//!     [`solo5::MftEntry::net`]).
//!   - [`solo5_manifest!`]`(("service0", NET_BASIC), ("storage", BLOCK_BASIC))`: emits, at the
//!     call site, the `#[used]` manifest note static in section `.note.solo5.manifest`. Names
//!     are checked at compile time (non-empty, `[A-Za-z0-9]`, at most 67 bytes, no
//!     duplicates) and so is the count (at most 63 devices). Handles are manifest indices:
//!     the first device listed is handle 1. The caller fixes the order; `petrel configure`
//!     writes the devices of the device graph sorted by name, so that the same graph always
//!     gives the same bytes.
//!
//! - [`cmdline`]: [`cmdline::BootCmdline`], the command line the entry point copies out of
//!   the loader's memory (at most [`cmdline::MAX`] bytes).
//! - [`devices`]: [`devices::AcquireError`], why a manifest device cannot be acquired.
//! - [`single_core`]: the state a single-threaded, single-CPU unikernel shares, with its one
//!   audited safety argument: [`single_core::Global`] (a `static` `RefCell`),
//!   [`single_core::BootOnce`] (written once by the entry point), [`single_core::Handles`]
//!   (a driver's acquired devices), [`single_core::Claims`] (each manifest device acquired
//!   once) and [`single_core::DeviceWakers`] (the task waiting for each device).
//!
//! The linker script must `KEEP` both note sections and put each in its own `PT_NOTE`
//! segment (see `templates/solo5/link.ld.j2`).
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod cmdline;
pub mod devices;
pub mod heap;
pub mod panic;
pub mod single_core;
pub mod solo5;
