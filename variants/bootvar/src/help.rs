//! `--help` and `--version` text.

use alloc::string::String;

use crate::kind::Kind;
use crate::text::{Ctx, put, render};
use crate::{App, Spec};

/// The section of arguments whose [`Spec::section`] is empty.
pub const APPLICATION_SECTION: &str = "APPLICATION OPTIONS";

/// Sections in the order `--help` prints them (after it, any other section in order of first
/// appearance, then `COMMON OPTIONS` and `EXIT STATUS`). It follows mirage's order, with the
/// application's own arguments first.
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

/// The `--version` line: `NAME VERSION\n`.
pub fn version(app: &App) -> String {
    let mut out = String::new();
    render(&mut out, "\x02 ", &ctx(app.name));
    put(&mut out, app.version);
    put(&mut out, "\n");
    out
}

fn ctx(name: &str) -> Ctx<'_> {
    Ctx {
        user: "",
        name,
        kind: Kind::String,
    }
}

fn section_of(spec: &Spec) -> &'static str {
    if spec.section.is_empty() {
        APPLICATION_SECTION
    } else {
        spec.section
    }
}

#[inline(never)]
fn push_arg(out: &mut String, spec: &Spec) {
    let kind = spec.kind;
    render(out, "    --\x02", &ctx(spec.name));
    if kind == Kind::Bool {
        put(out, "[=true|false]");
    } else {
        put(out, "=");
        let start = out.len();
        put(out, kind.name());
        // SAFETY: ASCII upper-casing keeps UTF-8 valid.
        let v = unsafe { out.as_mut_vec() };
        v[start..].make_ascii_uppercase();
    }
    let mut sep = "  (";
    let mut note = |out: &mut String, s: &str| {
        put(out, sep);
        put(out, s);
        sep = ", ";
    };
    if matches!(kind.name(), "int" | "uint") {
        // "an integer from MIN to MAX" without "an integer ".
        let mut d = String::new();
        kind.describe_into(&mut d);
        note(out, d.strip_prefix("an integer ").unwrap_or(""));
    }
    if spec.repeated {
        note(out, "repeatable");
    }
    if spec.required {
        note(out, "required");
    }
    if let Some(d) = spec.default {
        note(out, "default: ");
        put(out, if d.is_empty() { "\"\"" } else { d });
    }
    if sep == ", " {
        put(out, ")");
    }
    if !spec.doc.is_empty() {
        render(out, "\n        \x02", &ctx(spec.doc));
    }
    put(out, "\n");
}

/// The `--help` text: name and version, usage, the arguments by section (see
/// [`SECTION_ORDER`]), each as `--name=TYPE  (notes, default: X)` followed by its doc (one
/// paragraph, printed as is on one indented line), then
/// the common options and the exit statuses.
pub fn help(app: &App, specs: &[Spec]) -> String {
    let mut out = version(app);
    render(
        &mut out,
        "\nUSAGE\n    \x02 [--solo5:LEVEL]... [--NAME=VALUE]...\n\n    \
         On hvt, spt, virtio and xen the arguments arrive as one line, split at\n    \
         spaces: escape a space, '\"' or '\\' with '\\', or put the value in double\n    \
         quotes: --name=\"two words\". `petrel run` does this for you.\n",
        &ctx(app.name),
    );
    // Known sections in their order, then the others in order of first appearance (no
    // `Vec`: each is printed at its first spec).
    let known = SECTION_ORDER.iter().copied();
    let others = specs.iter().enumerate().filter_map(|(i, spec)| {
        let s = section_of(spec);
        let first = !specs[..i].iter().any(|o| section_of(o) == s);
        (first && !SECTION_ORDER.contains(&s)).then_some(s)
    });
    for s in known.chain(others) {
        let mut title = true;
        for spec in specs.iter().filter(|spec| section_of(spec) == s) {
            if title {
                render(&mut out, "\n\x02\n", &ctx(s));
                title = false;
            }
            push_arg(&mut out, spec);
        }
    }
    put(
        &mut out,
        "\nCOMMON OPTIONS\n    --help\n        Print this help and exit with status 63.\n    \
         --version\n        Print the name and version and exit with status 63.\n    \
         --solo5:LEVEL\n        Log level: quiet, error, warn, info or debug. Only before the\n        \
         other arguments.\n\nEXIT STATUS\n    0    the unikernel exited normally\n    \
         63   --help or --version was given\n    64   a boot argument is wrong\n    \
         255  the unikernel panicked or aborted\n",
    );
    out
}
