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
//! static SPECS: &[Spec] = &[Spec::new("hello", Kind::String).default(&["Hello World!"])];
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
mod instance;
mod kind;
mod parse;
mod split;
mod text;
mod values;

pub use help::version;
#[cfg(feature = "render")]
pub use help::{APPLICATION_SECTION, HelpArg, SECTION_ORDER, help};
pub use instance::{KEY_PARAM_PREFIX, PREFIX_PARAM, instance_key, instance_prefix};
pub use kind::{Ipv4Prefix, Ipv6Prefix, Kind, LogLevel, MacAddr, ParseValueError, Value};
pub use parse::{
    Exit, check_default, check_default_list, check_name, check_specs, name_problem, parse,
    parse_cmdline,
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
/// writes a `static SPECS: &[Spec]` with [`Spec::new`] and its builder methods; the
/// documentation, `--help` section and declaring device stay on the host (`petrel configure`
/// renders `--help` with them, see [`App::help`]).
///
/// A `Spec` also keeps its kind's value checker and message texts, chosen when the table is
/// built (at compile time in a `static`): an image then holds the parsers and texts of the
/// kinds its table declares, and no other.
///
/// ```
/// use petrel_bootvar::{Kind, Spec};
/// static SPECS: &[Spec] = &[
///     Spec::new("port", Kind::U16).default(&["8080"]),
///     Spec::new("dns", Kind::Ipv4).repeated().default(&["8.8.8.8", "1.1.1.1"]),
///     Spec::new("key", Kind::String).required(),
/// ];
/// assert_eq!(SPECS[0].name(), "port");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub(crate) name: &'static str,
    /// The default items the parser uses: the declared ones, or `false` for a flag (`bool`,
    /// neither repeated nor required) declared without one.
    pub(crate) default: &'static [&'static str],
    /// No default was declared (see [`Spec::defaults`]).
    pub(crate) undeclared: bool,
    /// [`Kind::info`] of `kind`.
    pub(crate) hint: &'static str,
    /// [`Kind::checker`] of `kind`.
    pub(crate) check: fn(&str, Kind) -> bool,
    pub(crate) kind: Kind,
    pub(crate) required: bool,
    pub(crate) repeated: bool,
}

impl Spec {
    /// An optional argument named `name` (without `--`, see [`check_name`]) of type `kind`,
    /// without default.
    pub const fn new(name: &'static str, kind: Kind) -> Spec {
        Spec {
            name,
            default: &[],
            undeclared: true,
            hint: kind.info(),
            check: kind.checker(),
            kind,
            required: false,
            repeated: false,
        }
        .settle()
    }

    /// Sets the default the parser uses, once the builders have said what they know: a flag
    /// without a declared default is `false`. Done here, at compile time, so that an image
    /// has no such rule to apply.
    const fn settle(self) -> Spec {
        let flag = matches!(self.kind, Kind::Bool) && !self.repeated && !self.required;
        Spec {
            default: match (self.undeclared, flag) {
                (true, true) => &["false"],
                (true, false) => &[],
                (false, _) => self.default,
            },
            ..self
        }
    }

    /// With a default, written as on the command line: one item for a plain argument, and
    /// for a repeated one the items of its list (`petrel configure` splits the list written
    /// in `unikernel.toml`, `"8.8.8.8 1.1.1.1"`, with [`split`]).
    pub const fn default(self, items: &'static [&'static str]) -> Spec {
        Spec {
            default: items,
            undeclared: items.is_empty(),
            ..self
        }
        .settle()
    }

    /// Must be given (when it has no default).
    pub const fn required(self) -> Spec {
        Spec {
            required: true,
            ..self
        }
        .settle()
    }

    /// May be given several times; read as `Vec<T>`.
    pub const fn repeated(self) -> Spec {
        Spec {
            repeated: true,
            ..self
        }
        .settle()
    }

    /// The name, without `--`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The type.
    pub const fn kind(&self) -> Kind {
        self.kind
    }

    /// The declared default items (see [`Spec::default`]): none for a flag declared without
    /// one, which the parser takes as `false`.
    pub const fn defaults(&self) -> &'static [&'static str] {
        match self.undeclared {
            true => &[],
            false => self.default,
        }
    }

    /// Whether it must be given (see [`Spec::required`]).
    pub const fn is_required(&self) -> bool {
        self.required
    }

    /// Whether it may be given several times (see [`Spec::repeated`]).
    pub const fn is_repeated(&self) -> bool {
        self.repeated
    }
}

/// Two specs are equal when they declare the same argument: the checker and texts follow
/// from the kind.
impl PartialEq for Spec {
    fn eq(&self, other: &Spec) -> bool {
        (
            self.name,
            self.kind,
            self.default,
            self.required,
            self.repeated,
        ) == (
            other.name,
            other.kind,
            other.default,
            other.required,
            other.repeated,
        )
    }
}

impl Eq for Spec {}

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
