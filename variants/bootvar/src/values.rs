//! Parsed values and their conversion to Rust types.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;

use crate::kind::{Ipv4Prefix, Ipv6Prefix, Kind, LogLevel, MacAddr, Value};
use crate::text::{field, put, word};

/// One parsed boot argument, as [`FromValue`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// Name, without `--`.
    pub name: &'static str,
    /// Declared kind.
    pub kind: Kind,
    /// Declared repeated: read it as `Vec<T>`.
    pub repeated: bool,
    /// Required or with a default: a non-repeated one always has exactly one value.
    pub always: bool,
    /// Whether the command line gave it (otherwise the values come from the default).
    pub given: bool,
    /// The values: the given ones, else those of the default, else none.
    pub values: Vec<Value>,
}

/// The typed boot arguments, as [`parse`](crate::parse) returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    pub(crate) args: Vec<Arg>,
    pub(crate) log_level: Option<LogLevel>,
}

impl Values {
    /// The value of the boot argument `name` (without `--`), as `T`.
    ///
    /// | declaration | read as |
    /// |---|---|
    /// | required, or with a default | `T` |
    /// | optional without default | `Option<T>` (`None` when absent) |
    /// | repeated | `Vec<T>` |
    ///
    /// Integers may be read as any integer type whose range holds the declared range.
    ///
    /// # Panics
    ///
    /// If no argument `name` is declared or its declaration does not fit `T`: the code and the
    /// configuration disagree, which is a programming error (re-run `petrel configure`).
    pub fn get<T: FromValue>(&self, name: &str) -> T {
        T::get_from(self, name)
    }

    /// The values of argument `name`, checked against the way the code reads it (`want`: a
    /// [`Scalar::TYPE`] and a shape). Non-generic, so that each `get` is a call and a copy.
    #[inline(never)]
    fn checked(&self, name: &str, want: u8) -> &[Value] {
        let arg = self.arg(name);
        if let Some(a) = arg
            && fits(a, want)
        {
            return &a.values;
        }
        mismatch(name, arg, want)
    }

    /// The parsed argument `name` (without `--`), if declared.
    pub fn arg(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|a| a.name == name)
    }

    /// Every declared argument, in declaration order.
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Whether the command line gave argument `name` (rather than its default).
    pub fn is_given(&self, name: &str) -> bool {
        self.arg(name).is_some_and(|a| a.given)
    }

    /// The level of the last leading `--solo5:LEVEL` argument, if any.
    pub fn log_level(&self) -> Option<LogLevel> {
        self.log_level
    }
}

/// `want` of a plain `T`, an `Option<T>`, a `Vec<T>`: added to [`Scalar::TYPE`].
const OPTION: u8 = 0x40;
const VEC: u8 = 0x80;
/// The first integer [`Scalar::TYPE`]: then `INT + i`, `i` the index in [`RUST_NAMES`] from
/// `i8`.
const INT: u8 = 10;

/// The Rust type names of [`Scalar::TYPE`] 0 to 19, for the panic of a mismatch.
const RUST_NAMES: &str = "String bool - - Duration Ipv4Addr Ipv6Addr Ipv4Prefix Ipv6Prefix MacAddr i8 i16 i32 i64 isize u8 u16 u32 u64 usize";

/// Whether `arg` can be read as `want`.
fn fits(arg: &Arg, want: u8) -> bool {
    let ty = want & 0x3f;
    let shape_ok = match want & (OPTION | VEC) {
        VEC => arg.repeated,
        OPTION => !arg.repeated,
        _ => !arg.repeated && arg.always,
    };
    shape_ok
        && match arg.kind.range() {
            None => usize::from(ty) == arg.kind.index(),
            Some((lo, hi)) => {
                // i8 i16 i32 i64 isize u8 u16 u32 u64 usize.
                let i = ty.wrapping_sub(INT);
                let bits = if i % 5 == 4 {
                    usize::BITS
                } else {
                    8 << (i % 5)
                };
                let (min, max) = if i < 5 {
                    (i64::MIN >> (64 - bits), (i64::MAX >> (64 - bits)) as u64)
                } else {
                    (0, u64::MAX >> (64 - bits))
                };
                i < 10 && i128::from(min) <= lo && hi <= i128::from(max)
            }
        }
}

/// The panic of [`Values::get`]: out of line, so that each call site stays small.
#[cold]
#[inline(never)]
fn mismatch(name: &str, arg: Option<&Arg>, want: u8) -> ! {
    let mut out = String::new();
    put(&mut out, "boot argument '--");
    put(&mut out, name);
    match arg {
        None => put(&mut out, "' is not declared"),
        Some(arg) => {
            put(&mut out, "' is declared as ");
            put(&mut out, arg.kind.name());
            put(
                &mut out,
                if arg.repeated {
                    " (repeated: read it as Vec<_>)"
                } else if arg.always {
                    ""
                } else {
                    " (optional without default: read it as Option<_>)"
                },
            );
            put(&mut out, " but the code reads it as `");
            let shape = usize::from(want >> 6);
            put(&mut out, field("|Option<|Vec<", b'|', shape));
            put(&mut out, word(RUST_NAMES, usize::from(want & 0x3f)));
            put(&mut out, if shape != 0 { ">`" } else { "`" });
        }
    }
    put(
        &mut out,
        ": the code and unikernel.toml disagree (fix the code or the declaration, and re-run \
         `petrel configure`)",
    );
    panic!("{}", Message(out))
}

