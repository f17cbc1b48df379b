//! Items the macros and the generated crate use. Not a public API: they may change in any
//! release, and only generated code should call them.

use alloc::boxed::Box;
use core::future::Future;
use petrel_bootvar::{App, Exit, Spec, Values};
use petrel_platform::RawArgs;

pub use petrel_executor::block_on;

/// Implemented by every type that may be a parameter of the `#[petrel::main]` function:
/// device handles and `#[derive(BootArgs)]` structs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of the main function",
    label = "not a device handle nor a boot-arguments struct",
    note = "parameters are device handles declared in unikernel.toml (`stack: Stack`) or a struct with `#[derive(petrel::BootArgs)]`"
)]
pub trait StartParam {}

impl StartParam for petrel_block::Block {}
impl StartParam for petrel_kv_ro::KvRo {}
impl StartParam for petrel_stack::Stack {}
impl StartParam for petrel_dns::Resolver {}
impl StartParam for petrel_net::Net {}

/// The generated entry point's body: reads and checks the boot arguments, installs the
/// logger, runs `main` (which builds the devices in initialisation order and calls the
/// unikernel's start function) on the executor, and exits 0.
///
/// `--help`/`--version` exit 63 and a bad argument exits 64 before any device starts.
pub fn boot<F, Fut>(app: &'static App, specs: &'static [Spec], main: F) -> !
where
    F: FnOnce(&'static Values) -> Fut,
    Fut: Future<Output = ()>,
{
    let values = match parse_args(app, specs) {
        Ok(values) => values,
        Err(exit) => {
            // Every exit text ends with a newline (see `Exit`).
            petrel_console::write(exit.text().as_bytes());
            petrel_platform::exit(exit.code())
        }
    };
    // The values live as long as the unikernel: leaking them gives the `'static` lifetime
    // device handles and spawned tasks need, at the cost of one allocation never freed.
    let values: &'static Values = Box::leak(Box::new(values));
    crate::log::init(values.log_level());
    petrel_executor::block_on(main(values));
    petrel_platform::exit(0)
}

fn parse_args(app: &App, specs: &'static [Spec]) -> Result<Values, Exit> {
    match petrel_platform::raw_args() {
        RawArgs::Argv(argv) => petrel_bootvar::parse(app, specs, &argv),
        RawArgs::Cmdline(line) => petrel_bootvar::parse_cmdline(app, specs, &line),
    }
}
