//! Parsed values and their conversion to Rust types.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;

use crate::kind::{Ipv4Prefix, Ipv6Prefix, Kind, LogLevel, MacAddr, Value};
use crate::text::{Ctx, put, render};

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

    /// The values of argument `name`, checked against the way the code reads it: `shape`
    /// (plain, `Option`, `Vec`) and `accepts`. Non-generic, so that each `get` is small.
    #[inline(never)]
    fn checked(
        &self,
        name: &str,
        shape: Shape,
        accepts: fn(Kind) -> bool,
        rust_type: &str,
    ) -> &[Value] {
        if let Some(arg) = self.arg(name) {
            let fits = match shape {
                Shape::Plain => !arg.repeated && arg.always,
                Shape::Option => !arg.repeated,
                Shape::Vec => arg.repeated,
            };
            if fits && accepts(arg.kind) {
                return &arg.values;
            }
        }
        mismatch(name, self.arg(name), rust_type)
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

/// How the code reads an argument.
#[derive(Clone, Copy)]
enum Shape {
    /// `T`.
    Plain,
    /// `Option<T>`.
    Option,
    /// `Vec<T>`.
    Vec,
}

/// A message for `panic!` that does not go through `Formatter::pad` (several KiB).
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The panic of [`Values::get`]: out of line, so that each call site stays small.
#[cold]
#[inline(never)]
fn mismatch(name: &str, arg: Option<&Arg>, rust_type: &str) -> ! {
    let mut out = String::new();
    let kind = arg.map_or(Kind::String, |a| a.kind);
    let c = Ctx {
        user: "",
        name,
        kind,
    };
    match arg {
        None => render(
            &mut out,
            "boot argument '--\x02' is not declared: the code and the configuration disagree; \
             declare it in unikernel.toml (or fix the name) and re-run `petrel configure`",
            &c,
        ),
        Some(arg) => {
            render(&mut out, "boot argument '--\x02' is declared as \x03", &c);
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
            put(&mut out, rust_type);
            put(
                &mut out,
                "`: the code and the configuration disagree; re-run `petrel configure`",
            );
        }
    }
    panic!("{}", Message(out))
}

/// A Rust type a boot argument can be read as, with [`Values::get`].
///
/// Implemented for `String`, `bool`, every integer type, [`Duration`], [`Ipv4Addr`],
/// [`Ipv6Addr`], [`Ipv4Prefix`], [`Ipv6Prefix`], [`MacAddr`], and `Option<T>` and `Vec<T>` of
/// those.
pub trait FromValue: Sized {
    /// Converts `arg`; `None` if its declaration does not fit this type.
    fn from_arg(arg: &Arg) -> Option<Self>;

    /// [`Values::get`]: the value of `name`, or the panic of a mismatch. The crate's impls
    /// override it with a smaller version.
    #[doc(hidden)]
    fn get_from(values: &Values, name: &str) -> Self {
        let arg = values.arg(name);
        match arg.and_then(Self::from_arg) {
            Some(v) => v,
            None => mismatch(name, arg, core::any::type_name::<Self>()),
        }
    }
}

/// `get` of a plain scalar.
fn get_one<T: Scalar>(values: &Values, name: &str) -> T {
    let rust_type = core::any::type_name::<T>();
    let v = values.checked(name, Shape::Plain, T::accepts, rust_type);
    match v.first().and_then(T::convert) {
        Some(v) => v,
        None => mismatch(name, values.arg(name), rust_type),
    }
}

/// A type read from one value: the element of `Option<T>` and `Vec<T>`.
pub trait Scalar: Sized {
    /// Whether a value of `kind` always converts to this type.
    fn accepts(kind: Kind) -> bool;
    /// Converts one value.
    fn convert(value: &Value) -> Option<Self>;
}

macro_rules! scalar {
    ($t:ty, $kind:pat, $v:pat => $e:expr) => {
        impl Scalar for $t {
            fn accepts(kind: Kind) -> bool {
                matches!(kind, $kind)
            }
            fn convert(value: &Value) -> Option<Self> {
                match value {
                    $v => Some($e),
                    _ => None,
                }
            }
        }
        impl FromValue for $t {
            fn from_arg(arg: &Arg) -> Option<Self> {
                one(arg)
            }
            fn get_from(values: &Values, name: &str) -> Self {
                get_one(values, name)
            }
        }
    };
}

macro_rules! integer {
    ($($t:ty)*) => {$(
        impl Scalar for $t {
            fn accepts(kind: Kind) -> bool {
                let (lo, hi) = match kind {
                    Kind::Int { min, max } => (i128::from(min), i128::from(max)),
                    Kind::Uint { min, max } => (i128::from(min), i128::from(max)),
                    _ => return false,
                };
                <$t>::MIN as i128 <= lo && hi <= <$t>::MAX as i128
            }
            fn convert(value: &Value) -> Option<Self> {
                match *value {
                    Value::Int(v) => <$t>::try_from(v).ok(),
                    Value::Uint(v) => <$t>::try_from(v).ok(),
                    _ => None,
                }
            }
        }
        impl FromValue for $t {
            fn from_arg(arg: &Arg) -> Option<Self> {
                one(arg)
            }
            fn get_from(values: &Values, name: &str) -> Self {
                get_one(values, name)
            }
        }
    )*};
}

integer!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);
scalar!(String, Kind::String, Value::String(s) => s.clone());
scalar!(bool, Kind::Bool, Value::Bool(b) => *b);
scalar!(Duration, Kind::Duration, Value::Duration(d) => *d);
scalar!(Ipv4Addr, Kind::Ipv4, Value::Ipv4(a) => *a);
scalar!(Ipv6Addr, Kind::Ipv6, Value::Ipv6(a) => *a);
scalar!(Ipv4Prefix, Kind::Ipv4Prefix, Value::Ipv4Prefix(p) => *p);
scalar!(Ipv6Prefix, Kind::Ipv6Prefix, Value::Ipv6Prefix(p) => *p);
scalar!(MacAddr, Kind::Mac, Value::Mac(m) => *m);

