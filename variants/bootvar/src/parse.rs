//! The argument parser.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::help::{help, version};
use crate::kind::{Kind, LogLevel, Value};
use crate::split::split;
use crate::text::{distance, push_shown};
use crate::values::{Arg, Values};
use crate::{App, Spec};

/// How parsing ended when it did not give [`Values`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// `--help` was given: print this text on stdout and exit with status 63.
    Help(String),
    /// `--version` was given: print this line on stdout and exit with status 63.
    Version(String),
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
            Exit::Help(s) | Exit::Version(s) | Exit::Error(s) => s,
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

/// Builds an error line: `error: ` + body + `\n`.
struct Line(String);

impl Line {
    fn new() -> Line {
        Line(String::from("error: "))
    }
    fn s(mut self, s: &str) -> Line {
        self.0.push_str(s);
        self
    }
    /// User-supplied text, shown safely.
    fn u(mut self, s: &str) -> Line {
        push_shown(&mut self.0, s);
        self
    }
    fn expected(self, name: &str, kind: Kind) -> Line {
        let example = kind.example();
        self.s("expected ")
            .s(kind.name())
            .s(" (")
            .s(&kind.describe())
            .s("), e.g. --")
            .s(name)
            .s("=")
            .s(&example)
    }
    fn exit(mut self) -> Exit {
        self.0.push('\n');
        Exit::Error(self.0)
    }
}

const SEE_HELP: &str = " (see --help)";
const CONFIG_BUG: &str =
    "; the unikernel's configuration is wrong: fix it and re-run `petrel configure`";

/// The known name closest to `typed`, if close enough to be a likely typo.
fn suggest<'a>(typed: &str, specs: &'a [Spec]) -> Option<&'a str> {
    let len = typed.len();
    let cap = len.div_ceil(3).max(1);
    let mut best: Option<(usize, &str)> = None;
    let names = specs
        .iter()
        .map(|s| s.name)
        .chain(["help", "version"].iter().copied());
    for name in names {
        let d = distance(typed, name, cap);
        let d = if d > cap && len >= 3 && name.starts_with(typed) {
            cap
        } else {
            d
        };
        if d <= cap && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, name));
        }
    }
    best.map(|(_, n)| n)
}

fn unknown(prefix: &str, token: &str, typed: &str, specs: &[Spec]) -> Exit {
    let mut l = Line::new().s(prefix).s(" argument '").u(token).s("'");
    match suggest(typed, specs) {
        Some(name) => l = l.s("; did you mean '--").s(name).s("'?"),
        None if prefix == "unexpected" => l = l.s(": boot arguments are written --name=value"),
        None => {}
    }
    l.s(SEE_HELP).exit()
}

/// Parses the values of a default: one value, or for a repeated argument a list written with
/// the splitting rules (`"8.8.8.8 1.1.1.1"`).
fn default_values(kind: Kind, repeated: bool, default: &str) -> Option<Vec<Value>> {
    if repeated {
        let items = split(default).ok()?;
        items.iter().map(|s| kind.parse_value(s)).collect()
    } else {
        Some(alloc::vec![kind.parse_value(default)?])
    }
}

