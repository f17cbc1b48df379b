//! The user's `src/lib.rs`, as far as configure needs it: the main function and the
//! boot-argument structs.
//!
//! The file is parsed with `syn` (never compiled, never run). [`scan`] finds:
//!
//! - the one top-level function marked `#[petrel::main]` (or `#[main]` after
//!   `use petrel::main`), which must be `pub async fn`; its parameters become device handles
//!   or boot-argument structs (the `graph` module checks them against `unikernel.toml`);
//! - the top-level structs with `#[derive(BootArgs)]` (any path ending in `BootArgs`), their
//!   fields and the boot-argument name of each (`my_field` → `my-field`, or
//!   `#[arg(name = "...")]`).
//!
//! A syntax error in the file is a diagnostic at its place, like every other problem.

use crate::diagnostic::{Diagnostic, Diagnostics, Label, SourceFile};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use syn::spanned::Spanned;

/// What configure knows about `src/lib.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// The file, for diagnostics.
    pub file: Arc<SourceFile>,
    /// The main function.
    pub main: MainFn,
    /// The `#[derive(BootArgs)]` structs, in file order.
    pub bootargs: Vec<BootArgsStruct>,
}

/// The function marked `#[petrel::main]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainFn {
    /// Its name (`start`).
    pub name: String,
    /// Byte span of its name.
    pub span: Range<usize>,
    /// Its parameters, in order.
    pub params: Vec<Param>,
}

/// One parameter of the main function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The parameter's name (`stack`).
    pub name: String,
    /// Byte span of the name.
    pub name_span: Range<usize>,
    /// The type as written (`petrel::Stack`).
    pub ty: String,
    /// The last path segment of the type (`Stack`), if the type is a path.
    pub ty_name: Option<String>,
    /// Byte span of the type.
    pub ty_span: Range<usize>,
}

/// A struct with `#[derive(BootArgs)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootArgsStruct {
    /// The struct's name.
    pub name: String,
    /// Byte span of the name.
    pub span: Range<usize>,
    /// Its fields, in order.
    pub fields: Vec<BootField>,
}

/// A field of a boot-argument struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootField {
    /// The field's identifier.
    pub ident: String,
    /// The boot argument it reads (`hello`, without `--`).
    pub arg: String,
    /// Byte span of the field's name.
    pub span: Range<usize>,
    /// The type as written.
    pub ty: String,
    /// Byte span of the type.
    pub ty_span: Range<usize>,
    /// The type, as far as configure understands it.
    pub shape: FieldType,
}

/// The shape of a boot-argument field's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// `T` (last path segment, e.g. `String`, `u16`, `Ipv4Addr`).
    Plain(String),
    /// `Option<T>`.
    Optional(String),
    /// `Vec<T>`.
    List(String),
    /// Anything else (references, tuples, nested generics...).
    Other,
}

/// Reads and scans the file at `path`, shown in diagnostics as `display_name`.
pub fn scan_as(path: &Path, display_name: &str) -> Result<SourceInfo, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| {
        let file = SourceFile::new(display_name, "");
        Diagnostics::from(
            Diagnostic::error(format!("cannot read `{display_name}`: {e}"))
                .at(Label::file(&file, ""))
                .with_help("the unikernel is a library crate: its main function is in src/lib.rs"),
        )
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => scan_str(SourceFile::new(display_name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let file = SourceFile::new(
                display_name,
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            );
            Err(Diagnostic::error("the file is not valid UTF-8")
                .at_span(&file, at..at + 1, "this byte is not UTF-8")
                .into())
        }
    }
}

/// Reads and scans the file at `path` (shown as given).
pub fn scan(path: &Path) -> Result<SourceInfo, Diagnostics> {
    scan_as(path, &path.display().to_string())
}

/// Scans the text of `file`. The parse runs on a thread with a large stack so that deeply
/// nested code cannot overflow it.
pub fn scan_str(file: Arc<SourceFile>) -> Result<SourceInfo, Diagnostics> {
    let f = file.clone();
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || scan_inner(f));
    match worker.map(|h| h.join()) {
        Ok(Ok(result)) => result,
        _ => Err(
            Diagnostic::error("could not parse the file (it is too deeply nested)")
                .at(Label::file(&file, ""))
                .into(),
        ),
    }
}

