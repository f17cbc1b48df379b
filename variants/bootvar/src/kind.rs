//! Argument types, typed values and their parsers.

use alloc::string::String;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;
use core::time::Duration;

use crate::text::{push_i64, push_u64};

/// The type of a boot argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Any text (`string`).
    String,
    /// `true` or `false` (`bool`); `--flag` alone means `true`.
    Bool,
    /// A signed integer within `min..=max` (`i8`, `i16`, `i32`, `i64`, `int`).
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// An unsigned integer within `min..=max` (`u8`, `u16`, `u32`, `u64`, `uint`).
    Uint {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
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

const I8: Kind = Kind::Int {
    min: i8::MIN as i64,
    max: i8::MAX as i64,
};
const I16: Kind = Kind::Int {
    min: i16::MIN as i64,
    max: i16::MAX as i64,
};
const I32: Kind = Kind::Int {
    min: i32::MIN as i64,
    max: i32::MAX as i64,
};
const I64: Kind = Kind::Int {
    min: i64::MIN,
    max: i64::MAX,
};
const U8: Kind = Kind::Uint {
    min: 0,
    max: u8::MAX as u64,
};
const U16: Kind = Kind::Uint {
    min: 0,
    max: u16::MAX as u64,
};
const U32: Kind = Kind::Uint {
    min: 0,
    max: u32::MAX as u64,
};
const U64: Kind = Kind::Uint {
    min: 0,
    max: u64::MAX,
};

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

    /// The kind named `name` in `unikernel.toml` or crate metadata. Integer names imply their
    /// range; `int` is `i64` and `uint` is `u64`.
    pub const fn parse_name(name: &str) -> Option<Kind> {
        Some(match name.as_bytes() {
            b"string" => Kind::String,
            b"bool" => Kind::Bool,
            b"i8" => I8,
            b"i16" => I16,
            b"i32" => I32,
            b"i64" | b"int" => I64,
            b"u8" => U8,
            b"u16" => U16,
            b"u32" => U32,
            b"u64" | b"uint" => U64,
            b"duration" => Kind::Duration,
            b"ipv4" => Kind::Ipv4,
            b"ipv6" => Kind::Ipv6,
            b"ipv4-prefix" => Kind::Ipv4Prefix,
            b"ipv6-prefix" => Kind::Ipv6Prefix,
            b"mac" => Kind::Mac,
            _ => return None,
        })
    }

    /// The type name, as accepted by [`Kind::parse_name`]. An integer whose range is not the
    /// one of a Rust integer type is named `int` or `uint` (its range is not in the name).
    pub const fn name(&self) -> &'static str {
        match *self {
            Kind::String => "string",
            Kind::Bool => "bool",
            Kind::Int { min, max } => {
                if min == i8::MIN as i64 && max == i8::MAX as i64 {
                    "i8"
                } else if min == i16::MIN as i64 && max == i16::MAX as i64 {
                    "i16"
                } else if min == i32::MIN as i64 && max == i32::MAX as i64 {
                    "i32"
                } else if min == i64::MIN && max == i64::MAX {
                    "i64"
                } else {
                    "int"
                }
            }
            Kind::Uint { min, max } => {
                if min == 0 && max == u8::MAX as u64 {
                    "u8"
                } else if min == 0 && max == u16::MAX as u64 {
                    "u16"
                } else if min == 0 && max == u32::MAX as u64 {
                    "u32"
                } else if min == 0 && max == u64::MAX {
                    "u64"
                } else {
                    "uint"
                }
            }
            Kind::Duration => "duration",
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Ipv4Prefix => "ipv4-prefix",
            Kind::Ipv6Prefix => "ipv6-prefix",
            Kind::Mac => "mac",
        }
    }

    /// A valid value of this kind, for error messages (`42`, `250ms`, `10.0.0.2/24`...).
    pub fn example(&self) -> String {
        let mut out = String::new();
        match *self {
            Kind::Int { min, max } => push_i64(&mut out, 42.clamp(min, max.max(min))),
            Kind::Uint { min, max } => push_u64(&mut out, 42.clamp(min, max.max(min))),
            _ => out.push_str(match self {
                Kind::String => "text",
                Kind::Bool => "true",
                Kind::Duration => "250ms",
                Kind::Ipv4 => "10.0.0.1",
                Kind::Ipv6 => "fd00::1",
                Kind::Ipv4Prefix => "10.0.0.2/24",
                Kind::Ipv6Prefix => "fd00::2/64",
                _ => "02:00:00:00:00:01",
            }),
        }
        out
    }

    /// What a value of this kind looks like, in words (`an integer from 0 to 65535`).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        match *self {
            Kind::Int { min, max } => {
                out.push_str("an integer from ");
                push_i64(&mut out, min);
                out.push_str(" to ");
                push_i64(&mut out, max);
            }
            Kind::Uint { min, max } => {
                out.push_str("an integer from ");
                push_u64(&mut out, min);
                out.push_str(" to ");
                push_u64(&mut out, max);
            }
            _ => out.push_str(match self {
                Kind::String => "any text",
                Kind::Bool => "true or false",
                Kind::Duration => {
                    "a number and a unit among ns, us, ms, s, m, h, d, such as 5s or 1m30s"
                }
                Kind::Ipv4 => "an IPv4 address",
                Kind::Ipv6 => "an IPv6 address",
                Kind::Ipv4Prefix => "an IPv4 address and a prefix length from 0 to 32",
                Kind::Ipv6Prefix => "an IPv6 address and a prefix length from 0 to 128",
                _ => "six hexadecimal bytes separated by ':'",
            }),
        }
        out
    }

    /// Parses one value of this kind; `None` if `s` is not one.
    pub fn parse_value(&self, s: &str) -> Option<Value> {
        Some(match *self {
            Kind::String => Value::String(String::from(s)),
            Kind::Bool => Value::Bool(match s {
                "true" => true,
                "false" => false,
                _ => return None,
            }),
            Kind::Int { min, max } => {
                let v = parse_i64(s)?;
                if v < min || v > max {
                    return None;
                }
                Value::Int(v)
            }
            Kind::Uint { min, max } => {
                let v = parse_u64(s)?;
                if v < min || v > max {
                    return None;
                }
                Value::Uint(v)
            }
            Kind::Duration => Value::Duration(parse_duration(s)?),
            Kind::Ipv4 => Value::Ipv4(Ipv4Addr::from_str(s).ok()?),
            Kind::Ipv6 => Value::Ipv6(Ipv6Addr::from_str(s).ok()?),
            Kind::Ipv4Prefix => Value::Ipv4Prefix(parse_ipv4_prefix(s)?),
            Kind::Ipv6Prefix => Value::Ipv6Prefix(parse_ipv6_prefix(s)?),
            Kind::Mac => Value::Mac(parse_mac(s)?),
        })
    }
}

