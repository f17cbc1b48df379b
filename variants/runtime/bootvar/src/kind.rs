//! Argument types, typed values and their parsers.

use alloc::string::String;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;
use core::time::Duration;

use crate::addr::{parse_addr, parse_mac};
use crate::text::{field, find_field, word};

/// The type of a boot argument. Integers carry the range of their Rust type, which the
/// parser checks; `int` is `i64` and `uint` is `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// Any text (`string`).
    String,
    /// `true` or `false` (`bool`); `--flag` alone means `true`.
    Bool,
    /// A signed integer that fits `i8` (`i8`).
    I8,
    /// A signed integer that fits `i16` (`i16`).
    I16,
    /// A signed integer that fits `i32` (`i32`).
    I32,
    /// A signed integer that fits `i64` (`i64`, `int`).
    I64,
    /// An unsigned integer that fits `u8` (`u8`).
    U8,
    /// An unsigned integer that fits `u16` (`u16`).
    U16,
    /// An unsigned integer that fits `u32` (`u32`).
    U32,
    /// An unsigned integer that fits `u64` (`u64`, `uint`).
    U64,
    /// A duration such as `250ms`, `5s`, `1m` or `1h30m` (`duration`).
    Duration,
    /// An IPv4 address such as `10.0.0.1` (`ipv4`).
    Ipv4,
    /// An IPv6 address such as `fd00::1` (`ipv6`).
    Ipv6,
    /// An IPv4 address and prefix length such as `10.0.0.2/24` (`ipv4-prefix`).
    Ipv4Prefix,
    /// An IPv6 address and prefix length such as `fd00::2/64` (`ipv6-prefix`).
    Ipv6Prefix,
    /// A MAC address such as `02:00:00:00:00:01` (`mac`).
    Mac,
}

impl Kind {
    /// Every kind, by [`Kind::index`].
    pub(crate) const ALL: [Kind; 16] = ALL;
}

/// Every kind, by [`Kind::index`].
const ALL: [Kind; 16] = [
    Kind::String,
    Kind::Bool,
    Kind::I8,
    Kind::I16,
    Kind::I32,
    Kind::I64,
    Kind::U8,
    Kind::U16,
    Kind::U32,
    Kind::U64,
    Kind::Duration,
    Kind::Ipv4,
    Kind::Ipv6,
    Kind::Ipv4Prefix,
    Kind::Ipv6Prefix,
    Kind::Mac,
];