/// Converts spans to byte offsets in the original text (which may start with a BOM that
/// syn does not see).
struct Spans {
    file: Arc<SourceFile>,
    /// The text syn parsed.
    parsed: SourceFile,
    /// Bytes stripped before it (a BOM).
    shift: usize,
}

impl Spans {
    fn range(&self, span: proc_macro2::Span) -> Range<usize> {
        let (s, e) = (span.start(), span.end());
        let start = self.parsed.offset_of(s.line, s.column) + self.shift;
        let end = self.parsed.offset_of(e.line, e.column) + self.shift;
        start..end.max(start)
    }

    fn text(&self, span: proc_macro2::Span) -> String {
        self.file
            .text
            .get(self.range(span))
            .unwrap_or("")
            .to_string()
    }
}

fn scan_inner(file: Arc<SourceFile>) -> Result<SourceInfo, Diagnostics> {
    let (parsed_text, shift) = match file.text.strip_prefix('\u{feff}') {
        Some(rest) => (rest.to_string(), '\u{feff}'.len_utf8()),
        None => (file.text.clone(), 0),
    };
    let spans = Spans {
        file: file.clone(),
        parsed: SourceFile::unshared(file.name.clone(), parsed_text),
        shift,
    };
    let ast = match syn::parse_file(&spans.parsed.text) {
        Ok(ast) => ast,
        Err(e) => {
            let mut diags = Diagnostics::new();
            for err in e {
                let (message, label) = match err.to_string().as_str() {
                    "cannot parse string into token stream" => (
                        "unbalanced delimiters or an invalid token".to_string(),
                        "cannot be read as Rust tokens from here: is every `(`, `[` and `{` closed?",
                    ),
                    other => (other.to_string(), ""),
                };
                diags.push(
                    Diagnostic::error(format!("syntax error in {}: {message}", file.name))
                        .at_span(&file, spans.range(err.span()), label)
                        .with_note(
                            "configure reads this file without compiling it; fix the syntax first",
                        ),
                );
            }
            return Err(diags);
        }
    };
    let mut diags = Diagnostics::new();
    let mut mains: Vec<&syn::ItemFn> = Vec::new();
    let mut bootargs = Vec::new();
    for item in &ast.items {
        match item {
            syn::Item::Fn(f) if f.attrs.iter().any(is_main_attr) => mains.push(f),
            syn::Item::Struct(s) if s.attrs.iter().any(derives_bootargs) => {
                if let Some(b) = boot_struct(&spans, s, &mut diags) {
                    bootargs.push(b);
                }
            }
            _ => {}
        }
    }
    let main = match mains.as_slice() {
        [] => {
            diags.push(
                Diagnostic::error(format!("no main function in {}", file.name))
                    .at(Label::file(
                        &file,
                        "expected one top-level function marked `#[petrel::main]`",
                    ))
                    .with_help(
                        "add:\n#[petrel::main]\npub async fn start(/* devices */) {\n    // ...\n}",
                    ),
            );
            None
        }
        [f] => main_fn(&spans, f, &mut diags),
        [first, rest @ ..] => {
            for f in rest {
                diags.push(
                    Diagnostic::error("several main functions")
                        .at_span(&file, spans.range(f.sig.ident.span()), "a second function marked `#[petrel::main]`")
                        .with_label(Label::new(&file, spans.range(first.sig.ident.span()), "the first one"))
                        .with_help("a unikernel has exactly one main function; remove the attribute from all but one"),
                );
            }
            None
        }
    };
    diags.sort();
    match main {
        Some(main) if !diags.has_errors() => Ok(SourceInfo {
            file,
            main,
            bootargs,
        }),
        _ => Err(diags),
    }
}

/// `#[petrel::main]`, `#[::petrel::main]` or `#[main]`.
fn is_main_attr(attr: &syn::Attribute) -> bool {
    let segs: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segs == ["petrel", "main"] || segs == ["main"]
}

