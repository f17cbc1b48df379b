//! The argument parser.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::kind::{Kind, LogLevel};
use crate::split::{Tokens, Unsplit, split};
use crate::text::{Ctx, distance, field, push_shown, put, render, word};
use crate::values::{FLAG, Given, Values};
use crate::{App, Spec};

/// How parsing ended when it did not give [`Values`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// `--help` was given: print this text ([`App::help`]) on stdout and exit with status 63.
    Help(&'static str),
    /// `--version` was given: print this line (the first of [`App::help`]) on stdout and exit
    /// with status 63.
    Version(&'static str),
    /// A boot argument is wrong: print this one line (ending with `\n`) on the console and
    /// exit with status 64.
    Error(String),
}

impl Exit {
    /// The exit status: 63 for [`Exit::Help`] and [`Exit::Version`], 64 for [`Exit::Error`].
    pub fn code(&self) -> i32 {
        match self {
            Exit::Help(_) | Exit::Version(_) => crate::EXIT_HELP,
            Exit::Error(_) => crate::EXIT_BAD_ARGUMENT,
        }
    }

    /// The text to print.
    pub fn text(&self) -> &str {
        match self {
            Exit::Help(s) | Exit::Version(s) => s,
            Exit::Error(s) => s,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().trim_end_matches('\n'))
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Exit {}

/// The error templates (see [`render`]), separated by `\0`, in the order of the `E_*` codes.
const ERRORS: &str = concat!(
    "unknown argument '--\x01'\x08\x06\0",
    "unexpected argument '\x01'\x08 (write --name=value, see --help)\0",
    "missing value for '--\x02': \x07\0",
    "invalid value '\x01' for '--\x02': \x07\0",
    "'--\x02' is given twice but takes one value\x06\0",
    "missing required argument '--\x02': \x07\0",
    "'\x01' must come before the other arguments\0",
    "invalid log level '\x01': expected quiet, error, warn, info or debug\0",
    "'--\x02' takes no value\0",
    "unclosed '\"' at '\x01' in the boot command line\0",
    "the boot command line ends with a lone '\\' (write '\\\\' for a backslash)",
);
const E_UNKNOWN: usize = 0;
const E_UNEXPECTED: usize = 1;
const E_MISSING_VALUE: usize = 2;
const E_BAD_VALUE: usize = 3;
const E_TWICE: usize = 4;
const E_REQUIRED: usize = 5;
const E_SOLO5_LATE: usize = 6;
const E_SOLO5_BAD: usize = 7;
const E_NO_VALUE: usize = 8;
const E_UNCLOSED_QUOTE: usize = 9;
const E_TRAILING_ESCAPE: usize = 10;

/// The message of a trailing escape, at boot and from [`SplitError::message`].
pub(crate) const TRAILING_ESCAPE: &str = field(ERRORS, 0, E_TRAILING_ESCAPE);

/// The end of every configuration error.
macro_rules! fix_configuration {
    () => {
        "; fix the configuration and re-run `petrel configure`"
    };
}

// The errors only `check_specs` reports (not in `ERRORS`, so that an image, which calls it
// only in a debug build, carries none of them in a release build).
const E_NAME: &str = concat!(
    "boot argument '--\x01' is declared twice or its name is invalid",
    fix_configuration!()
);
const E_DEFAULTS: &str = concat!(
    "'--\x02' is not repeated but has several defaults",
    fix_configuration!()
);
const E_BAD_DEFAULT: &str = concat!(
    "invalid default '\x01' for '--\x02': expected \x03 (\x04)",
    fix_configuration!()
);

/// The [`Exit::Error`] of template `code` (see [`ERRORS`] and [`render`]): `error: ` +
/// message + `\n`. Every error of `parse` goes through here, so that each check costs a few
/// instructions.
#[cold]
#[inline(never)]
fn fail(code: usize, user: &str, name: &str, hint: &'static str) -> Exit {
    fail_with(field(ERRORS, 0, code), user, name, hint)
}

/// [`fail`] with a template of its own.
fn fail_with(template: &str, user: &str, name: &str, hint: &'static str) -> Exit {
    let mut out = String::new();
    put(&mut out, "error: ");
    render(&mut out, template, &Ctx { user, name, hint });
    put(&mut out, "\n");
    Exit::Error(out)
}

/// The hint of a message that names no type, for [`fail`].
const NO_HINT: &str = "";

/// The known name closest to `typed`, if close enough to be a likely typo.
#[inline(never)]
fn suggest<'a>(typed: &str, specs: &'a [Spec]) -> Option<&'a str> {
    let len = typed.len();
    let cap = len.div_ceil(3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for i in 0..specs.len() + 2 {
        let name = match specs.get(i) {
            Some(s) => s.name,
            None => word("help version", i - specs.len()),
        };
        let mut d = distance(typed, name);
        if d > cap && len >= 3 && name.starts_with(typed) {
            d = cap;
        }
        if d <= cap && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, name));
        }
    }
    best.map(|(_, n)| n)
}