/// A parsed, typed boot-argument value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// [`Kind::String`].
    String(String),
    /// [`Kind::Bool`].
    Bool(bool),
    /// [`Kind::Int`].
    Int(i64),
    /// [`Kind::Uint`].
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

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

fn parse_u64(s: &str) -> Option<u64> {
    digits(s)
}

fn parse_i64(s: &str) -> Option<i64> {
    match s.strip_prefix('-') {
        Some(rest) => {
            let v = digits(rest)?;
            if v == 1u64 << 63 {
                Some(i64::MIN)
            } else {
                i64::try_from(v).ok().map(|v| -v)
            }
        }
        None => i64::try_from(digits(s)?).ok(),
    }
}

fn parse_duration(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = s.as_bytes();
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let d = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (num, after) = rest.split_at_checked(d)?;
        let u = after.iter().take_while(|b| !b.is_ascii_digit()).count();
        let (unit, after) = after.split_at_checked(u)?;
        rest = after;
        let mut n: u64 = 0;
        if num.is_empty() {
            return None;
        }
        for &b in num {
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        let nanos: u64 = match unit {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            b"d" => 86_400_000_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(nanos)?)?;
    }
    Some(Duration::from_nanos(total))
}

fn parse_len(s: &str, max: u8) -> Option<u8> {
    if s.len() > 3 {
        return None;
    }
    let v = digits(s)?;
    if v > u64::from(max) {
        return None;
    }
    Some(v as u8)
}

fn parse_ipv4_prefix(s: &str) -> Option<Ipv4Prefix> {
    let (a, l) = s.split_once('/')?;
    Some(Ipv4Prefix {
        addr: Ipv4Addr::from_str(a).ok()?,
        len: parse_len(l, 32)?,
    })
}

fn parse_ipv6_prefix(s: &str) -> Option<Ipv6Prefix> {
    let (a, l) = s.split_once('/')?;
    Some(Ipv6Prefix {
        addr: Ipv6Addr::from_str(a).ok()?,
        len: parse_len(l, 128)?,
    })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn parse_mac(s: &str) -> Option<MacAddr> {
    let b = s.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let sep = b[2];
    if sep != b':' && sep != b'-' {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, o) in out.iter_mut().enumerate() {
        let at = i * 3;
        if i > 0 && b[at - 1] != sep {
            return None;
        }
        *o = hex(b[at])? << 4 | hex(b[at + 1])?;
    }
    Some(MacAddr(out))
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
        parse_ipv4_prefix(s).ok_or(ParseValueError {
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
        parse_ipv6_prefix(s).ok_or(ParseValueError {
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
        parse_mac(s).ok_or(ParseValueError { kind: Kind::Mac })
    }
}

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
        Some(match s {
            "quiet" => LogLevel::Quiet,
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            _ => return None,
        })
    }
    /// The name, as written after `--solo5:`.
    pub fn name(&self) -> &'static str {
        match self {
            LogLevel::Quiet => "quiet",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}
