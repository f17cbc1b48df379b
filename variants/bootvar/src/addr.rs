//! The address parsers: IPv4, IPv6 (with an embedded IPv4), their prefixes, and MAC
//! addresses. The IP parsers accept exactly what `core::net`'s accept (the fuzz target and a
//! property test compare them) in less code: `core::net`'s costs 2.4 KiB in an image.

use crate::kind::{MacAddr, number};

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
pub(crate) fn parse_addr(s: &[u8], v6: bool, prefix: bool) -> Option<(u128, u8)> {
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

#[inline(never)]
pub(crate) fn parse_mac(b: &[u8]) -> Option<MacAddr> {
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
