//! Boot arguments for Petrel unikernels: the mirage-bootvar command-line splitter, a typed
//! parser driven by a static table of [`Spec`]s, and (feature `render`, host side) the
//! renderer of the `--help` text, which `petrel configure` writes into the image as one string
//! ([`App::help`]).
//!
//! `no_std` + `alloc`; the `std` feature adds `std::error::Error` impls for the host side
//! (the `petrel` command). See the crate's README for the rules and formats.
//!
//! ```
//! use petrel_bootvar::{App, Kind, Spec, parse_cmdline};
//! static SPECS: &[Spec] = &[Spec {
//!     name: "hello",
//!     kind: Kind::String,
//!     default: &["Hello World!"],
//!     required: false,
//!     repeated: false,
//! }];
//! let app = App { name: "hello", version: "0.1.0", help: "hello 0.1.0\n" };
//! let values = parse_cmdline(&app, SPECS, r#"--hello="Bonjour, monde""#).unwrap();
//! assert_eq!(values.get::<String>("hello"), "Bonjour, monde");
//! ```
#![no_std]
#![warn(missing_docs)]
// `push_str("x")` rather than `push('x')`: `String::push` inlines a UTF-8 encoder at every call
// site, which matters in a unikernel image (see scripts/size.sh).
#![allow(clippy::single_char_add_str)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

mod addr;
mod help;
mod kind;
mod parse;
mod split;
mod text;
mod values;

pub use help::version;
#[cfg(feature = "render")]
pub use help::{APPLICATION_SECTION, HelpArg, SECTION_ORDER, help};
pub use kind::{Ipv4Prefix, Ipv6Prefix, Kind, LogLevel, MacAddr, ParseValueError, Value};
pub use parse::{
    Exit, check_default, check_default_list, check_name, check_specs, parse, parse_cmdline,
};
pub use split::{JoinError, SplitError, join, quote, split, try_join};
pub use values::{FromArgs, FromValue, Scalar, Values};

/// Exit status after `--help` or `--version`.
pub const EXIT_HELP: i32 = 63;
/// Exit status after a bad boot argument.
pub const EXIT_BAD_ARGUMENT: i32 = 64;
/// Exit status after a panic or an abort.
pub const EXIT_PANIC: i32 = 255;

/// The declaration of one boot argument, as the parser needs it at boot. Generated code
/// writes a `static SPECS: &[Spec]`; the documentation, `--help` section and declaring device
/// stay on the host (`petrel configure` renders `--help` with them, see [`App::help`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Name without `--` (`ipv4-gateway`); see [`check_name`].
    pub name: &'static str,
    /// Type.
    pub kind: Kind,
    /// The default, written as on the command line: no item for none, one for a plain
    /// argument, and for a repeated one the items of its list (`petrel configure` splits the
    /// list written in `unikernel.toml`, `"8.8.8.8 1.1.1.1"`, with [`split`]).
    pub default: &'static [&'static str],
    /// Must be given (when it has no default).
    pub required: bool,
    /// May be given several times; read as `Vec<T>`.
    pub repeated: bool,
}

/// The unikernel, for `--help` and `--version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    /// Name.
    pub name: &'static str,
    /// Version.
    pub version: &'static str,
    /// The whole `--help` text, rendered by `petrel configure` (feature `render`: `help`). Its
    /// first line is the `--version` line, `NAME VERSION\n` ([`version`]).
    pub help: &'static str,
}
