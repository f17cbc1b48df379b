//! Parsed values and their conversion to Rust types.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;

use crate::addr::{parse_addr, parse_mac};
use crate::kind::{Ipv4Prefix, Ipv6Prefix, LogLevel, MacAddr, parse_duration, parse_integer};
use crate::parse::position;
use crate::split::Tokens;
use crate::{Kind, Spec};

/// The typed boot arguments, as [`parse`](crate::parse) returns them.
///
/// They keep the command line's arguments and parse a value again when [`Values::get`] reads
/// it (parse checked that it parses): one copy of every value parser in an image, and no list
/// of typed values to build and clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    /// The declarations.
    pub(crate) specs: &'static [Spec],
    /// The arguments of the command line.
    pub(crate) tokens: Tokens,
    /// The given values, in command-line order.
    pub(crate) given: Vec<Given>,
    pub(crate) log_level: Option<LogLevel>,
}

/// A given value: the index of its argument in the specs, and where its text is in the
/// [`Tokens`] (start, length); start [`FLAG`] for a bare `--flag`, whose value is `true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Given(pub usize, pub usize, pub usize);

/// The start of the value of a bare `--flag` (see [`Given`]).
pub(crate) const FLAG: usize = usize::MAX;

impl Values {
    /// The value of the boot argument `name` (without `--`), as `T`.
    ///
    /// | declaration | read as |
    /// |---|---|
    /// | required, or with a default | `T` |
    /// | optional without default | `Option<T>` (`None` when absent) |
    /// | repeated | `Vec<T>` |
    ///
    /// Integers may be read as any integer type whose range holds the declared type's.
    ///
    /// # Panics
    ///
    /// If no argument `name` is declared or its declaration does not fit `T`: the code and the
    /// configuration disagree, which is a programming error (re-run `petrel configure`). In a
    /// release build, also if the default does not parse (a generated table edited by hand).
    ///
    /// A debug build reports the panic at the line of the `get` call (`#[track_caller]`); a
    /// release build, which leaves out the location of every call, in this crate.
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn get<T: FromValue>(&self, name: &str) -> T {
        T::get_from(self, name)
    }

