//! Small text helpers that avoid `core::fmt` (it costs several KiB in a unikernel image).

use alloc::string::String;

/// Appends ASCII bytes (without the UTF-8 encoding `String::push` inlines at each call).
#[inline(never)]
pub(crate) fn push_ascii(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        let b = if b.is_ascii() { b } else { b'?' };
        // SAFETY: `b` is ASCII, so the string stays valid UTF-8.
        unsafe { out.as_mut_vec().push(b) };
    }
}

/// Appends the decimal form of `n`.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    push_ascii(out, buf.get(i..).unwrap_or(&[]));
}

/// Appends the decimal form of `n`.
pub(crate) fn push_usize(out: &mut String, n: usize) {
    push_u64(out, n as u64);
}

/// Appends the decimal form of `n`.
pub(crate) fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push_str("-");
    }
    push_u64(out, n.unsigned_abs());
}

/// Longest user text echoed in an error message, in characters.
const SHOWN_MAX: usize = 64;

/// Appends user-supplied text so that the message stays one readable line: control
/// characters are escaped and long text is cut.
pub(crate) fn push_shown(out: &mut String, s: &str) {
    for (i, c) in s.chars().enumerate() {
        if i == SHOWN_MAX {
            out.push_str("...");
            return;
        }
        if c == '\n' {
            out.push_str("\\n");
        } else if c.is_control() {
            out.push_str("?");
        } else {
            out.push(c);
        }
    }
}

/// Levenshtein distance between two strings, on characters, capped at `cap + 1`.
pub(crate) fn distance(a: &str, b: &str, cap: usize) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > 64 || b.len() > 64 {
        // Names are short; a long token is never close to one.
        return cap + 1;
    }
    let mut prev = [0usize; 65];
    let mut cur = [0usize; 65];
    for (j, p) in prev.iter_mut().enumerate() {
        *p = j;
    }
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()].min(cap + 1)
}
