//! Small text helpers that avoid `core::fmt` (it costs several KiB in a unikernel image).

use alloc::string::String;
use alloc::vec::Vec;

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
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

/// Appends the decimal form of `n`.
pub(crate) fn push_usize(out: &mut String, n: usize) {
    push_u64(out, n as u64);
}

/// Appends the decimal form of `n`.
pub(crate) fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
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
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                out.push_str("\\u{");
                let v = c as u32;
                let mut started = false;
                for shift in (0..8).rev() {
                    let d = (v >> (shift * 4)) & 0xf;
                    if d != 0 || started || shift == 0 {
                        started = true;
                        out.push(char::from(b"0123456789abcdef"[d as usize]));
                    }
                }
                out.push('}');
            }
            c => out.push(c),
        }
    }
}

/// Levenshtein distance between two strings, on characters, capped at `cap + 1`.
pub(crate) fn distance(a: &str, b: &str, cap: usize) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = alloc::vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if i > 64 {
            // Names are short; a long token is never close to one.
            return cap + 1;
        }
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()].min(cap + 1)
}

/// Appends `text` wrapped at `width` columns, each line indented by `indent` spaces.
pub(crate) fn push_wrapped(out: &mut String, text: &str, indent: usize, width: usize) {
    for para in text.split('\n') {
        let mut col = 0usize;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let len = word.chars().count();
            if col > 0 && col + 1 + len > width {
                out.push('\n');
                col = 0;
            }
            if col == 0 {
                for _ in 0..indent {
                    out.push(' ');
                }
                col = indent;
            } else {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += len;
        }
        if col > 0 {
            out.push('\n');
        }
    }
}
