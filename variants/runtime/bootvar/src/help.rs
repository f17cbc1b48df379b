//! The `--version` line, and (feature `render`) the `--help` text, which `petrel configure`
//! renders on the host and writes into the image as one string ([`App::help`]).

use alloc::string::String;

use crate::App;
use crate::text::put;
#[cfg(feature = "render")]
use crate::{
    kind::Kind,
    text::{field, find_field, put_byte},
};

/// The section of arguments whose [`HelpArg::section`] is empty.
#[cfg(feature = "render")]
pub const APPLICATION_SECTION: &str = "APPLICATION OPTIONS";

/// Sections in the order `--help` prints them (after it, any other section in order of first
/// appearance, then `COMMON OPTIONS` and `EXIT STATUS`). It follows mirage's order, with the
/// application's own arguments first.
#[cfg(feature = "render")]
pub const SECTION_ORDER: &[&str] = &[
    APPLICATION_SECTION,
    "OPTIONS",
    "HTTP",
    "SSH",
    "TLS",
    "HAPPY EYEBALLS",
    "DNS",
    "NETWORK OPTIONS",
    "LOG AND MONITORING OPTIONS",
    "DISK OPTIONS",
];

/// [`SECTION_ORDER`] as one string, `|`-separated.
#[cfg(feature = "render")]
const ORDER: &str = "APPLICATION OPTIONS|OPTIONS|HTTP|SSH|TLS|HAPPY EYEBALLS|DNS|NETWORK OPTIONS|\
                     LOG AND MONITORING OPTIONS|DISK OPTIONS";

/// The `--version` line: `NAME VERSION\n`.
pub fn version(app: &App) -> String {
    let mut out = String::new();
    push_version(&mut out, app);
    out
}

#[inline(never)]
fn push_version(out: &mut String, app: &App) {
    put(out, app.name);
    put(out, " ");
    put(out, app.version);
    put(out, "\n");
}

/// One boot argument, as `--help` shows it: what the parser needs ([`Spec`](crate::Spec)),
/// plus its documentation and section, which stay on the host.
#[cfg(feature = "render")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelpArg<'a> {
    /// Name without `--`.
    pub name: &'a str,
    /// Type.
    pub kind: Kind,
    /// Default, written as on the command line.
    pub default: Option<&'a str>,
    /// One-paragraph documentation.
    pub doc: &'a str,
    /// Section (`NETWORK OPTIONS`); empty means [`APPLICATION_SECTION`].
    pub section: &'a str,
    /// Must be given (when it has no default).
    pub required: bool,
    /// May be given several times.
    pub repeated: bool,
}

#[cfg(feature = "render")]
fn section_of<'a>(spec: &HelpArg<'a>) -> &'a str {
    if spec.section.is_empty() {
        APPLICATION_SECTION
    } else {
        spec.section
    }
}

/// Where the section of `specs[i]` comes in `--help`: its place in [`ORDER`], else after them
/// in order of first appearance.
#[cfg(feature = "render")]
fn rank(specs: &[HelpArg], i: usize) -> usize {
    let s = section_of(&specs[i]);
    let k = find_field(ORDER, b'|', s.as_bytes());
    if k < SECTION_ORDER.len() {
        return k;
    }
    k + specs.iter().position(|o| section_of(o) == s).unwrap_or(0)
}

/// The notes `--help` may print after an argument's type, `|`-separated.
#[cfg(feature = "render")]
const NOTES: &str = "repeatable|required|default: ";

#[cfg(feature = "render")]
fn push_arg(out: &mut String, spec: &HelpArg) {
    let kind = &spec.kind;
    let name = kind.name();
    put(out, "    --");
    put(out, spec.name);
    if *kind == Kind::Bool {
        put(out, "[=true|false]");
    } else {
        put(out, "=");
        for b in name.bytes() {
            put_byte(out, b.to_ascii_uppercase());
        }
    }
    let mut open = false;
    let flags = [spec.repeated, spec.required, spec.default.is_some()];
    for (i, &on) in flags.iter().enumerate() {
        if on {
            put(out, if open { ", " } else { "  (" });
            put(out, field(NOTES, b'|', i));
            open = true;
        }
    }
    if let Some(d) = spec.default {
        put(out, if d.is_empty() { "\"\"" } else { d });
    }
    if open {
        put(out, ")");
    }
    if !spec.doc.is_empty() {
        put(out, "\n        ");
        put(out, spec.doc);
    }
    put(out, "\n");
}

/// The `--help` text: name and version, usage, the arguments by section (see
/// [`SECTION_ORDER`]), each as `--name=TYPE  (notes, default: X)` followed by its doc (one
/// paragraph, printed as is on one indented line), then
/// the common options and the exit statuses. `petrel configure` calls it on the host and
/// writes the result into the image as [`App::help`].
#[cfg(feature = "render")]
pub fn help(name: &str, version: &str, specs: &[HelpArg]) -> String {
    let mut out = String::new();
    put(&mut out, name);
    put(&mut out, " ");
    put(&mut out, version);
    put(&mut out, "\n\nUSAGE\n    ");
    put(&mut out, name);
    put(
        &mut out,
        " [--solo5:LEVEL]... [--NAME=VALUE]...\n    \
         A value with spaces: --name=\"a b\" or --name=a\\ b.\n",
    );
    // Sections by rank: each time, the smallest rank not printed yet.
    let mut next = 0;
    loop {
        let mut r = usize::MAX;
        for i in 0..specs.len() {
            let k = rank(specs, i);
            if k >= next && k < r {
                r = k;
            }
        }
        if r == usize::MAX {
            break;
        }
        let mut title = true;
        for (i, spec) in specs.iter().enumerate() {
            if rank(specs, i) == r {
                if title {
                    put(&mut out, "\n");
                    put(&mut out, section_of(spec));
                    put(&mut out, "\n");
                    title = false;
                }
                push_arg(&mut out, spec);
            }
        }
        next = r + 1;
    }
    put(
        &mut out,
        "\nCOMMON OPTIONS\n    --help\n        Print this help and exit.\n    --version\n        \
         Print the name and version and exit.\n    --solo5:LEVEL\n        \
         Log level (quiet, error, warn, info, debug), before the other arguments.\n\n\
         EXIT STATUS\n    0 success, 63 --help or --version, 64 bad boot argument, \
         255 panic or abort\n",
    );
    out
}