impl Kind {
    /// Every type name [`Kind::parse_name`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "string",
        "bool",
        "i8",
        "i16",
        "i32",
        "i64",
        "int",
        "u8",
        "u16",
        "u32",
        "u64",
        "uint",
        "duration",
        "ipv4",
        "ipv6",
        "ipv4-prefix",
        "ipv6-prefix",
        "mac",
    ];

    /// The kind named `name` in `unikernel.toml` or crate metadata; `int` is `i64` and `uint`
    /// is `u64`.
    pub const fn parse_name(name: &str) -> Option<Kind> {
        let name = name.as_bytes();
        if eq(name, b"int") {
            return Some(Kind::I64);
        }
        if eq(name, b"uint") {
            return Some(Kind::U64);
        }
        let mut i = 0;
        while i < ALL.len() {
            if eq(ALL[i].name().as_bytes(), name) {
                return Some(ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// `NAME|DESCRIPTION|EXAMPLE`: the type name, what a value looks like in words, and a
    /// valid value. The one source of [`Kind::name`], [`Kind::describe`] and
    /// [`Kind::example`]; a [`Spec`](crate::Spec) keeps its kind's, so that an image holds
    /// the texts of the kinds its table declares and no other.
    pub(crate) const fn info(&self) -> &'static str {
        match self {
            Kind::String => "string|any text|text",
            Kind::Bool => "bool|true or false|true",
            Kind::I8 => "i8|an integer from -128 to 127|42",
            Kind::I16 => "i16|an integer from -32768 to 32767|42",
            Kind::I32 => "i32|an integer from -2147483648 to 2147483647|42",
            Kind::I64 => "i64|an integer from -9223372036854775808 to 9223372036854775807|42",
            Kind::U8 => "u8|an integer from 0 to 255|42",
            Kind::U16 => "u16|an integer from 0 to 65535|42",
            Kind::U32 => "u32|an integer from 0 to 4294967295|42",
            Kind::U64 => "u64|an integer from 0 to 18446744073709551615|42",
            Kind::Duration => {
                "duration|a number and a unit among ns, us, ms, s, m, h, d, such as 5s or \
                 1m30s|250ms"
            }
            Kind::Ipv4 => "ipv4|an IPv4 address|10.0.0.1",
            Kind::Ipv6 => "ipv6|an IPv6 address|fd00::1",
            Kind::Ipv4Prefix => {
                "ipv4-prefix|an IPv4 address and a prefix length from 0 to 32|10.0.0.2/24"
            }
            Kind::Ipv6Prefix => {
                "ipv6-prefix|an IPv6 address and a prefix length from 0 to 128|fd00::2/64"
            }
            Kind::Mac => "mac|six hexadecimal bytes separated by ':'|02:00:00:00:00:01",
        }
    }

    /// The type name, as accepted by [`Kind::parse_name`] (`i64`, not its alias `int`).
    pub const fn name(&self) -> &'static str {
        field(self.info(), b'|', 0)
    }

    /// What a value of this kind looks like, in words (`an integer from 0 to 65535`).
    pub const fn describe(&self) -> &'static str {
        field(self.info(), b'|', 1)
    }

    /// A valid value of this kind, for error messages (`42`, `250ms`, `10.0.0.2/24`...).
    pub const fn example(&self) -> &'static str {
        field(self.info(), b'|', 2)
    }

    /// The variant's index, in declaration order (`String` 0 ... `Mac` 15).
    pub(crate) const fn index(&self) -> usize {
        *self as usize
    }

    /// For an integer kind: whether it is signed, and its width in bits.
    pub(crate) const fn integer(&self) -> Option<(bool, u32)> {
        let i = self.index();
        if i < 2 || i > 9 {
            return None;
        }
        Some((i < 6, 8 << ((i - 2) % 4)))
    }

    /// Whether `s` is a value of this kind ([`Kind::parse_value`] without the value).
    pub(crate) fn accepts(&self, s: &str) -> bool {
        (self.checker())(s, *self)
    }

    /// The function that tells whether a text is a value of this kind, given the kind. A
    /// [`Spec`](crate::Spec) keeps its kind's: an image holds the parsers of the kinds its
    /// table declares and no other. The address kinds share one function, told the kind.
    pub(crate) const fn checker(&self) -> fn(&str, Kind) -> bool {
        // One function per integer type: its parser is then specialised to the type's range.
        macro_rules! integer {
            ($signed:expr, $bits:expr) => {
                |s, _| parse_integer(s.as_bytes(), $signed, $bits).is_some()
            };
        }
        match self {
            Kind::String => |_, _| true,
            Kind::Bool => |s, _| matches!(s, "true" | "false"),
            Kind::I8 => integer!(true, 8),
            Kind::I16 => integer!(true, 16),
            Kind::I32 => integer!(true, 32),
            Kind::I64 => integer!(true, 64),
            Kind::U8 => integer!(false, 8),
            Kind::U16 => integer!(false, 16),
            Kind::U32 => integer!(false, 32),
            Kind::U64 => integer!(false, 64),
            Kind::Duration => |s, _| parse_duration(s.as_bytes()).is_some(),
            Kind::Ipv4 | Kind::Ipv6 | Kind::Ipv4Prefix | Kind::Ipv6Prefix => |s, kind| {
                let v6 = matches!(kind, Kind::Ipv6 | Kind::Ipv6Prefix);
                let prefix = matches!(kind, Kind::Ipv4Prefix | Kind::Ipv6Prefix);
                parse_addr(s.as_bytes(), v6, prefix).is_some()
            },
            Kind::Mac => |s, _| parse_mac(s.as_bytes()).is_some(),
        }
    }

    /// Parses one value of this kind; `None` if `s` is not one.
    ///
    /// Inlined, and each kind's parser out of line: where the kind is known (as in
    /// [`Values::get`](crate::Values::get)), only its parser is kept in an image.
    #[inline]
    pub fn parse_value(&self, s: &str) -> Option<Value> {
        let b = s.as_bytes();
        let i = self.index();
        Some(match *self {
            Kind::String => Value::String(String::from(s)),
            Kind::Bool => Value::Bool(parse_bool(b)?),
            Kind::Duration => Value::Duration(parse_duration(b)?),
            Kind::Mac => Value::Mac(parse_mac(b)?),
            Kind::Ipv4 | Kind::Ipv4Prefix => {
                let (a, len) = parse_addr(b, false, i == 13)?;
                let addr = Ipv4Addr::from(a as u32);
                match i {
                    11 => Value::Ipv4(addr),
                    _ => Value::Ipv4Prefix(Ipv4Prefix { addr, len }),
                }
            }
            Kind::Ipv6 | Kind::Ipv6Prefix => {
                let (a, len) = parse_addr(b, true, i == 14)?;
                let addr = Ipv6Addr::from(a);
                match i {
                    12 => Value::Ipv6(addr),
                    _ => Value::Ipv6Prefix(Ipv6Prefix { addr, len }),
                }
            }
            // The integers.
            _ => {
                let (signed, bits) = self.integer()?;
                let v = parse_integer(b, signed, bits)?;
                if signed {
                    Value::Int(v as i64)
                } else {
                    Value::Uint(v)
                }
            }
        })
    }
}

