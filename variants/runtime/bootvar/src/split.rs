//! The mirage-bootvar command-line splitter and its inverse.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::text::{push_byte, push_u64};

/// Why a command line could not be split ([`split`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// A `"` opened a quoted part that never ends.
    UnclosedQuote {
        /// Position of the opening `"`, in characters, counting from 1.
        position: usize,
    },
    /// The command line ends with a `\` that escapes nothing.
    TrailingEscape,
}

impl SplitError {
    /// The message, one line, without the `error: ` prefix.
    pub fn message(&self) -> String {
        let mut out = String::new();
        match *self {
            SplitError::UnclosedQuote { position } => {
                out.push_str("unclosed '\"' at character ");
                push_u64(&mut out, position as u64);
                out.push_str(" of the boot command line");
            }
            SplitError::TrailingEscape => out.push_str(crate::parse::TRAILING_ESCAPE),
        }
        out
    }
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SplitError {}

/// Splits one command-line string into arguments with the mirage-bootvar rules.
///
/// - only the ASCII space separates arguments; tabs and newlines are ordinary characters;
/// - `\` escapes the next character, inside and outside quotes;
/// - `"` starts and ends a quoted part, which may sit in the middle of an argument
///   (`bar"bie"boo` is `barbieboo`); single quotes are ordinary characters;
/// - empty arguments are dropped (runs of spaces, and `""` alone);
/// - an unclosed quote or a trailing `\` is an error.
///
/// ```
/// # use petrel_bootvar::split;
/// assert_eq!(split(r#"--hello="Hello, world!" --n=1"#).unwrap(), ["--hello=Hello, world!", "--n=1"]);
/// assert_eq!(split(r"f\ oo b\\r").unwrap(), ["f oo", r"b\r"]);
/// assert!(split(r#"--hello="oops"#).is_err());
/// ```
pub fn split(cmdline: &str) -> Result<Vec<String>, SplitError> {
    let tokens = Tokens::split(cmdline).map_err(|e| match e {
        Unsplit::Quote { at } => SplitError::UnclosedQuote {
            position: cmdline.get(..at).unwrap_or_default().chars().count() + 1,
        },
        Unsplit::Escape => SplitError::TrailingEscape,
    })?;
    let mut out = Vec::new();
    let mut at = 0;
    while let Some((token, next)) = tokens.get(at) {
        out.push(String::from(token));
        at = next;
    }
    Ok(out)
}

/// Why [`Tokens::split`] failed: [`SplitError`] as the boot path needs it (the byte offset of
/// an unclosed quote, which its message shows the text from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsplit {
    /// The `"` at byte `at` is never closed.
    Quote { at: usize },
    /// The line ends with a lone `\`.
    Escape,
}

/// The arguments of a command line in one buffer, each followed by [`Tokens::END`]: what
/// [`split`] gives without one allocation per argument (each costs code in an image, and
/// [`Values`](crate::Values) keeps the buffer and points into it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tokens(Vec<u8>);

impl Tokens {
    /// Ends every argument: a byte that UTF-8 text never contains, so that an argument may
    /// hold any character, NUL included.
    const END: u8 = 0xff;

    /// No arguments.
    pub(crate) fn empty() -> Tokens {
        Tokens(Vec::new())
    }

    /// `argv`'s arguments, as they are (the empty ones too).
    pub(crate) fn of(argv: &[String]) -> Tokens {
        let mut buf = Vec::new();
        for arg in argv {
            for &b in arg.as_bytes() {
                push_byte(&mut buf, b);
            }
            push_byte(&mut buf, Tokens::END);
        }
        Tokens(buf)
    }

