//! The address parsers: IPv4, IPv6 (with an embedded IPv4), their prefixes, and MAC
//! addresses. The IP parsers accept exactly what `core::net`'s accept (the fuzz target, a
//! property test and the tests below compare them) in less code: `core::net`'s costs 2.4 KiB
//! in an image. They read the bytes once (an embedded IPv4 address its first octet twice).

use crate::kind::{MacAddr, number};

/// The value of a hex digit.
fn hex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// Four decimal octets separated by `.`, up to the end of `s`. An octet is at most 255 with
/// no leading zero, which also bounds it to 3 digits as `core::net` does.
#[inline(never)]
fn ipv4(s: &[u8]) -> Option<u32> {
    let mut a = 0u32;
    let mut octet = 0u32;
    let mut digits = 0;
    let mut dots = 0;
    for i in 0..=s.len() {
        // The end closes the last octet as a `.` does.
        let b = s.get(i).copied().unwrap_or(b'.');
        if b == b'.' {
            if digits == 0 {
                return None;
            }
            a = a << 8 | octet;
            (octet, digits) = (0, 0);
            dots += 1;
        } else {
            // `char::to_digit` rather than `b - b'0'`: no subtraction to check.
            let d = char::from(b).to_digit(10)?;
            if digits > 0 && octet == 0 {
                return None;
            }
            octet = octet * 10 + d;
            digits += 1;
            if octet > 255 {
                return None;
            }
        }
    }
    (dots == 4).then_some(a)
}

