//! Petrel procedural macros (see docs/architecture.md).

mod errors;
mod implements;
mod interface;
mod symbol;

use proc_macro::TokenStream;

/// Declares an interface.
#[proc_macro_attribute]
pub fn interface(args: TokenStream, input: TokenStream) -> TokenStream {
    interface::expand_attr(args.into(), input.into()).into()
}

/// Marks an implementation.
#[proc_macro_attribute]
pub fn implements(args: TokenStream, input: TokenStream) -> TokenStream {
    implements::expand_attr(args.into(), input.into()).into()
}

/// Temporary.
#[proc_macro_attribute]
pub fn main(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}

/// Temporary.
#[proc_macro_derive(BootArgs, attributes(arg))]
pub fn derive_boot_args(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