/// `true` or `false`.
fn parse_bool(b: &[u8]) -> Option<bool> {
    match b {
        b"true" => Some(true),
        b"false" => Some(false),
        _ => None,
    }
}

/// An integer of `bits` bits, signed or not, as its two's-complement `u64`.
#[inline(never)]
pub(crate) fn parse_integer(b: &[u8], signed: bool, bits: u32) -> Option<u64> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) if signed => (true, rest),
        _ => (false, b),
    };
    let v = number(digits)?;
    if v > max_magnitude(signed, bits, neg) {
        return None;
    }
    // -2^63 is `i64::MIN` itself, which `wrapping_neg` keeps.
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The largest magnitude of an integer of `bits` bits: for a negative value of a signed type,
/// `2^(bits-1)`.
const fn max_magnitude(signed: bool, bits: u32, neg: bool) -> u64 {
    (u64::MAX >> (64 - bits + signed as u32)) + neg as u64
}

/// `a == b`, usable in a `const fn`.
const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A parsed, typed boot-argument value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// [`Kind::String`].
    String(String),
    /// [`Kind::Bool`].
    Bool(bool),
    /// A signed integer kind, [`Kind::I8`] to [`Kind::I64`].
    Int(i64),
    /// An unsigned integer kind, [`Kind::U8`] to [`Kind::U64`].
    Uint(u64),
    /// [`Kind::Duration`].
    Duration(Duration),
    /// [`Kind::Ipv4`].
    Ipv4(Ipv4Addr),
    /// [`Kind::Ipv6`].
    Ipv6(Ipv6Addr),
    /// [`Kind::Ipv4Prefix`].
    Ipv4Prefix(Ipv4Prefix),
    /// [`Kind::Ipv6Prefix`].
    Ipv6Prefix(Ipv6Prefix),
    /// [`Kind::Mac`].
    Mac(MacAddr),
}

/// A decimal number of one or more digits, without sign.
#[inline(never)]
pub(crate) fn number(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// Duration units, and their length in nanoseconds.
const UNITS: &str = "ns us µs ms s m h d";
const NANOS: [u64; 8] = [
    1,
    1_000,
    1_000,
    1_000_000,
    1_000_000_000,
    60_000_000_000,
    3_600_000_000_000,
    86_400_000_000_000,
];

#[inline(never)]
pub(crate) fn parse_duration(s: &[u8]) -> Option<Duration> {
    if s == b"0" {
        return Some(Duration::ZERO);
    }
    let mut total: u64 = 0;
    let mut rest = s;
    let mut any = false;
    while !rest.is_empty() {
        let d = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (num, after) = rest.split_at(d);
        let u = after.iter().take_while(|b| !b.is_ascii_digit()).count();
        let (unit, after) = after.split_at(u);
        rest = after;
        let n = number(num)?;
        let unit = NANOS.get(find_field(UNITS, b' ', unit))?;
        total = total.checked_add(n.checked_mul(*unit)?)?;
        any = true;
    }
    any.then(|| Duration::from_nanos(total))
}

fn parse_ipv4_prefix(s: &[u8]) -> Option<Ipv4Prefix> {
    let (a, len) = parse_addr(s, false, true)?;
    Some(Ipv4Prefix {
        addr: Ipv4Addr::from(a as u32),
        len,
    })
}

fn parse_ipv6_prefix(s: &[u8]) -> Option<Ipv6Prefix> {
    let (a, len) = parse_addr(s, true, true)?;
    Some(Ipv6Prefix {
        addr: Ipv6Addr::from(a),
        len,
    })
}

/// The error of the `FromStr` impls of [`Ipv4Prefix`], [`Ipv6Prefix`] and [`MacAddr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseValueError {
    /// The kind that was expected.
    pub kind: Kind,
}

impl fmt::Display for ParseValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}", self.kind.describe())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParseValueError {}

/// An IPv4 address with a prefix length, such as `10.0.0.2/24`: the unikernel's address and
/// its network. The address keeps its host bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Prefix {
    /// The address.
    pub addr: Ipv4Addr,
    /// The prefix length, 0 to 32.
    pub len: u8,
}