fn one<T: Scalar>(arg: &Arg) -> Option<T> {
    if arg.repeated || !arg.always || !T::accepts(arg.kind) {
        return None;
    }
    arg.values.first().and_then(T::convert)
}

impl<T: Scalar> FromValue for Option<T> {
    fn get_from(values: &Values, name: &str) -> Self {
        let rust_type = core::any::type_name::<Self>();
        match values
            .checked(name, Shape::Option, T::accepts, rust_type)
            .first()
        {
            None => None,
            Some(v) => match T::convert(v) {
                Some(v) => Some(v),
                None => mismatch(name, values.arg(name), rust_type),
            },
        }
    }
    fn from_arg(arg: &Arg) -> Option<Self> {
        if arg.repeated || !T::accepts(arg.kind) {
            return None;
        }
        match arg.values.first() {
            None => Some(None),
            Some(v) => T::convert(v).map(Some),
        }
    }
}

impl<T: Scalar> FromValue for Vec<T> {
    fn get_from(values: &Values, name: &str) -> Self {
        let rust_type = core::any::type_name::<Self>();
        let v = values.checked(name, Shape::Vec, T::accepts, rust_type);
        match v.iter().map(T::convert).collect() {
            Some(v) => v,
            None => mismatch(name, values.arg(name), rust_type),
        }
    }
    fn from_arg(arg: &Arg) -> Option<Self> {
        if !arg.repeated || !T::accepts(arg.kind) {
            return None;
        }
        arg.values.iter().map(T::convert).collect()
    }
}

/// A struct built from the parsed boot arguments (`#[derive(petrel::BootArgs)]`).
pub trait FromArgs {
    /// Builds the struct.
    fn from_args(values: &Values) -> Self;
}