fn check_specs(specs: &[Spec]) -> Result<(), Exit> {
    for (i, spec) in specs.iter().enumerate() {
        let why = if specs.iter().take(i).any(|s| s.name == spec.name) {
            "' is declared twice"
        } else if matches!(spec.name, "help" | "version")
            || spec.name.is_empty()
            || spec.name.contains('=')
            || spec.name.starts_with("solo5:")
        {
            "' has a reserved or invalid name"
        } else {
            ""
        };
        if !why.is_empty() {
            return Err(Line::new()
                .s("boot argument '--")
                .u(spec.name)
                .s(why)
                .s(CONFIG_BUG)
                .exit());
        }
        if let Some(d) = spec.default
            && default_values(spec.kind, spec.repeated, d).is_none()
        {
            let what = if spec.repeated {
                "expected a space-separated list of "
            } else {
                "expected "
            };
            return Err(Line::new()
                .s("invalid default '")
                .u(d)
                .s("' for '--")
                .s(spec.name)
                .s("': ")
                .s(what)
                .s(spec.kind.name())
                .s(" (")
                .s(&spec.kind.describe())
                .s(")")
                .s(CONFIG_BUG)
                .exit());
        }
    }
    Ok(())
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
/// Defaults are checked too: a bad one is reported as a configuration error. Never panics.
#[inline(never)]
pub fn parse(app: &App, specs: &[Spec], argv: &[String]) -> Result<Values, Exit> {
    if argv.iter().any(|a| a == "--help") {
        return Err(Exit::Help(help(app, specs)));
    }
    if argv.iter().any(|a| a == "--version") {
        return Err(Exit::Version(version(app)));
    }
    check_specs(specs)?;
    let mut args: Vec<Arg> = specs
        .iter()
        .map(|s| Arg {
            name: s.name,
            kind: s.kind,
            repeated: s.repeated,
            always: s.required || s.default.is_some(),
            given: false,
            values: Vec::new(),
        })
        .collect();
    let mut log_level = None;
    let mut leading = true;
    let mut i = 0;
    while i < argv.len() {
        let token = argv[i].as_str();
        i += 1;
        if let Some(level) = token.strip_prefix("--solo5:") {
            if !leading {
                return Err(Line::new()
                    .s("'")
                    .u(token)
                    .s("' must come before the other boot arguments")
                    .exit());
            }
            match LogLevel::parse(level) {
                Some(l) => log_level = Some(l),
                None => {
                    return Err(Line::new()
                        .s("invalid value '")
                        .u(level)
                        .s("' for '--solo5': expected one of quiet, error, warn, info, debug, e.g. --solo5:info")
                        .exit());
                }
            }
            continue;
        }
        leading = false;
        let body = match token.strip_prefix("--") {
            Some(b) if !b.is_empty() => b,
            _ => {
                let typed = token.strip_prefix('-').unwrap_or("");
                return Err(unknown("unexpected", token, typed, specs));
            }
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        if matches!(name, "help" | "version") {
            return Err(Line::new().s("'--").s(name).s("' takes no value").exit());
        }
        let Some(idx) = specs.iter().position(|s| s.name == name) else {
            let shown = token.split_once('=').map_or(token, |(n, _)| n);
            return Err(unknown("unknown", shown, name, specs));
        };
        let spec = &specs[idx];
        let raw = match inline {
            Some(v) => v,
            None if spec.kind == Kind::Bool => "true",
            None => match argv.get(i) {
                Some(next) if !next.starts_with("--") => {
                    i += 1;
                    next.as_str()
                }
                _ => {
                    return Err(Line::new()
                        .s("missing value for '--")
                        .s(name)
                        .s("': ")
                        .expected(name, spec.kind)
                        .exit());
                }
            },
        };
        let Some(value) = spec.kind.parse_value(raw) else {
            return Err(Line::new()
                .s("invalid value '")
                .u(raw)
                .s("' for '--")
                .s(name)
                .s("': ")
                .expected(name, spec.kind)
                .exit());
        };
        let arg = &mut args[idx];
        if arg.given && !spec.repeated {
            return Err(Line::new()
                .s("'--")
                .s(name)
                .s("' is given more than once but takes one value")
                .s(SEE_HELP)
                .exit());
        }
        arg.given = true;
        arg.values.push(value);
    }
    for (arg, spec) in args.iter_mut().zip(specs) {
        if arg.given {
            continue;
        }
        if let Some(d) = spec.default {
            // check_specs parsed every default already; an empty list is the fallback.
            arg.values = default_values(spec.kind, spec.repeated, d).unwrap_or_default();
        } else if spec.required {
            return Err(Line::new()
                .s("missing required argument '--")
                .s(spec.name)
                .s("': ")
                .expected(spec.name, spec.kind)
                .exit());
        }
    }
    Ok(Values { args, log_level })
}

/// Splits `cmdline` with [`split`] and parses the result: what a target that receives one
/// command-line string does at boot. A split error is an [`Exit::Error`].
pub fn parse_cmdline(app: &App, specs: &[Spec], cmdline: &str) -> Result<Values, Exit> {
    match split(cmdline) {
        Ok(argv) => parse(app, specs, &argv),
        Err(e) => Err(Line::new().s(&e.message()).exit()),
    }
}

/// Checks a default value at configure time, with the parser used at boot, so that a bad
/// default is a configure error. For a repeated argument use [`check_default_list`].
pub fn check_default(kind: Kind, value: &str) -> Result<(), String> {
    match kind.parse_value(value) {
        Some(_) => Ok(()),
        None => {
            let mut out = String::from("invalid default '");
            push_shown(&mut out, value);
            out.push_str("': expected ");
            out.push_str(kind.name());
            out.push_str(" (");
            out.push_str(&kind.describe());
            out.push_str("), e.g. ");
            out.push_str(&kind.example());
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

/// Checks a boot-argument name (without `--`) at configure time: 1 to 64 characters among
/// `a-z`, `0-9` and `-`, starting with a letter, not ending with `-`, without `--`, and not
/// `help` or `version`.
pub fn check_name(name: &str) -> Result<(), String> {
    let why = if name.is_empty() {
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
        return Ok(());
    };
    let mut out = String::from("invalid boot argument name '");
    push_shown(&mut out, name);
    out.push_str("': ");
    out.push_str(why);
    Err(out)
}