    /// [`split`] into a buffer.
    pub(crate) fn split(cmdline: &str) -> Result<Tokens, Unsplit> {
        let line = cmdline.as_bytes();
        // First pass: the errors, before anything is allocated.
        let mut quoted = false;
        let mut quote_at = 0;
        let mut escaped = false;
        for (at, &b) in line.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = !quoted;
                quote_at = at;
            }
        }
        if quoted {
            return Err(Unsplit::Quote { at: quote_at });
        }
        if escaped {
            return Err(Unsplit::Escape);
        }
        // Second pass (`quoted` and `escaped` are false again): the arguments. They get the
        // input, valid UTF-8, with only ASCII bytes (`\\`, `"`, ` `) removed, and an ASCII
        // byte is never part of a multi-byte sequence: each stays valid UTF-8.
        let mut buf = Vec::new();
        // Where the current argument starts in `buf`.
        let mut start = 0;
        // A space after the line ends the last argument.
        for &b in line.iter().chain([&b' ']) {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
                continue;
            } else if b == b'"' {
                quoted = !quoted;
                continue;
            } else if b == b' ' && !quoted {
                // Empty arguments are dropped.
                if buf.len() > start {
                    push_byte(&mut buf, Tokens::END);
                    start = buf.len();
                }
                continue;
            }
            push_byte(&mut buf, b);
        }
        Ok(Tokens(buf))
    }

    /// The argument that starts at byte `at`, and where the next one starts; `None` at the
    /// end.
    pub(crate) fn get(&self, at: usize) -> Option<(&str, usize)> {
        let rest = self.0.get(at..)?;
        let len = rest.iter().position(|&b| b == Tokens::END)?;
        // SAFETY: the bytes between two ENDs are one argument, valid UTF-8 (see `split` and
        // `of`).
        let token = unsafe { core::str::from_utf8_unchecked(rest.get_unchecked(..len)) };
        Some((token, at + len + 1))
    }

    /// The text at `start..start + len`, a part of one argument that [`Tokens::offset`] gave.
    pub(crate) fn text(&self, start: usize, len: usize) -> &str {
        match self.0.get(start..start + len) {
            // SAFETY: a part of an argument that starts and ends on char boundaries (`offset`
            // of a `str` within it).
            Some(b) => unsafe { core::str::from_utf8_unchecked(b) },
            None => "",
        }
    }

    /// Where `part`, a part of an argument that [`Tokens::get`] returned, starts.
    pub(crate) fn offset(&self, part: &str) -> usize {
        part.as_ptr() as usize - self.0.as_ptr() as usize
    }
}

/// Quotes one argument so that [`split`] gives it back unchanged.
///
/// An argument without space, `\` or `"` is returned as is. One with a space is put in
/// double quotes; `\` and `"` are escaped with `\`.
///
/// The empty argument has no encoding: the mirage-bootvar rules drop every empty token.
/// `quote("")` returns `""`, which [`split`] drops; [`try_join`] rejects it instead.
///
/// `petrel run` hands each quoted argument to the Solo5 tender (or the Xen toolstack) as one
/// argument; the tender joins them with single spaces, which is exactly [`join`].
///
/// ```
/// # use petrel_bootvar::quote;
/// assert_eq!(quote("plain"), "plain");
/// assert_eq!(quote("Hello, world!"), "\"Hello, world!\"");
/// assert_eq!(quote(r#"a"b\c"#), r#"a\"b\\c"#);
/// ```
pub fn quote(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len() + 2);
    let spaced = arg.contains(' ') || arg.is_empty();
    if spaced {
        out.push('"');
    }
    for c in arg.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    if spaced {
        out.push('"');
    }
    out
}

/// Quotes every argument and joins them with single spaces: `split(&join(argv)) == argv`
/// for every `argv` whose arguments are not empty.
///
/// Empty arguments are encoded as `""` and therefore disappear when the guest splits the line;
/// use [`try_join`] to refuse them.
pub fn join<S: AsRef<str>>(argv: &[S]) -> String {
    let mut out = String::new();
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&quote(a.as_ref()));
    }
    out
}

/// Why [`try_join`] refused an argv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinError {
    /// The argument at this index (from 0) is empty: the splitting rules drop empty tokens.
    Empty {
        /// Index of the argument, from 0.
        index: usize,
    },
    /// The argument at this index (from 0) contains a NUL byte, which ends a C command line.
    Nul {
        /// Index of the argument, from 0.
        index: usize,
    },
}

impl JoinError {
    /// The message, one line, without the `error: ` prefix.
    pub fn message(&self) -> String {
        let mut out = String::from("argument ");
        match self {
            JoinError::Empty { index } => {
                push_u64(&mut out, *index as u64 + 1);
                out.push_str(
                    " is empty, and a target that receives one command line drops empty \
                     arguments (write --name= for an empty value)",
                );
            }
            JoinError::Nul { index } => {
                push_u64(&mut out, *index as u64 + 1);
                out.push_str(" contains a NUL byte, which a boot command line cannot carry");
            }
        }
        out
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for JoinError {}

/// [`join`], but refuses what cannot survive [`split`]: an empty argument or a NUL byte.
/// When it returns `Ok(line)`, `split(&line) == argv` holds.
pub fn try_join<S: AsRef<str>>(argv: &[S]) -> Result<String, JoinError> {
    for (index, a) in argv.iter().enumerate() {
        let a = a.as_ref();
        if a.is_empty() {
            return Err(JoinError::Empty { index });
        }
        if a.contains('\0') {
            return Err(JoinError::Nul { index });
        }
    }
    Ok(join(argv))
}