impl Ipv4Prefix {
    /// The netmask (`255.255.255.0` for `/24`).
    pub fn netmask(&self) -> Ipv4Addr {
        let bits = u32::MAX
            .checked_shl(32 - u32::from(self.len.min(32)))
            .unwrap_or(0);
        Ipv4Addr::from(bits)
    }
    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & u32::from(self.netmask()))
    }
    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & u32::from(self.netmask()) == u32::from(self.network())
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Ipv4Prefix {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_ipv4_prefix(s.as_bytes()).ok_or(ParseValueError {
            kind: Kind::Ipv4Prefix,
        })
    }
}

/// An IPv6 address with a prefix length, such as `fd00::2/64`. The address keeps its host
/// bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Prefix {
    /// The address.
    pub addr: Ipv6Addr,
    /// The prefix length, 0 to 128.
    pub len: u8,
}

impl Ipv6Prefix {
    fn mask(&self) -> u128 {
        u128::MAX
            .checked_shl(128 - u32::from(self.len.min(128)))
            .unwrap_or(0)
    }
    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv6Addr {
        Ipv6Addr::from(u128::from(self.addr) & self.mask())
    }
    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & self.mask() == u128::from(self.network())
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Ipv6Prefix {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_ipv6_prefix(s.as_bytes()).ok_or(ParseValueError {
            kind: Kind::Ipv6Prefix,
        })
    }
}

/// A MAC address. Parsed from `aa:bb:cc:dd:ee:ff` (or with `-`), displayed with `:` in
/// lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for MacAddr {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_mac(s.as_bytes()).ok_or(ParseValueError { kind: Kind::Mac })
    }
}

/// The names of the log levels, in order.
const LEVELS: &str = "quiet error warn info debug";

/// The log level set by a leading `--solo5:LEVEL` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `--solo5:quiet`: nothing.
    Quiet,
    /// `--solo5:error`.
    Error,
    /// `--solo5:warn`.
    Warn,
    /// `--solo5:info`.
    Info,
    /// `--solo5:debug`.
    Debug,
}

impl LogLevel {
    /// Parses `quiet`, `error`, `warn`, `info` or `debug`.
    pub fn parse(s: &str) -> Option<LogLevel> {
        const ALL: [LogLevel; 5] = [
            LogLevel::Quiet,
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
        ];
        // With `word`, which every image has, rather than `find_field`.
        ALL.into_iter().find(|&level| level.name() == s)
    }
    /// The name, as written after `--solo5:`.
    pub fn name(&self) -> &'static str {
        word(LEVELS, *self as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts that are values of some kinds and not of others.
    const SAMPLES: &[&str] = &[
        "",
        "true",
        "false",
        "0",
        "-0",
        "42",
        "-1",
        "127",
        "128",
        "-128",
        "-129",
        "255",
        "256",
        "65535",
        "65536",
        "-32769",
        "4294967296",
        "18446744073709551616",
        "250ms",
        "1m30s",
        "5",
        "10.0.0.1",
        "10.0.0.2/24",
        "10.0.0.2/33",
        "fd00::1",
        "fd00::2/64",
        "::/129",
        "02:00:00:00:00:01",
        "02-00-00-00-00-01",
        "zz",
        "1h",
        "1 s",
    ];

    /// The checker a `Spec` keeps accepts exactly what `parse_value` parses.
    #[test]
    fn checker_agrees_with_parse_value() {
        for kind in ALL {
            for s in SAMPLES.iter().copied().chain([kind.example()]) {
                assert_eq!(
                    (kind.checker())(s, kind),
                    kind.parse_value(s).is_some(),
                    "{kind:?} {s:?}"
                );
            }
        }
    }

    /// The range an integer kind's description states is the one its parser checks.
    #[test]
    fn integer_descriptions_state_the_parsed_range() {
        for kind in ALL.into_iter().filter(|k| k.integer().is_some()) {
            let words: std::vec::Vec<&str> = kind.describe().split(' ').collect();
            // "an integer from LO to HI": the test fails if the text stops saying so.
            let bound = |w: &str| w.parse::<i128>().expect("a number in the description");
            let (lo, hi) = (bound(words[3]), bound(words[5]));
            let ok = |n: i128| kind.parse_value(&std::format!("{n}")).is_some();
            assert!(ok(lo) && ok(hi) && !ok(lo - 1) && !ok(hi + 1), "{kind:?}");
        }
    }

    /// Every kind's name, description and example are the three fields of its `info`.
    #[test]
    fn info_has_three_fields() {
        for kind in ALL {
            assert_eq!(kind.info().split('|').count(), 3, "{kind:?}");
            assert_eq!(Kind::parse_name(kind.name()), Some(kind));
            assert!(kind.parse_value(kind.example()).is_some(), "{kind:?}");
        }
    }
}
