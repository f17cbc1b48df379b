//! Small text helpers that avoid `core::fmt` and inlined `push_str` (both cost several KiB in
//! a unikernel image, see scripts/size.sh), and the one renderer of every message.

use alloc::string::String;
use alloc::vec::Vec;

/// Appends `s`. Out of line: `String::push_str` inlines a reserve and a copy at every call;
/// byte by byte: messages are short, and this shares the one grow path of [`put_byte`].
#[inline(never)]
pub(crate) fn put(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        put_byte(out, b);
    }
}

/// Appends one ASCII byte.
#[inline]
pub(crate) fn put_byte(out: &mut String, b: u8) {
    // SAFETY: callers pass ASCII bytes or whole UTF-8 sequences, byte by byte, in order.
    push_byte(unsafe { out.as_mut_vec() }, b);
}

/// Appends one byte. Out of line: the inlined `Vec::push` grow path is large, and every text
/// and token buffer of the crate grows through here.
#[inline(never)]
pub(crate) fn push_byte(out: &mut Vec<u8>, b: u8) {
    out.push(b);
}

/// Appends the decimal form of `n`.
#[inline(never)]
pub(crate) fn push_u64(out: &mut String, n: u64) {
    // Recursion (at most 20 deep) writes the digits in order without a buffer.
    let q = n / 10;
    if q != 0 {
        push_u64(out, q);
    }
    put_byte(out, b'0' + (n - q * 10) as u8);
}

/// Word `n` (from 0) of `table`, words separated by one space (or by `sep`); empty if
/// there are fewer words.
#[inline]
pub(crate) fn word(table: &'static str, n: usize) -> &'static str {
    field(table, b' ', n)
}

/// Field `n` (from 0) of `table`, fields separated by the ASCII byte `sep`; empty if there
/// are fewer fields.
#[inline(never)]
pub(crate) const fn field(table: &'static str, sep: u8, mut n: usize) -> &'static str {
    let b = table.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        if b[i] == sep {
            if n == 0 {
                break;
            }
            n -= 1;
            start = i + 1;
        }
        i += 1;
    }
    if n > 0 {
        return "";
    }
    // SAFETY: `start..i` lies within `table`, between separators (ASCII) or its ends: it is
    // on char boundaries.
    unsafe {
        core::str::from_utf8_unchecked(core::slice::from_raw_parts(
            b.as_ptr().add(start),
            i - start,
        ))
    }
}

/// The index of the first field of `table` (separated by `sep`) equal to `s`, or the number
/// of fields if none is.
#[inline(never)]
pub(crate) fn find_field(table: &str, sep: u8, s: &[u8]) -> usize {
    let b = table.as_bytes();
    let mut k = 0;
    // How many bytes of the current field match the start of `s`; `usize::MAX` after a
    // mismatch. Compared on the fly: no second loop, no `memcmp`.
    let mut j = 0;
    for i in 0..=b.len() {
        match b.get(i) {
            Some(&c) if c != sep => {
                j = if s.get(j) == Some(&c) {
                    j + 1
                } else {
                    usize::MAX
                };
            }
            _ => {
                if j == s.len() {
                    return k;
                }
                k += 1;
                j = 0;
            }
        }
    }
    k
}

/// Longest user text echoed in an error message, in characters.
const SHOWN_MAX: usize = 64;

/// Appends user-supplied text so that the message stays one readable line: `\n` is shown as
/// `\n`, other control characters as `?`, and text longer than 64 characters is cut.
pub(crate) fn push_shown(out: &mut String, s: &str) {
    let b = s.as_bytes();
    let mut chars = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i += 1;
        if c & 0xc0 != 0x80 {
            // The first byte of a character.
            if chars == SHOWN_MAX {
                put(out, "...");
                return;
            }
            chars += 1;
        }
        // The C1 controls U+0080..U+009F are encoded C2 80..C2 9F: two bytes, one `?`.
        let c1 = c == 0xc2 && b.get(i).is_some_and(|&n| n < 0xa0);
        let mut shown = c;
        if c == b'\n' {
            put_byte(out, b'\\');
            shown = b'n';
        } else if c < 0x20 || c == 0x7f || c1 {
            // C0 controls and DEL are one byte.
            i += usize::from(c1);
            shown = b'?';
        }
        put_byte(out, shown);
    }
}

/// Levenshtein distance between two strings, on bytes; names are ASCII. Long strings (never
/// close to a name) give a large distance.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > 64 || b.len() > 64 {
        return 64;
    }
    let mut row: [usize; 65] = core::array::from_fn(|j| j);
    for (i, &ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// What a message template refers to.
pub(crate) struct Ctx<'a> {
    /// `\x01`: user text, shown with [`push_shown`].
    pub user: &'a str,
    /// `\x02`: a name, as is.
    pub name: &'a str,
    /// `\x03` a type name, `\x04` its description, `\x05` an example: the fields of a
    /// [`Kind::info`](crate::Kind) text.
    pub hint: &'static str,
}

/// Appends `t`, with its placeholders replaced: `\x01` to `\x05` (see [`Ctx`]), `\x06`
/// ` (see --help)`, `\x07` `expected TYPE (DESCRIPTION), e.g. --NAME=EXAMPLE`, `\x08` `; did
/// you mean '--NAME'?` if there is a name (else nothing). Every message goes through here,
/// so each call site is a template.
#[inline(never)]
pub(crate) fn render(out: &mut String, t: &str, c: &Ctx) {
    for &b in t.as_bytes() {
        match b {
            1 => push_shown(out, c.user),
            7 => render(out, "expected \x03 (\x04), e.g. --\x02=\x05", c),
            8 if !c.name.is_empty() => render(out, "; did you mean '--\x02'?", c),
            8 => {}
            // One `put` call for every text placeholder.
            2..=6 => put(
                out,
                match b {
                    2 => c.name,
                    3..=5 => field(c.hint, b'|', usize::from(b - 3)),
                    _ => " (see --help)",
                },
            ),
            _ => put_byte(out, b),
        }
    }
}
