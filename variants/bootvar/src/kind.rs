//! Argument types, typed values and their parsers.

use alloc::string::String;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;
use core::time::Duration;

use crate::text::{field, find_field, push_u64, put, word};

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

/// [`Kind::NAMES`] as one string (no table of pointers in the image).
const NAMES: &str = "string bool i8 i16 i32 i64 int u8 u16 u32 u64 uint duration ipv4 ipv6 ipv4-prefix ipv6-prefix mac";

/// Description and example of each kind but the integers, by [`Kind::index`], `|`-separated.
const TEXTS: &str = "any text|text|true or false|true|||||\
    a number and a unit among ns, us, ms, s, m, h, d, such as 5s or 1m30s|250ms|\
    an IPv4 address|10.0.0.1|an IPv6 address|fd00::1|\
    an IPv4 address and a prefix length from 0 to 32|10.0.0.2/24|\
    an IPv6 address and a prefix length from 0 to 128|fd00::2/64|\
    six hexadecimal bytes separated by ':'|02:00:00:00:00:01";

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
        let n = match *self {
            Kind::Int { min, max } => {
                // i8 i16 i32 i64, else int.
                let mut i = 0;
                while i < 4
                    && !(min == i64::MIN >> (64 - (8 << i)) && max == i64::MAX >> (64 - (8 << i)))
                {
                    i += 1;
                }
                2 + i
            }
            Kind::Uint { min, max } => {
                let mut i = 0;
                while i < 4 && !(min == 0 && max == u64::MAX >> (64 - (8 << i))) {
                    i += 1;
                }
                7 + i
            }
            _ => {
                let i = self.index();
                if i < 2 { i } else { i + 8 }
            }
        };
        field(NAMES, b' ', n)
    }

    /// The variant's index, in declaration order (`String` 0 ... `Mac` 9).
    pub(crate) const fn index(&self) -> usize {
        match self {
            Kind::String => 0,
            Kind::Bool => 1,
            Kind::Int { .. } => 2,
            Kind::Uint { .. } => 3,
            Kind::Duration => 4,
            Kind::Ipv4 => 5,
            Kind::Ipv6 => 6,
            Kind::Ipv4Prefix => 7,
            Kind::Ipv6Prefix => 8,
            Kind::Mac => 9,
        }
    }

    /// The integer range, with both bounds as `i128`.
    pub(crate) fn range(&self) -> Option<(i128, i128)> {
        match *self {
            Kind::Int { min, max } => Some((min as i128, max as i128)),
            Kind::Uint { min, max } => Some((min as i128, max as i128)),
            _ => None,
        }
    }

    /// Appends [`Kind::example`].
    #[inline(never)]
    pub(crate) fn example_into(&self, out: &mut String) {
        match self.range() {
            Some((min, max)) => push_i128(out, 42.clamp(min, max.max(min))),
            None => put(out, field(TEXTS, b'|', 2 * self.index() + 1)),
        }
    }

    /// Appends [`Kind::describe`].
    #[inline(never)]
    pub(crate) fn describe_into(&self, out: &mut String) {
        match self.range() {
            Some((min, max)) => {
                put(out, "an integer ");
                push_range(out, min, max);
            }
            None => put(out, field(TEXTS, b'|', 2 * self.index())),
        }
    }

    /// A valid value of this kind, for error messages (`42`, `250ms`, `10.0.0.2/24`...).
    pub fn example(&self) -> String {
        let mut out = String::new();
        self.example_into(&mut out);
        out
    }

    /// What a value of this kind looks like, in words (`an integer from 0 to 65535`).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        self.describe_into(&mut out);
        out
    }

    /// Parses one value of this kind; `None` if `s` is not one.
    #[inline(never)]
    pub fn parse_value(&self, s: &str) -> Option<Value> {
        let b = s.as_bytes();
        if let Some((min, max)) = self.range() {
            let (neg, digits) = match b.split_first() {
                Some((b'-', rest)) if matches!(self, Kind::Int { .. }) => (true, rest),
                _ => (false, b),
            };
            let v = number(digits)? as i128;
            let v = if neg { -v } else { v };
            if v < min || v > max {
                return None;
            }
            return Some(match self {
                Kind::Int { .. } => Value::Int(v as i64),
                _ => Value::Uint(v as u64),
            });
        }
        Some(match *self {
            Kind::String => Value::String(String::from(s)),
            Kind::Bool => Value::Bool(match s {
                "true" => true,
                "false" => false,
                _ => return None,
            }),
            Kind::Duration => Value::Duration(parse_duration(b)?),
            Kind::Mac => Value::Mac(parse_mac(b)?),
            _ => {
                // Addresses and prefixes: Ipv4 5, Ipv6 6, Ipv4Prefix 7, Ipv6Prefix 8.
                let i = self.index();
                let v6 = i & 1 == 0;
                let (a, len) = parse_addr(b, v6, i > 6)?;
                let v4 = Ipv4Addr::from(a as u32);
                let v6 = Ipv6Addr::from(a);
                match i {
                    5 => Value::Ipv4(v4),
                    6 => Value::Ipv6(v6),
                    7 => Value::Ipv4Prefix(Ipv4Prefix { addr: v4, len }),
                    _ => Value::Ipv6Prefix(Ipv6Prefix { addr: v6, len }),
                }
            }
        })
    }
}