    /// The values as one device instance reads them: the same arguments under the names of
    /// `specs`, a table entry for entry like the parsed one in which the instance's own
    /// arguments carry the names its implementation declares (`disk` for `--storage-disk`)
    /// and the others an empty name, which no `get` asks for. `petrel configure` writes such
    /// a table for each instance whose arguments have a prefix (docs/architecture.md, "Boot
    /// arguments of several instances"), so implementations read their plain names and an
    /// image without prefixes carries nothing of this. Called once per such instance at
    /// start; the view lives as long as the unikernel.
    pub fn for_instance(&self, specs: &'static [Spec]) -> &'static Values {
        // A table of another length would give values to the wrong arguments: the
        // generated code writes both from one list.
        assert_eq!(
            specs.len(),
            self.specs.len(),
            "instance table of another length"
        );
        Box::leak(Box::new(Values {
            specs,
            ..self.clone()
        }))
    }

    /// What `parse` returns in a build with `--cfg petrel_bootvar_baseline`, which
    /// `scripts/size-image.sh` uses to measure what the parser adds to a real image: the
    /// image without it. `parse` and `parse_cmdline` return this without reading anything,
    /// and `get` returns a value the optimiser cannot see (`black_box`), so that the code
    /// that uses it stays. Such an image is measured, never run.
    pub(crate) fn baseline() -> Values {
        Values {
            specs: &[],
            tokens: Tokens::empty(),
            given: Vec::new(),
            log_level: core::hint::black_box(None),
        }
    }

    /// The text of a given value (see [`Given`]).
    pub(crate) fn text_of(tokens: &Tokens, start: usize, len: usize) -> &str {
        if start == FLAG {
            "true"
        } else {
            tokens.text(start, len)
        }
    }

    /// The text of value `n` (from 0) of argument `name`: its `n`th given value, or if none
    /// is given its `n`th default; after checking the declaration against the way the code
    /// reads it (`want`: a [`Scalar::TYPE`] and a shape). Non-generic, so that each `get` is
    /// a call.
    #[inline(never)]
    #[cfg_attr(debug_assertions, track_caller)]
    fn text(&self, name: &str, want: u8, n: usize) -> Option<&str> {
        let at = position(self.specs, name);
        let spec = match at.and_then(|i| self.specs.get(i)) {
            Some(spec) if fits(spec, want) => spec,
            _ => mismatch(name),
        };
        // The `n`th given value; if none is given, the `n`th default.
        let mut seen = 0;
        for g in &self.given {
            if Some(g.0) == at {
                if seen == n {
                    return Some(Values::text_of(&self.tokens, g.1, g.2));
                }
                seen += 1;
            }
        }
        match seen {
            0 => spec.default.get(n).copied(),
            _ => None,
        }
    }

    /// Value `n` of `name` as `T` (see [`Values::text`]).
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    fn read<T: Scalar>(&self, name: &str, shape: u8, n: usize) -> Option<T> {
        if cfg!(petrel_bootvar_baseline) {
            return core::hint::black_box(None);
        }
        let text = self.text(name, T::TYPE | shape, n)?;
        // `parse` checked that a given value parses as the declared kind, whose values `T`
        // holds (`fits`), and `petrel configure` checked the defaults.
        match T::from_text(text) {
            Some(v) => Some(v),
            None => bad_default(),
        }
    }

    /// Whether the command line gave argument `name` (rather than its default).
    pub fn is_given(&self, name: &str) -> bool {
        let at = position(self.specs, name);
        self.given.iter().any(|g| Some(g.0) == at)
    }

    /// The level of the last leading `--solo5:LEVEL` argument, if any.
    pub fn log_level(&self) -> Option<LogLevel> {
        self.log_level
    }
}

/// `want` of a plain `T`, an `Option<T>`, a `Vec<T>`: added to [`Scalar::TYPE`].
const OPTION: u8 = 0x40;
const VEC: u8 = 0x80;
/// The first integer [`Scalar::TYPE`]: then `INT + i`, `i` the index of the type in `i8 i16
/// i32 i64 isize u8 u16 u32 u64 usize`. The other types have the [`Kind::index`] of their
/// kind.
const INT: u8 = 16;

/// For each kind (by [`Kind::index`]), the [`Scalar::TYPE`]s that can read it, as bits: its
/// own type, or for an integer kind every integer type whose range holds the kind's.
const READS: [u32; 16] = {
    let mut reads = [0u32; 16];
    let mut k = 0;
    while k < 16 {
        reads[k] = match Kind::ALL[k].integer() {
            None => 1 << k,
            Some((signed, bits)) => {
                let mut mask = 0;
                // i8 i16 i32 i64 isize u8 u16 u32 u64 usize.
                let mut i = 0;
                while i < 10 {
                    let ty_bits = if i % 5 == 4 {
                        usize::BITS
                    } else {
                        8 << (i % 5)
                    };
                    let ty_signed = i < 5;
                    if signed == ty_signed && bits <= ty_bits
                        || !signed && ty_signed && bits < ty_bits
                    {
                        mask |= 1 << (INT as u32 + i);
                    }
                    i += 1;
                }
                mask
            }
        };
        k += 1;
    }
    reads
};

/// The shape `get` must read the argument declared by `spec` with: `Vec<T>` ([`VEC`]) if
/// repeated, `T` (0) if required, with a default or a flag, else `Option<T>` ([`OPTION`]).
fn shape(spec: &Spec) -> u8 {
    if spec.repeated {
        VEC
    } else if spec.required || !spec.default.is_empty() {
        0
    } else {
        OPTION
    }
}

/// Whether the argument declared by `spec` can be read as `want`. `Option<T>` also reads an
/// argument that always has a value.
fn fits(spec: &Spec, want: u8) -> bool {
    let (declared, wanted) = (shape(spec), want & (OPTION | VEC));
    (wanted == declared || wanted == OPTION && declared == 0)
        && READS[spec.kind.index()] >> (want & 0x3f) & 1 == 1
}

/// The panic of [`Values::get`]: out of line, so that each call site stays small. A debug
/// build reports it at the line of the `get` call (`#[track_caller]`), which shows the type
/// the code reads; `--help` and `petrel describe` show the declaration, and `petrel
/// configure` checks the fields of `#[derive(BootArgs)]` structs before this can happen.
#[cold]
#[inline(never)]
#[cfg_attr(debug_assertions, track_caller)]
fn mismatch(name: &str) -> ! {
    panic!(
        "boot argument '--{name}' is not declared as the code reads it (fix the code or \
         unikernel.toml, and re-run `petrel configure`)"
    )
}

/// A value that `get` cannot read as the type `fits` allowed. `parse` checked every given
/// value, and `fits` lets a plain `T` read only an argument that always has a value: only a
/// default gets here, one that does not parse as its kind. `petrel configure` checks every
/// default and a debug build's `parse` checks them again, so only a table edited by hand,
/// read by a release build, has one; re-running configure writes the table again.
#[cold]
#[inline(never)]
fn bad_default() -> ! {
    panic!("a boot argument's default is not valid (re-run `petrel configure`)")
}

/// A Rust type a boot argument can be read as, with [`Values::get`].
///
/// Implemented for `String`, `bool`, every integer type, [`Duration`], [`Ipv4Addr`],
/// [`Ipv6Addr`], [`Ipv4Prefix`], [`Ipv6Prefix`], [`MacAddr`], and `Option<T>` and `Vec<T>` of
/// those.
pub trait FromValue: Sized {
    /// [`Values::get`]: the value of `name`, or the panic of a mismatch.
    #[doc(hidden)]
    #[cfg_attr(debug_assertions, track_caller)]
    fn get_from(values: &Values, name: &str) -> Self;
}

/// A type read from one value: the element of `Option<T>` and `Vec<T>`.
pub trait Scalar: Sized {
    /// Which type it is (an index in the crate's table of Rust types).
    #[doc(hidden)]
    const TYPE: u8;
    /// Parses the text of one value of an accepted kind (an integer with the range of this
    /// type, which holds the declared one's: `fits` checked it): only the parsers of the types
    /// an image reads are in it.
    #[doc(hidden)]
    fn from_text(text: &str) -> Option<Self>;
}

macro_rules! scalar {
    ($t:ty, $code:expr, |$text:ident| $body:expr) => {
        impl Scalar for $t {
            const TYPE: u8 = $code;
            fn from_text($text: &str) -> Option<Self> {
                $body
            }
        }
        impl FromValue for $t {
            #[cfg_attr(debug_assertions, track_caller)]
            fn get_from(values: &Values, name: &str) -> Self {
                match values.read(name, 0, 0) {
                    Some(v) => v,
                    None => bad_default(),
                }
            }
        }
    };
}

macro_rules! integer {
    ($($t:ty = $i:expr),*) => {$(
        // Parsed with this type's range, so that a default out of it (a table edited by
        // hand, which a release build does not check) panics rather than wraps. Every other
        // value is in range: `fits` checked that the declared type's range is within this one's.
        scalar!($t, INT + $i, |text| {
            parse_integer(text.as_bytes(), $i < 5, <$t>::BITS).map(|v| v as $t)
        });
    )*};
}

integer!(
    i8 = 0,
    i16 = 1,
    i32 = 2,
    i64 = 3,
    isize = 4,
    u8 = 5,
    u16 = 6,
    u32 = 7,
    u64 = 8,
    usize = 9
);
scalar!(String, 0, |text| Some(String::from(text)));
scalar!(bool, 1, |text| Some(text == "true"));
scalar!(Duration, 10, |text| parse_duration(text.as_bytes()));
scalar!(Ipv4Addr, 11, |text| {
    parse_addr(text.as_bytes(), false, false).map(|(a, _)| Ipv4Addr::from(a as u32))
});
scalar!(Ipv6Addr, 12, |text| {
    parse_addr(text.as_bytes(), true, false).map(|(a, _)| Ipv6Addr::from(a))
});
scalar!(Ipv4Prefix, 13, |text| {
    parse_addr(text.as_bytes(), false, true).map(|(a, len)| Ipv4Prefix {
        addr: Ipv4Addr::from(a as u32),
        len,
    })
});
scalar!(Ipv6Prefix, 14, |text| {
    parse_addr(text.as_bytes(), true, true).map(|(a, len)| Ipv6Prefix {
        addr: Ipv6Addr::from(a),
        len,
    })
});
scalar!(MacAddr, 15, |text| parse_mac(text.as_bytes()));

impl<T: Scalar> FromValue for Option<T> {
    #[cfg_attr(debug_assertions, track_caller)]
    fn get_from(values: &Values, name: &str) -> Self {
        values.read(name, OPTION, 0)
    }
}

impl<T: Scalar> FromValue for Vec<T> {
    #[cfg_attr(debug_assertions, track_caller)]
    fn get_from(values: &Values, name: &str) -> Self {
        let mut out = Vec::new();
        while let Some(v) = values.read(name, VEC, out.len()) {
            out.push(v);
        }
        out
    }
}

/// A struct built from the parsed boot arguments (`#[derive(petrel::BootArgs)]`).
pub trait FromArgs {
    /// Builds the struct.
    fn from_args(values: &Values) -> Self;
}