/// Groups of 1 to 4 hex digits separated by `:`, one `::` standing for one or more zero groups,
/// the last 32 bits possibly an IPv4 address. Inlined in its one caller: no call, no copy of
/// the result (34 bytes less).
#[inline(always)]
fn ipv6(s: &[u8]) -> Option<u128> {
    // The groups read since the `::` (or from the start), and those before it.
    let mut a = 0u128;
    let mut head = 0u128;
    // Groups read (an IPv4 counts two), and 1 + those before the `::` (0 without one).
    let mut n = 0usize;
    let mut gap = 0;
    let mut i = 0;
    loop {
        // Before a group: `::` anywhere (once), else `:` unless at the start.
        if s.get(i..i + 2) == Some(b"::") {
            if gap > 0 {
                return None;
            }
            gap = n + 1;
            head = a;
            a = 0;
            i += 2;
            if i == s.len() {
                break;
            }
        } else if i > 0 {
            if s.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut g = 0u32;
        while let Some(d) = s.get(i).copied().and_then(hex) {
            // A shift: too many digits are refused below, and must not overflow first.
            g = g << 4 | d;
            i += 1;
        }
        if s.get(i) == Some(&b'.') {
            // Decimal digits then `.`: an IPv4 address, which must end the text.
            a = a << 32 | u128::from(ipv4(s.get(start..)?)?);
            n += 2;
            break;
        }
        if !(1..=4).contains(&(i - start)) {
            return None;
        }
        a = a << 16 | u128::from(g);
        n += 1;
        if i == s.len() {
            break;
        }
    }
    // The zero groups go between the head and the tail. `wrapping_shl`, as the head may be
    // shifted by 128 (no group before the `::`) or 144 (no `::`), of a head of 0.
    (if gap > 0 { n < 8 } else { n == 8 }).then(|| head.wrapping_shl((16 * (9 - gap)) as u32) | a)
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
    let s = s.get(..end)?;
    let a = if v6 { ipv6(s)? } else { u128::from(ipv4(s)?) };
    Some((a, len))
}

/// Six hex pairs separated by all `:` or all `-`.
#[inline(never)]
pub(crate) fn parse_mac(b: &[u8]) -> Option<MacAddr> {
    let b: &[u8; 17] = b.try_into().ok()?;
    let sep = b[2];
    if sep != b':' && sep != b'-' {
        return None;
    }
    let mut v = 0u64;
    // Every third byte is the separator.
    let mut k = 0;
    for &c in b {
        k += 1;
        if k == 3 {
            k = 0;
            if c != sep {
                return None;
            }
        } else {
            v = v << 4 | u64::from(hex(c)?);
        }
    }
    let [_, _, mac @ ..] = v.to_be_bytes();
    Some(MacAddr(mac))
}

#[cfg(test)]
mod tests {
    use super::{parse_addr, parse_mac};
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::string::String;

    /// Addresses where a parser might go wrong, compared with `std::net`.
    const ADDRS: &[&str] = &[
        "",
        ".",
        ":",
        "::",
        ":::",
        "::::",
        "1::",
        "::1",
        ":1",
        "1:",
        ":1::",
        "::1:",
        "1:::2",
        "1::2::3",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1:2:3::4:5:6:7:8",
        "1:2:3:4::5:6:7",
        "ffff:FFFF:0:00:000:0000:aBcD:1",
        "12345::",
        "::12345",
        "00000::",
        "g::",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "1.2.3.4::",
        "1.2.3.4:1::",
        "::1.2.3.4:1",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5::1.2.3.4",
        "1:2:3:4:5:6::1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5:1.2.3.4",
        "::01.2.3.4",
        "::a.2.3.4",
        "::1a.2.3.4",
        "::1.2.3.4a",
        "::1.2.3.4.",
        "::1.2.3",
        "::.1.2.3",
        "::1234.1.1.1",
        "1.2.3.4",
        "0.0.0.0",
        "255.255.255.255",
        "01.2.3.4",
        "1.02.3.4",
        "1.2.3.00",
        "1.2.3.256",
        "1.2.3.1000",
        "1.2.3.0255",
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.4.",
        ".1.2.3.4",
        "1..2.3",
        "1.2.3.-4",
        "1.2.3.+4",
        " 1.2.3.4",
        "1.2.3.4 ",
        "1.2.3.4\0",
        "1.2.3.\u{663}",
        "99999999999999999999.1.1.1",
        "::99999999999999999999",
    ];

    fn v4(a: (u128, u8)) -> Ipv4Addr {
        Ipv4Addr::from(a.0 as u32)
    }

    #[test]
    fn addresses_match_std() {
        for s in ADDRS {
            let b = s.as_bytes();
            assert_eq!(
                parse_addr(b, false, false).map(v4),
                s.parse::<Ipv4Addr>().ok(),
                "{s:?}"
            );
            assert_eq!(
                parse_addr(b, true, false).map(|a| Ipv6Addr::from(a.0)),
                s.parse::<Ipv6Addr>().ok(),
                "{s:?}"
            );
            for len in ["0", "32", "33", "128", "129", "032", "0128", ""] {
                let p = [s, "/", len].concat();
                let want4 = s.parse::<Ipv4Addr>().ok().zip(len.parse::<u8>().ok());
                let want4 = want4.filter(|&(_, l)| l <= 32 && len.len() <= 3);
                assert_eq!(
                    parse_addr(p.as_bytes(), false, true).map(|a| (v4(a), a.1)),
                    want4,
                    "{p:?}"
                );
                let want6 = s.parse::<Ipv6Addr>().ok().zip(len.parse::<u8>().ok());
                let want6 = want6.filter(|&(_, l)| l <= 128 && len.len() <= 3);
                assert_eq!(
                    parse_addr(p.as_bytes(), true, true).map(|a| (Ipv6Addr::from(a.0), a.1)),
                    want6,
                    "{p:?}"
                );
            }
        }
    }

    #[test]
    fn prefixes() {
        let p4 = |s: &str| parse_addr(s.as_bytes(), false, true);
        let p6 = |s: &str| parse_addr(s.as_bytes(), true, true);
        assert_eq!(p4("10.0.0.1/032"), Some((0x0a00_0001, 32)));
        assert_eq!(p4("10.0.0.1/0"), Some((0x0a00_0001, 0)));
        assert_eq!(p4("10.0.0.1/33"), None);
        assert_eq!(p4("10.0.0.1/0032"), None);
        assert_eq!(p4("10.0.0.1"), None);
        assert_eq!(p4("1.2.3.4/"), None);
        assert_eq!(p4("1.2.3.4/+1"), None);
        assert_eq!(p4("1.2.3.4/2/4"), None);
        assert_eq!(p4("/24"), None);
        assert_eq!(p6("/24"), None);
        assert_eq!(p6("fd00::/128"), Some((0xfd00 << 112, 128)));
        assert_eq!(p6("fd00::/129"), None);
        assert_eq!(p6("::/0"), Some((0, 0)));
        assert_eq!(p6("::1.2.3.4/96"), Some((0x0102_0304, 96)));
        // Without `prefix`, a `/` is just a wrong byte.
        assert_eq!(parse_addr(b"1.2.3.4/8", false, false), None);
        assert_eq!(parse_addr(b"::/8", true, false), None);
    }

    #[test]
    fn macs() {
        let ok = [0x02, 0xab, 0xCD, 0, 0x10, 0xff];
        for s in ["02:ab:CD:00:10:ff", "02-AB-cd-00-10-FF"] {
            assert_eq!(parse_mac(s.as_bytes()).map(|m| m.0), Some(ok), "{s:?}");
        }
        for s in [
            "",
            "02:ab:cd:00:10",
            "02:ab:cd:00:10:ff:",
            "02:ab:cd:00:10:f",
            "02:ab:cd:00:10:fff",
            "02:ab-cd:00:10:ff",
            "02-ab-cd-00-10:ff",
            "02.ab.cd.00.10.ff",
            "02:ab:cd:00:10:fg",
            "0x:ab:cd:00:10:ff",
            "02:ab:cd:00:10::f",
            "02::ab:cd:00:10f",
            "002ab:cd:00:10:ff",
            "02:+b:cd:00:10:ff",
        ] {
            assert_eq!(parse_mac(s.as_bytes()), None, "{s:?}");
        }
        let all: String = (0..6).map(|i| std::format!("{:02x}:", i * 51)).collect();
        let m = parse_mac(all.trim_end_matches(':').as_bytes()).map(|m| m.0);
        assert_eq!(m, Some([0, 51, 102, 153, 204, 255]));
    }
}