/// An unknown argument (`E_UNEXPECTED`: not even `--name`), with a suggestion if one is close.
#[cold]
#[inline(never)]
fn unknown(code: usize, token: &str, typed: &str, specs: &[Spec]) -> Exit {
    fail(code, token, suggest(typed, specs).unwrap_or(""), NO_HINT)
}

/// `s` split at its first `=` (without `str::split_once`, which brings `memchr`).
fn split_eq(s: &str) -> (&str, Option<&str>) {
    match s.bytes().position(|b| b == b'=') {
        // SAFETY: `at` is the index of an ASCII byte, so both sides are on char boundaries.
        Some(at) => unsafe { (s.get_unchecked(..at), Some(s.get_unchecked(at + 1..))) },
        None => (s, None),
    }
}

/// The index of the spec named `name`.
pub(crate) fn position(specs: &[Spec], name: &str) -> Option<usize> {
    specs.iter().position(|s| s.name == name)
}

/// Parses `argv` (the arguments only, without a program name) against `specs`.
///
/// Syntax: `--name=value`, `--name value` (the value may not start with `--`; write
/// `--name=--x` for that), booleans `--flag` or `--flag=true|false`, a repeated argument given
/// several times. Leading `--solo5:LEVEL` arguments set [`Values::log_level`]. `--help` and
/// `--version` anywhere win over everything else.
///
/// Arguments not given take their default; a required one without value, an unknown one, a
/// missing or malformed value, or a non-repeated argument given twice is an [`Exit::Error`].
///
/// A release build trusts the table to be what `petrel configure` checked (see
/// [`check_specs`]): names and defaults are not checked again, and a default that does not
/// parse (a table edited by hand) makes [`Values::get`] panic when it reads it. A debug build
/// checks the table first, and reports a problem as [`check_specs`] does. Never panics.
pub fn parse(app: &App, specs: &'static [Spec], argv: &[String]) -> Result<Values, Exit> {
    if cfg!(petrel_bootvar_baseline) {
        return Ok(Values::baseline());
    }
    parse_tokens(app, specs, Tokens::of(argv))
}

/// [`parse`], on the arguments in a [`Tokens`] buffer, which the [`Values`] keep.
#[inline(never)]
fn parse_tokens(app: &App, specs: &'static [Spec], tokens: Tokens) -> Result<Values, Exit> {
    let mut version = false;
    let mut pos = 0;
    while let Some((token, next)) = tokens.get(pos) {
        pos = next;
        match token {
            "--help" => return Err(Exit::Help(app.help)),
            "--version" => version = true,
            _ => {}
        }
    }
    if version {
        // The help text begins with the version line (see `App::help`).
        let line = app
            .help
            .bytes()
            .position(|b| b == b'\n')
            .map_or(0, |i| i + 1);
        return Err(Exit::Version(app.help.get(..line).unwrap_or_default()));
    }
    let mut given: Vec<Given> = Vec::new();
    let mut log_level = None;
    // One place drops the buffers after an error: `check` only borrows them.
    check(specs, &tokens, &mut given, &mut log_level)?;
    Ok(Values {
        specs,
        tokens,
        given,
        log_level,
    })
}

/// The checks of [`parse`] (after `--help` and `--version`): records each given value in
/// `given` and the log level, then checks the arguments not given.
#[inline(never)]
fn check(
    specs: &'static [Spec],
    tokens: &Tokens,
    given: &mut Vec<Given>,
    log_level: &mut Option<LogLevel>,
) -> Result<(), Exit> {
    // The table is what `petrel configure` checked; a debug build checks it again.
    if cfg!(debug_assertions) {
        check_specs(specs)?;
    }
    let mut leading = true;
    let mut pos = 0;
    while let Some((token, next)) = tokens.get(pos) {
        pos = next;
        if let Some(level) = token.strip_prefix("--solo5:") {
            if !leading {
                return Err(fail(E_SOLO5_LATE, token, "", NO_HINT));
            }
            *log_level = LogLevel::parse(level);
            if log_level.is_none() {
                return Err(fail(E_SOLO5_BAD, token, "", NO_HINT));
            }
            continue;
        }
        leading = false;
        let body = match token.strip_prefix("--") {
            Some(b) if !b.is_empty() => b,
            _ => {
                let typed = token.strip_prefix('-').unwrap_or("");
                return Err(unknown(E_UNEXPECTED, token, typed, specs));
            }
        };
        let (name, inline) = split_eq(body);
        if matches!(name, "help" | "version") {
            return Err(fail(E_NO_VALUE, "", name, NO_HINT));
        }
        let Some((at, spec)) = specs.iter().enumerate().find(|(_, s)| s.name == name) else {
            return Err(unknown(E_UNKNOWN, name, name, specs));
        };
        let (kind, hint) = (spec.kind, spec.hint);
        // Where the value is in `tokens`; a bare `--flag` is `true`, which is not.
        let (start, len) = match inline {
            Some(v) => (tokens.offset(v), v.len()),
            None if kind == Kind::Bool => (FLAG, 0),
            None => match tokens.get(pos) {
                Some((value, after)) if !value.starts_with("--") => {
                    pos = after;
                    (tokens.offset(value), value.len())
                }
                _ => return Err(fail(E_MISSING_VALUE, "", name, hint)),
            },
        };
        if !spec.repeated && given.iter().any(|g| g.0 == at) {
            return Err(fail(E_TWICE, "", name, hint));
        }
        let raw = Values::text_of(tokens, start, len);
        if !(spec.check)(raw, kind) {
            return Err(fail(E_BAD_VALUE, raw, name, hint));
        }
        given.push(Given(at, start, len));
    }
    // Required arguments not given.
    for (at, spec) in specs.iter().enumerate() {
        if spec.required && spec.default.is_empty() && !given.iter().any(|g| g.0 == at) {
            return Err(fail(E_REQUIRED, "", spec.name, spec.hint));
        }
    }
    Ok(())
}