/// A message for `panic!` that does not go through `Formatter::pad` (several KiB).
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value whose variant is not the one its checked kind implies: impossible, since
/// [`Values`] only holds values parsed for their argument's kind.
#[cold]
#[inline(never)]
fn bug() -> ! {
    panic!("petrel-bootvar: a value does not match its kind")
}

/// A Rust type a boot argument can be read as, with [`Values::get`].
///
/// Implemented for `String`, `bool`, every integer type, [`Duration`], [`Ipv4Addr`],
/// [`Ipv6Addr`], [`Ipv4Prefix`], [`Ipv6Prefix`], [`MacAddr`], and `Option<T>` and `Vec<T>` of
/// those.
pub trait FromValue: Sized {
    /// Converts `arg`; `None` if its declaration does not fit this type.
    fn from_arg(arg: &Arg) -> Option<Self>;

    /// [`Values::get`]: the value of `name`, or the panic of a mismatch.
    #[doc(hidden)]
    fn get_from(values: &Values, name: &str) -> Self;
}

/// A type read from one value: the element of `Option<T>` and `Vec<T>`.
pub trait Scalar: Sized {
    /// Which type it is (an index in the crate's table of Rust types).
    #[doc(hidden)]
    const TYPE: u8;
    /// Converts one value of an accepted kind.
    #[doc(hidden)]
    fn from_value(value: &Value) -> Self;
}

macro_rules! scalar {
    ($t:ty, $code:expr, |$value:ident| $body:expr) => {
        impl Scalar for $t {
            const TYPE: u8 = $code;
            fn from_value($value: &Value) -> Self {
                $body
            }
        }
        impl FromValue for $t {
            fn from_arg(arg: &Arg) -> Option<Self> {
                if !fits(arg, Self::TYPE) {
                    return None;
                }
                arg.values.first().map(Self::from_value)
            }
            fn get_from(values: &Values, name: &str) -> Self {
                match values.checked(name, Self::TYPE).first() {
                    Some(v) => Self::from_value(v),
                    None => bug(),
                }
            }
        }
    };
    ($t:ty, $code:expr, $v:pat => $e:expr) => {
        scalar!($t, $code, |value| match value {
            $v => $e,
            _ => bug(),
        });
    };
}

macro_rules! integer {
    ($($t:ty = $i:expr),*) => {$(
        scalar!($t, INT + $i, |value| match *value {
            // In range: `fits` checked that the declared range is within the type's.
            Value::Int(v) => v as $t,
            Value::Uint(v) => v as $t,
            _ => bug(),
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
scalar!(String, 0, Value::String(s) => clone(s));
scalar!(bool, 1, Value::Bool(b) => *b);
scalar!(Duration, 4, Value::Duration(d) => *d);
scalar!(Ipv4Addr, 5, Value::Ipv4(a) => *a);
scalar!(Ipv6Addr, 6, Value::Ipv6(a) => *a);
scalar!(Ipv4Prefix, 7, Value::Ipv4Prefix(p) => *p);
scalar!(Ipv6Prefix, 8, Value::Ipv6Prefix(p) => *p);
scalar!(MacAddr, 9, Value::Mac(m) => *m);

/// `s.clone()`, out of line.
#[inline(never)]
fn clone(s: &str) -> String {
    String::from(s)
}

impl<T: Scalar> FromValue for Option<T> {
    fn get_from(values: &Values, name: &str) -> Self {
        values
            .checked(name, T::TYPE | OPTION)
            .first()
            .map(T::from_value)
    }
    fn from_arg(arg: &Arg) -> Option<Self> {
        fits(arg, T::TYPE | OPTION).then(|| arg.values.first().map(T::from_value))
    }
}

impl<T: Scalar> FromValue for Vec<T> {
    fn get_from(values: &Values, name: &str) -> Self {
        values
            .checked(name, T::TYPE | VEC)
            .iter()
            .map(T::from_value)
            .collect()
    }
    fn from_arg(arg: &Arg) -> Option<Self> {
        fits(arg, T::TYPE | VEC).then(|| arg.values.iter().map(T::from_value).collect())
    }
}

/// A struct built from the parsed boot arguments (`#[derive(petrel::BootArgs)]`).
pub trait FromArgs {
    /// Builds the struct.
    fn from_args(values: &Values) -> Self;
}
