//! `--help` and `--version` text.

use alloc::string::String;
use alloc::vec::Vec;

use crate::kind::Kind;
use crate::text::{push_i64, push_u64};
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
    out.push_str(app.name);
    out.push_str(" ");
    out.push_str(app.version);
    out.push('\n');
    out
}

fn section_of(spec: &Spec) -> &'static str {
    if spec.section.is_empty() {
        APPLICATION_SECTION
    } else {
        spec.section
    }
}

fn push_upper(out: &mut String, s: &str) {
    let start = out.len();
    out.push_str(s);
    // SAFETY: ASCII upper-casing keeps UTF-8 valid.
    unsafe { out.as_mut_vec() }
        .iter_mut()
        .skip(start)
        .for_each(|b| b.make_ascii_uppercase());
}

#[inline(never)]
fn push_arg(out: &mut String, spec: &Spec) {
    out.push_str("    --");
    out.push_str(spec.name);
    if spec.kind == Kind::Bool {
        out.push_str("[=true|false]");
    } else {
        out.push_str("=");
        push_upper(out, spec.kind.name());
    }
    let mut sep = "  (";
    let mut note = |out: &mut String, s: &str| {
        out.push_str(sep);
        out.push_str(s);
        sep = ", ";
    };
    match spec.kind {
        Kind::Int { min, max } if spec.kind.name() == "int" => {
            note(out, "from ");
            push_i64(out, min);
            out.push_str(" to ");
            push_i64(out, max);
        }
        Kind::Uint { min, max } if spec.kind.name() == "uint" => {
            note(out, "from ");
            push_u64(out, min);
            out.push_str(" to ");
            push_u64(out, max);
        }
        _ => {}
    }
    if spec.repeated {
        note(out, "repeatable");
    }
    if spec.required {
        note(out, "required");
    }
    if let Some(d) = spec.default {
        note(out, "default: ");
        out.push_str(if d.is_empty() { "\"\"" } else { d });
    }
    if sep == ", " {
        out.push_str(")");
    }
    out.push('\n');
    if !spec.doc.is_empty() {
        out.push_str("        ");
        out.push_str(spec.doc);
        out.push('\n');
    }
}

/// The `--help` text: name and version, usage, the arguments by section (see
/// [`SECTION_ORDER`]), each as `--name=TYPE  (notes, default: X)` followed by its doc (one
/// paragraph, printed as is on one indented line), then
/// the common options and the exit statuses.
pub fn help(app: &App, specs: &[Spec]) -> String {
    let mut out = version(app);
    out.push_str("\nUSAGE\n    ");
    out.push_str(app.name);
    out.push_str(" [--solo5:LEVEL]... [--NAME=VALUE]...\n\n");
    out.push_str(
        "    On hvt, spt, virtio and xen the arguments arrive as one line, split at\n    \
         spaces: escape a space, '\"' or '\\' with '\\', or put the value in double\n    \
         quotes: --name=\"two words\". `petrel run` does this for you.\n",
    );
    let mut sections: Vec<&str> = Vec::new();
    for s in SECTION_ORDER {
        if specs.iter().any(|spec| section_of(spec) == *s) {
            sections.push(s);
        }
    }
    for spec in specs {
        let s = section_of(spec);
        if !sections.contains(&s) {
            sections.push(s);
        }
    }
    for s in sections {
        out.push('\n');
        out.push_str(s);
        out.push('\n');
        for spec in specs.iter().filter(|spec| section_of(spec) == s) {
            push_arg(&mut out, spec);
        }
    }
    out.push_str(
        "\nCOMMON OPTIONS\n    --help\n        Print this help and exit with status 63.\n    \
         --version\n        Print the name and version and exit with status 63.\n    \
         --solo5:LEVEL\n        Log level: quiet, error, warn, info or debug. Only before the\n        \
         other arguments.\n\nEXIT STATUS\n    0    the unikernel exited normally\n    \
         63   --help or --version was given\n    64   a boot argument is wrong\n    \
         255  the unikernel panicked or aborted\n",
    );
    out
}