/// Appends `from MIN to MAX`.
#[inline(never)]
pub(crate) fn push_range(out: &mut String, min: i128, max: i128) {
    put(out, "from ");
    push_i128(out, min);
    put(out, " to ");
    push_i128(out, max);
}

fn push_i128(out: &mut String, n: i128) {
    // Kind ranges are within i64::MIN..=u64::MAX.
    if n < 0 {
        put(out, "-");
    }
    push_u64(out, n.unsigned_abs() as u64);
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

/// A decimal number of one or more digits, without sign.
#[inline(never)]
fn number(s: &[u8]) -> Option<u64> {
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
fn parse_duration(s: &[u8]) -> Option<Duration> {
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

/// A cursor over the bytes of an address, with the rules of `core::net`'s parser (which it
/// replaces: that one costs 2.4 KiB in a unikernel image). Every reader leaves the position
/// unchanged when it fails.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn eat(&mut self, c: u8) -> bool {
        let ok = self.s.get(self.at) == Some(&c);
        self.at += usize::from(ok);
        ok
    }

    /// A number in `radix` of 1 to `max_digits` digits, at most `max`; without a leading zero
    /// unless `zero_ok`.
    #[inline(never)]
    fn number(&mut self, radix: u32, max_digits: usize, max: u32, zero_ok: bool) -> Option<u32> {
        let start = self.at;
        let mut v = 0u32;
        let mut n = 0;
        while let Some(d) = self
            .s
            .get(self.at)
            .and_then(|&b| char::from(b).to_digit(radix))
        {
            v = v * radix + d;
            n += 1;
            self.at += 1;
            if n > max_digits || v > max {
                break;
            }
        }
        if n == 0 || n > max_digits || v > max || (!zero_ok && n > 1 && self.s[start] == b'0') {
            self.at = start;
            return None;
        }
        Some(v)
    }

    /// Four decimal numbers separated by `.`.
    #[inline(never)]
    fn ipv4(&mut self) -> Option<u32> {
        let start = self.at;
        let mut v = 0u32;
        for i in 0..4 {
            match (i == 0 || self.eat(b'.'))
                .then(|| self.number(10, 3, 255, false))
                .flatten()
            {
                Some(o) => v = v << 8 | o,
                None => {
                    self.at = start;
                    return None;
                }
            }
        }
        Some(v)
    }

    /// Groups separated by `:`, the last two possibly an IPv4 address: (count, ended with
    /// IPv4).
    #[inline(never)]
    fn groups(&mut self, groups: &mut [u16]) -> (usize, bool) {
        let limit = groups.len();
        for i in 0..limit {
            let start = self.at;
            if i > 0 && !self.eat(b':') {
                return (i, false);
            }
            if i + 1 < limit
                && let Some(v4) = self.ipv4()
            {
                groups[i] = (v4 >> 16) as u16;
                groups[i + 1] = v4 as u16;
                return (i + 2, true);
            }
            match self.number(16, 4, 0xffff, true) {
                Some(g) => groups[i] = g as u16,
                None => {
                    self.at = start;
                    return (i, false);
                }
            }
        }
        (limit, false)
    }

    fn ipv6(&mut self) -> Option<u128> {
        let mut head = [0u16; 8];
        let (n, v4) = self.groups(&mut head);
        if n < 8 {
            // `::` stands for one or more zero groups; no IPv4 before it.
            if v4 || !(self.eat(b':') && self.eat(b':')) {
                return None;
            }
            let mut tail = [0u16; 7];
            let (t, _) = self.groups(tail.get_mut(..7 - n).unwrap_or_default());
            // The tail's groups end the address (without slicing: no panic path).
            for (h, &g) in head.iter_mut().rev().zip(tail.iter().take(t).rev()) {
                *h = g;
            }
        }
        Some(head.iter().fold(0, |a, &g| a << 16 | u128::from(g)))
    }
}

/// An IPv4 (or with `v6`, IPv6) address, followed with `prefix` by `/LEN`, LEN from 0 to 32
/// (128) in at most 3 digits: the address (as a `u128`) and LEN.
#[inline(never)]
fn parse_addr(s: &[u8], v6: bool, prefix: bool) -> Option<(u128, u8)> {
    let mut end = s.len();
    let mut len = 0;
    if prefix {
        end = s.iter().position(|&b| b == b'/')?;
        let l = s.get(end + 1..)?;
        len = number(l).filter(|&v| l.len() <= 3 && v <= if v6 { 128 } else { 32 })? as u8;
    }
    let mut c = Cursor {
        s: s.get(..end)?,
        at: 0,
    };
    let a = if v6 { c.ipv6()? } else { u128::from(c.ipv4()?) };
    (c.at == end).then_some((a, len))
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

#[inline(never)]
fn parse_mac(b: &[u8]) -> Option<MacAddr> {
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
        let hex = |b: u8| char::from(b).to_digit(16);
        *o = (hex(b[at])? << 4 | hex(b[at + 1])?) as u8;
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
        ALL.get(find_field(LEVELS, b' ', s.as_bytes())).copied()
    }
    /// The name, as written after `--solo5:`.
    pub fn name(&self) -> &'static str {
        word(LEVELS, *self as usize)
    }
}
