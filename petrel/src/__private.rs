//! Items the macros and the generated crate use. Not a public API.

/// Implemented by every type that may be a parameter of the `#[petrel::main]` function:
/// device handles and `#[derive(BootArgs)]` structs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of the main function",
    label = "not a device handle nor a boot-arguments struct",
    note = "parameters are device handles declared in unikernel.toml (`stack: Stack`) or a struct with `#[derive(petrel::BootArgs)]`"
)]
pub trait StartParam {}