/// Checks a whole table, as `petrel configure` does before writing it and [`parse`] does in
/// a debug build: names unique and neither reserved (`help`, `version`, `solo5:...`) nor empty
/// nor containing `=`, every default parses for its type, and a non-repeated argument has at
/// most one. The first problem is an [`Exit::Error`] ending with "fix the configuration and
/// re-run `petrel configure`". A release image does not call it.
pub fn check_specs(specs: &[Spec]) -> Result<(), Exit> {
    for (i, spec) in specs.iter().enumerate() {
        let name = spec.name;
        if position(specs, name) != Some(i) || name_problem(name).is_some() {
            return Err(fail_with(E_NAME, name, "", NO_HINT));
        }
        if !spec.repeated && spec.default.len() > 1 {
            return Err(fail_with(E_DEFAULTS, "", name, NO_HINT));
        }
        for d in spec.default {
            if !spec.kind.accepts(d) {
                return Err(fail_with(E_BAD_DEFAULT, d, name, spec.hint));
            }
        }
    }
    Ok(())
}

/// Splits `cmdline` with [`split`] and parses the result: what a target that receives one
/// command-line string does at boot. A split error is an [`Exit::Error`]; for an unclosed
/// quote it shows the line from the quote.
pub fn parse_cmdline(app: &App, specs: &'static [Spec], cmdline: &str) -> Result<Values, Exit> {
    if cfg!(petrel_bootvar_baseline) {
        return Ok(Values::baseline());
    }
    match Tokens::split(cmdline) {
        Ok(tokens) => parse_tokens(app, specs, tokens),
        Err(Unsplit::Quote { at }) => {
            let from = cmdline.get(at..).unwrap_or_default();
            Err(fail(E_UNCLOSED_QUOTE, from, "", NO_HINT))
        }
        Err(Unsplit::Escape) => Err(fail(E_TRAILING_ESCAPE, "", "", NO_HINT)),
    }
}

/// Checks a default value at configure time, with the parser used at boot, so that a bad
/// default is a configure error. For a repeated argument use [`check_default_list`].
pub fn check_default(kind: Kind, value: &str) -> Result<(), String> {
    match kind.parse_value(value) {
        Some(_) => Ok(()),
        None => {
            let mut out = String::new();
            let t = "invalid default '\x01': expected \x03 (\x04), e.g. \x05";
            render(
                &mut out,
                t,
                &Ctx {
                    user: value,
                    name: "",
                    hint: kind.info(),
                },
            );
            Err(out)
        }
    }
}

/// Checks the default of a repeated argument: a list written with the splitting rules
/// (`"8.8.8.8 1.1.1.1"`; `""` is the empty list).
pub fn check_default_list(kind: Kind, value: &str) -> Result<(), String> {
    let items = split(value).map_err(|e| {
        let mut out = String::from("invalid default list: ");
        out.push_str(&e.message());
        out
    })?;
    items.iter().try_for_each(|v| check_default(kind, v))
}

/// Why `name` (without `--`) cannot be a boot argument's name, or `None` if it can: the one
/// naming rule of Petrel, used by `petrel configure`, `#[derive(BootArgs)]` and
/// [`check_specs`]. A name has 1 to 64 characters among `a-z`, `0-9` and `-`, starts with a
/// letter, does not end with `-` or contain `--` (so it never reads as an option's end or a
/// second option), and is not `help` or `version` (built in).
pub fn name_problem(name: &str) -> Option<&'static str> {
    Some(if name.is_empty() {
        "it is empty"
    } else if name.len() > 64 {
        "it is longer than 64 characters"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        "only a-z, 0-9 and '-' are allowed"
    } else if !name.as_bytes()[0].is_ascii_lowercase() {
        "it must start with a letter"
    } else if name.ends_with('-') || name.contains("--") {
        "it must not end with '-' or contain '--'"
    } else if matches!(name, "help" | "version") {
        "'--help' and '--version' are built in"
    } else {
        return None;
    })
}

/// Checks a boot-argument name (without `--`) at configure time with [`name_problem`]'s rule;
/// the error is a whole sentence that shows the name.
pub fn check_name(name: &str) -> Result<(), String> {
    let Some(why) = name_problem(name) else {
        return Ok(());
    };
    let mut out = String::from("invalid boot argument name '");
    push_shown(&mut out, name);
    out.push_str("': ");
    out.push_str(why);
    Err(out)
}