/// `#[derive(..., BootArgs, ...)]` (any path ending in `BootArgs`).
fn derives_bootargs(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("derive") {
        return false;
    }
    let paths = attr.parse_args_with(
        syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
    );
    paths.is_ok_and(|ps| {
        ps.iter()
            .any(|p| p.segments.last().is_some_and(|s| s.ident == "BootArgs"))
    })
}

fn main_fn(spans: &Spans, f: &syn::ItemFn, diags: &mut Diagnostics) -> Option<MainFn> {
    let file = &spans.file;
    let name_span = spans.range(f.sig.ident.span());
    let mut ok = true;
    if !matches!(f.vis, syn::Visibility::Public(_)) {
        diags.push(
            Diagnostic::error(format!(
                "the main function `{}` must be public",
                f.sig.ident
            ))
            .at_span(file, spans.range(f.sig.fn_token.span()), "expected `pub`")
            .with_help(format!(
                "write `pub async fn {}(...)`: the generated crate calls it",
                f.sig.ident
            )),
        );
        ok = false;
    }
    if f.sig.asyncness.is_none() {
        diags.push(
            Diagnostic::error(format!("the main function `{}` must be async", f.sig.ident))
                .at_span(
                    file,
                    spans.range(f.sig.fn_token.span()),
                    "expected `async fn`",
                )
                .with_help(format!(
                    "write `pub async fn {}(...)`: the executor runs it as a future",
                    f.sig.ident
                )),
        );
        ok = false;
    }
    if !f.sig.generics.params.is_empty() {
        diags.push(
            Diagnostic::error(format!(
                "the main function `{}` must not be generic",
                f.sig.ident
            ))
            .at_span(
                file,
                spans.range(f.sig.generics.span()),
                "unexpected generic parameters",
            )
            .with_help(
                "devices are passed as concrete handles (`stack: Stack`), never as type parameters",
            ),
        );
        ok = false;
    }
    let mut params = Vec::new();
    for input in &f.sig.inputs {
        match input {
            syn::FnArg::Typed(pt) => {
                let name = match &*pt.pat {
                    syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                        Some(pi.ident.clone())
                    }
                    _ => None,
                };
                let Some(ident) = name else {
                    diags.push(
                        Diagnostic::error("a main-function parameter must be a plain name")
                            .at_span(file, spans.range(pt.pat.span()), "expected a name such as `stack`")
                            .with_note("each parameter is the device (or boot-argument struct) of the same name"),
                    );
                    ok = false;
                    continue;
                };
                let ty_name = match &*pt.ty {
                    syn::Type::Path(tp) if tp.qself.is_none() => {
                        tp.path.segments.last().map(|s| s.ident.to_string())
                    }
                    _ => None,
                };
                params.push(Param {
                    name: ident.to_string().trim_start_matches("r#").to_string(),
                    name_span: spans.range(ident.span()),
                    ty: spans.text(pt.ty.span()),
                    ty_name,
                    ty_span: spans.range(pt.ty.span()),
                });
            }
            syn::FnArg::Receiver(r) => {
                diags.push(
                    Diagnostic::error("the main function cannot take `self`").at_span(
                        file,
                        spans.range(r.span()),
                        "unexpected receiver",
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then(|| MainFn {
        name: f.sig.ident.to_string(),
        span: name_span,
        params,
    })
}

fn boot_struct(
    spans: &Spans,
    s: &syn::ItemStruct,
    diags: &mut Diagnostics,
) -> Option<BootArgsStruct> {
    let file = &spans.file;
    let syn::Fields::Named(named) = &s.fields else {
        diags.push(
            Diagnostic::error(format!(
                "the boot-argument struct `{}` must have named fields",
                s.ident
            ))
            .at_span(
                file,
                spans.range(s.ident.span()),
                "expected `struct Name { field: Type, ... }`",
            )
            .with_note("each field reads the boot argument of the same name"),
        );
        return None;
    };
    let mut fields = Vec::new();
    for field in &named.named {
        let Some(ident) = &field.ident else { continue };
        let ident_s = ident.to_string().trim_start_matches("r#").to_string();
        let mut arg = ident_s.replace('_', "-");
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("arg")) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    let lit: syn::LitStr = meta.value()?.parse()?;
                    arg = lit.value();
                } else if meta.input.peek(syn::Token![=]) {
                    // Other `key = value` options belong to the derive macro.
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            if let Err(e) = parsed {
                diags.push(
                    Diagnostic::error(format!("malformed `#[arg(...)]` on `{ident_s}`"))
                        .at_span(file, spans.range(e.span()), e.to_string())
                        .with_help("write `#[arg(name = \"my-arg\")]`"),
                );
            }
        }
        fields.push(BootField {
            ident: ident_s,
            arg,
            span: spans.range(ident.span()),
            ty: spans.text(field.ty.span()),
            ty_span: spans.range(field.ty.span()),
            shape: field_type(&field.ty),
        });
    }
    Some(BootArgsStruct {
        name: s.ident.to_string(),
        span: spans.range(s.ident.span()),
        fields,
    })
}

/// The last segment of a plain path type (`std::net::Ipv4Addr` → `Ipv4Addr`).
fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(tp) if tp.qself.is_none() => tp.path.segments.last(),
        syn::Type::Group(g) => last_segment(&g.elem),
        syn::Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

fn field_type(ty: &syn::Type) -> FieldType {
    let Some(seg) = last_segment(ty) else {
        return FieldType::Other;
    };
    let name = seg.ident.to_string();
    match &seg.arguments {
        syn::PathArguments::None => FieldType::Plain(name),
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => {
            let inner = match args.args.first() {
                Some(syn::GenericArgument::Type(t)) => {
                    last_segment(t).filter(|s| s.arguments.is_none())
                }
                _ => None,
            };
            match (name.as_str(), inner) {
                ("Option", Some(i)) => FieldType::Optional(i.ident.to_string()),
                ("Vec", Some(i)) => FieldType::List(i.ident.to_string()),
                _ => FieldType::Other,
            }
        }
        _ => FieldType::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_text(text: &str) -> Result<SourceInfo, String> {
        scan_str(SourceFile::new("src/lib.rs", text)).map_err(|d| d.render())
    }

    #[test]
    fn finds_main_and_structs() {
        let s = scan_text(
            r#"
use petrel::{Stack, BootArgs};
#[derive(Debug, petrel::BootArgs)]
pub struct Args { hello: String, #[arg(name = "the-port")] port: Option<u16>, dns_servers: Vec<std::net::Ipv4Addr> }
#[petrel::main]
pub async fn start(stack: petrel::Stack, args: Args) {}
"#,
        )
        .unwrap();
        assert_eq!(s.main.name, "start");
        assert_eq!(s.main.params[0].ty, "petrel::Stack");
        assert_eq!(s.main.params[0].ty_name.as_deref(), Some("Stack"));
        assert_eq!(
            s.file.text[s.main.params[1].name_span.clone()].to_string(),
            "args"
        );
        let f = &s.bootargs[0].fields;
        assert_eq!(f[1].arg, "the-port");
        assert_eq!(f[1].shape, FieldType::Optional("u16".into()));
        assert_eq!(f[2].arg, "dns-servers");
        assert_eq!(f[2].shape, FieldType::List("Ipv4Addr".into()));
    }

    #[test]
    fn main_errors() {
        let e = scan_text("#[main]\nfn start() {}").unwrap_err();
        assert!(
            e.contains("must be public") && e.contains("must be async"),
            "{e}"
        );
        assert!(e.contains("src/lib.rs:2:1"), "{e}");
        let e = scan_text("pub fn x() {}").unwrap_err();
        assert!(e.contains("no main function"), "{e}");
        let e = scan_text("#[main] pub async fn a() {}\n#[petrel::main] pub async fn b() {}")
            .unwrap_err();
        assert!(
            e.contains("several main functions") && e.contains("src/lib.rs:2:"),
            "{e}"
        );
        let e = scan_text("pub fn x( {}").unwrap_err();
        assert!(e.contains("syntax error"), "{e}");
    }

    #[test]
    fn bom_and_unicode_columns() {
        let s = scan_text("\u{feff}#[main] pub async fn é() {}").unwrap();
        assert_eq!(&s.file.text[s.main.span.clone()], "é");
    }
}
