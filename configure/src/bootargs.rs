//! One registry of every boot argument of the unikernel.
//!
//! Boot arguments come from two places: the application's `[args.NAME]` tables and the
//! `bootargs` of every implementation chosen in the device graph. [`Registry::build`] puts
//! them in one list, checks names, kinds and defaults (with `petrel-bootvar`'s rules), reports
//! two declarations of one name naming both places, and cross-checks the fields of the
//! application's `#[derive(BootArgs)]` structs against the declarations.
//! [`Registry::to_json`] writes `bootargs.json` (schema: `docs/bootargs-json.md`).

use crate::catalogue::{ArgDecl, Implementation};
use crate::diagnostic::{Diagnostic, Diagnostics, Label, SourceFile, did_you_mean, list};
use crate::manifest::{ArgSpec, DEFAULT_SECTION, Manifest, Sp};
use crate::source::{FieldType, SourceInfo};
use crate::target::Target;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use petrel_bootvar::{self as bootvar, Kind};

/// The type names of boot arguments.
pub const KIND_NAMES: &[&str] = Kind::NAMES;

/// An `[args.NAME]` table as the catalogue spells a boot argument.
pub fn decl_of(spec: &ArgSpec) -> ArgDecl {
    ArgDecl {
        name: spec.name.value.clone(),
        ty: spec.ty.value.clone(),
        default: spec.default.as_ref().map(|d| d.value.clone()),
        doc: spec.doc.value.clone(),
        section: spec
            .section
            .as_ref()
            .map_or_else(|| DEFAULT_SECTION.to_string(), |s| s.value.clone()),
        required: spec.required.as_ref().is_some_and(|r| r.value),
        repeated: spec.repeated.as_ref().is_some_and(|r| r.value),
    }
}

/// Where a boot argument was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgOrigin {
    /// `[args.NAME]` in `unikernel.toml`.
    Manifest(ArgSpec),
    /// The `bootargs` metadata of an implementation crate.
    Package {
        /// The crate.
        package: String,
        /// Its version.
        version: String,
        /// Its `Cargo.toml`.
        manifest: String,
    },
}

/// A device instance whose implementation's boot arguments the registry collects.
#[derive(Debug, Clone, Copy)]
pub struct Instance<'a> {
    /// The instance name (`storage`).
    pub name: &'a str,
    /// Its interface, the kind that counts for the naming rule (`block`).
    pub interface: &'a str,
    /// Its chosen implementation.
    pub implementation: &'a Implementation,
    /// `group = "NAME"` in its device table, if written.
    pub group: Option<&'a Sp<String>>,
}

/// The prefix of an instance's boot arguments, by the naming rule (docs/architecture.md,
/// "Boot arguments of several instances"): an explicit `group` chooses it; otherwise the only
/// instance of its interface has none (today's plain `--disk`), and each of two or more has
/// its instance name (`--storage-disk`).
fn prefix_of(instance: &Instance, instances: &[Instance]) -> String {
    if let Some(group) = instance.group {
        return format!("{}-", group.value);
    }
    let same_kind = instances
        .iter()
        .filter(|i| i.interface == instance.interface)
        .count();
    if same_kind > 1 {
        format!("{}-", instance.name)
    } else {
        String::new()
    }
}

/// One boot argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootArg {
    /// Its declaration.
    pub decl: ArgDecl,
    /// The instance whose implementation declares it; `""` for the application.
    pub device: String,
    /// The name the implementation declares (`disk`); `decl.name` is the name on the command
    /// line, with the instance's prefix (`storage-disk`).
    pub base_name: String,
    /// Where it was declared.
    pub origin: ArgOrigin,
}

impl BootArg {
    /// Where it was declared, in words: `[args.hello] in unikernel.toml` or
    /// `petrel-stack-direct 0.1.0 (device `stack`)`.
    pub fn place(&self) -> String {
        match &self.origin {
            ArgOrigin::Manifest(_) => format!("`[args.{}]` in unikernel.toml", self.decl.name),
            ArgOrigin::Package {
                package, version, ..
            } => format!("{package} {version} (device `{}`)", self.device),
        }
    }

    /// A label at the declaration (the `[args.NAME]` key, or the crate's Cargo.toml).
    fn label(&self, manifest: &Manifest, message: impl Into<String>) -> Label {
        match &self.origin {
            ArgOrigin::Manifest(spec) => {
                Label::new(&manifest.file, spec.name.span.clone(), message)
            }
            ArgOrigin::Package { manifest: m, .. } => {
                Label::file(&SourceFile::new(m.clone(), ""), message)
            }
        }
    }
}

impl BootArg {
    /// A label where the user can change the argument's name: the `[args.NAME]` key, the
    /// declaring instance's `group` or `[devices.NAME]` key, or else the crate's Cargo.toml.
    fn name_label(&self, manifest: &Manifest, message: impl Into<String>) -> Label {
        match (&self.origin, manifest.device(&self.device)) {
            (ArgOrigin::Package { .. }, Some(decl)) => {
                let span = decl.group.as_ref().map_or(&decl.name.span, |g| &g.span);
                Label::new(&manifest.file, span.clone(), message)
            }
            _ => self.label(manifest, message),
        }
    }
}

/// Every boot argument, sorted by section (application options first, then the others
/// alphabetically), then name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// The arguments.
    pub args: Vec<BootArg>,
    /// The prefix of each device instance's arguments (`storage-`, or `""` for plain names).
    pub prefixes: BTreeMap<String, String>,
}

/// The `bootargs.json` document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Document<'a> {
    /// Schema version: 1.
    pub version: u32,
    /// The unikernel's name.
    pub unikernel: &'a str,
    /// The target configured.
    pub target: Target,
    /// Every argument.
    pub arguments: Vec<JsonArg<'a>>,
}

/// One argument of `bootargs.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JsonArg<'a> {
    /// Name without `--`.
    pub name: &'a str,
    /// Type name.
    #[serde(rename = "type")]
    pub ty: &'a str,
    /// Default value as written, or null.
    pub default: Option<&'a str>,
    /// One line of documentation.
    pub doc: &'a str,
    /// `--help` section.
    pub section: &'a str,
    /// Declaring device instance, `""` for the application.
    pub device: &'a str,
    /// Must be given.
    pub required: bool,
    /// May be given several times.
    pub repeated: bool,
}

/// Sort key of a section: application options first.
fn section_key(section: &str) -> (bool, &str) {
    (section != DEFAULT_SECTION, section)
}

impl Registry {
    /// Builds the registry from the manifest's `[args]`, the instances with their chosen
    /// implementations (in initialisation order) and the source's `#[derive(BootArgs)]`
    /// structs. Returns the registry and the warnings, or every error.
    pub fn build(
        manifest: &Manifest,
        devices: &[Instance],
        source: Option<&SourceInfo>,
    ) -> Result<(Registry, Diagnostics), Diagnostics> {
        let mut diags = Diagnostics::new();
        let mut args: Vec<BootArg> = Vec::new();
        for spec in &manifest.args {
            if check_app_arg(manifest, spec, &mut diags) {
                args.push(BootArg {
                    decl: decl_of(spec),
                    device: String::new(),
                    base_name: spec.name.value.clone(),
                    origin: ArgOrigin::Manifest(spec.clone()),
                });
            }
        }
        let mut prefixes = BTreeMap::new();
        for instance in devices {
            let imp = instance.implementation;
            let prefix = prefix_of(instance, devices);
            prefixes.insert(instance.name.to_string(), prefix.clone());
            let cargo_toml = imp.dir.join("Cargo.toml").display().to_string();
            for decl in &imp.bootargs {
                let origin = ArgOrigin::Package {
                    package: imp.package.clone(),
                    version: imp.version.clone(),
                    manifest: cargo_toml.clone(),
                };
                let arg = BootArg {
                    decl: decl.clone(),
                    device: instance.name.to_string(),
                    base_name: decl.name.clone(),
                    origin,
                };
                if let Err(why) = check_decl(decl) {
                    diags.push(
                        Diagnostic::error(format!(
                            "{} {} declares an invalid boot argument `--{}`",
                            imp.package, imp.version, decl.name
                        ))
                        .at(arg.label(manifest, why))
                        .with_note(
                            "this is a bug in that crate's [package.metadata.petrel] bootargs",
                        ),
                    );
                    continue;
                }
                if prefix.is_empty() {
                    args.push(arg);
                } else if let Some(arg) = prefixed(manifest, instance, &prefix, arg, &mut diags) {
                    args.push(arg);
                }
            }
        }
        // Duplicates: report each later declaration against the first one.
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        let mut dup = vec![false; args.len()];
        for (i, a) in args.iter().enumerate() {
            if let Some(&j) = first.get(a.decl.name.as_str()) {
                let b = &args[j];
                // The application's declaration (a place the user can change) is the primary one.
                let (primary, other) = if matches!(b.origin, ArgOrigin::Manifest(_)) {
                    (b, a)
                } else {
                    (a, b)
                };
                let mut d = Diagnostic::error(format!(
                    "the boot argument `--{}` is declared twice",
                    a.decl.name
                ))
                .at(primary.name_label(
                    manifest,
                    match primary.origin {
                        ArgOrigin::Manifest(_) => "declared here".to_string(),
                        ArgOrigin::Package { .. } => format!("declared by {}", primary.place()),
                    },
                ))
                .with_label(other.name_label(manifest, format!("and by {}", other.place())));
                d = if matches!(a.origin, ArgOrigin::Manifest(_))
                    || matches!(b.origin, ArgOrigin::Manifest(_))
                {
                    d.with_help(
                        "rename the application's argument (boot arguments share one command line)",
                    )
                } else {
                    d.with_help("give each device its own `group = \"NAME\"` in its table: its boot arguments are then named `--NAME-...`")
                };
                diags.push(d);
                dup[i] = true;
            } else {
                first.insert(a.decl.name.as_str(), i);
            }
        }
        let mut args: Vec<BootArg> = args
            .into_iter()
            .zip(dup)
            .filter(|(_, d)| !d)
            .map(|(a, _)| a)
            .collect();
        args.sort_by(|a, b| {
            (section_key(&a.decl.section), &a.decl.name)
                .cmp(&(section_key(&b.decl.section), &b.decl.name))
        });
        let registry = Registry { args, prefixes };
        let mut warnings = Diagnostics::new();
        if let Some(source) = source {
            registry.check_structs(manifest, source, &mut diags, &mut warnings);
        }
        diags.sort();
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok((registry, warnings))
        }
    }

    /// The prefix of the boot arguments of the device instance `instance` (`""` when its
    /// arguments keep their plain names).
    pub fn prefix(&self, instance: &str) -> &str {
        self.prefixes.get(instance).map_or("", String::as_str)
    }

    /// The argument named `name`.
    pub fn get(&self, name: &str) -> Option<&BootArg> {
        self.args.iter().find(|a| a.decl.name == name)
    }

    /// Checks every field of every `#[derive(BootArgs)]` struct against the application's
    /// declarations.
    fn check_structs(
        &self,
        manifest: &Manifest,
        source: &SourceInfo,
        diags: &mut Diagnostics,
        warnings: &mut Diagnostics,
    ) {
        let file = &source.file;
        let app: Vec<&ArgSpec> = manifest.args.iter().collect();
        // By name, so that a struct of n fields is checked in O(n log n), not O(n²).
        let by_name: BTreeMap<&str, &ArgSpec> = app
            .iter()
            .rev() // the first declaration wins, as a linear search would find it
            .map(|a| (a.name.value.as_str(), *a))
            .collect();
        for s in &source.bootargs {
            for field in &s.fields {
                let Some(spec) = by_name.get(field.arg.as_str()) else {
                    let mut d = Diagnostic::error(format!(
                        "no boot argument `--{}` for the field `{}`",
                        field.arg, field.ident
                    ))
                    .at_span(
                        file,
                        field.span.clone(),
                        format!("`{}::{}` reads `--{}`", s.name, field.ident, field.arg),
                    );
                    if let Some(dev) = self.get(&field.arg) {
                        d = d.with_note(format!(
                            "`--{}` is declared by {}: the application cannot read it",
                            field.arg,
                            dev.place()
                        ));
                    } else if let Some(close) =
                        did_you_mean(&field.arg, app.iter().map(|a| a.name.value.as_str()))
                    {
                        d = d.with_help(format!(
                            "did you mean `{close}`? (or `#[arg(name = \"{close}\")]`)"
                        ));
                    }
                    diags.push(d.with_help(format!(
                        "declare it in unikernel.toml:\n[args.{}]\ntype = \"string\"\ndoc = \"...\"",
                        field.arg
                    )));
                    continue;
                };
                if Kind::parse_name(&spec.ty.value).is_none() {
                    // The declaration's unknown type is the error (reported by
                    // `check_app_arg`); no Rust type can match it.
                    continue;
                }
                let decl = decl_of(spec);
                if let Err(why) = field_matches(&field.shape, &decl) {
                    diags.push(
                        Diagnostic::error(format!(
                            "the field `{}` does not match the boot argument `--{}`",
                            field.ident, field.arg
                        ))
                        .at_span(file, field.ty_span.clone(), why)
                        .with_label(Label::new(
                            &manifest.file,
                            spec.ty.span.clone(),
                            format!("`--{}` is declared here", field.arg),
                        ))
                        .with_help(format!(
                            "for this declaration, use `{}`",
                            rust_type_for(&decl)
                        )),
                    );
                }
            }
            let read: BTreeSet<&str> = s.fields.iter().map(|f| f.arg.as_str()).collect();
            for spec in &app {
                if !read.contains(spec.name.value.as_str()) {
                    warnings.push(
                        Diagnostic::warning(format!(
                            "the boot argument `--{}` is not read by `{}`",
                            spec.name.value, s.name
                        ))
                        .at_span(&manifest.file, spec.name.span.clone(), "declared here")
                        .with_label(Label::new(
                            file,
                            s.span.clone(),
                            "this struct has no field for it",
                        )),
                    );
                }
            }
        }
    }

    /// The `bootargs.json` document.
    pub fn document<'a>(&'a self, unikernel: &'a str, target: Target) -> Document<'a> {
        Document {
            version: 1,
            unikernel,
            target,
            arguments: self
                .args
                .iter()
                .map(|a| JsonArg {
                    name: &a.decl.name,
                    ty: &a.decl.ty,
                    default: a.decl.default.as_deref(),
                    doc: &a.decl.doc,
                    section: &a.decl.section,
                    device: &a.device,
                    required: a.decl.required,
                    repeated: a.decl.repeated,
                })
                .collect(),
        }
    }

    /// `bootargs.json`, pretty-printed, ending with a newline.
    pub fn to_json(&self, unikernel: &str, target: Target) -> String {
        // Serialising plain structs of strings and booleans cannot fail.
        let mut s =
            serde_json::to_string_pretty(&self.document(unikernel, target)).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// `arg` renamed with its instance's prefix, and in a `--help` section of its own; `None`
/// (reported) when the prefixed name breaks the naming rule.
fn prefixed(
    manifest: &Manifest,
    instance: &Instance,
    prefix: &str,
    mut arg: BootArg,
    diags: &mut Diagnostics,
) -> Option<BootArg> {
    let name = format!("{prefix}{}", arg.decl.name);
    if let Err(why) = bootvar::check_name(&name) {
        let mut d = Diagnostic::error(format!(
            "the device `{}` cannot name its boot argument `--{name}`",
            instance.name
        ));
        d = match instance.group {
            Some(group) => d.at_span(&manifest.file, group.span.clone(), why),
            None => {
                let d = match manifest.device(instance.name) {
                    Some(decl) => d.at_span(&manifest.file, decl.name.span.clone(), why),
                    None => d.with_note(why),
                };
                d.with_note(format!(
                    "with several `{}` devices, each one's boot arguments start with its name",
                    instance.interface
                ))
            }
        };
        diags.push(d.with_help(
            "choose the prefix with `group = \"NAME\"` in the device's table (a-z, 0-9 and '-')",
        ));
        return None;
    }
    arg.decl.name = name;
    arg.decl.section = format!("{} ({})", arg.decl.section, instance.name);
    Some(arg)
}

/// Checks an application argument; reports and returns false when it is not valid.
fn check_app_arg(manifest: &Manifest, spec: &ArgSpec, diags: &mut Diagnostics) -> bool {
    let file: &Arc<SourceFile> = &manifest.file;
    let mut ok = true;
    if let Err(why) = bootvar::check_name(&spec.name.value) {
        diags.push(
            Diagnostic::error(format!("invalid boot-argument name `{}`", spec.name.value))
                .at_span(file, spec.name.span.clone(), why)
                .with_note("it is typed on the unikernel's command line as `--NAME=VALUE`"),
        );
        ok = false;
    }
    let Some(kind) = Kind::parse_name(&spec.ty.value) else {
        let mut d = Diagnostic::error(format!("unknown boot-argument type `{}`", spec.ty.value))
            .at_span(
                file,
                spec.ty.span.clone(),
                format!("expected one of: {}", list(KIND_NAMES)),
            );
        if let Some(s) = did_you_mean(&spec.ty.value, KIND_NAMES.iter().copied()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else if let Some(s) = rust_type_hint(&spec.ty.value) {
            d = d.with_help(format!("the type of a boot argument is written `{s}`"));
        }
        diags.push(d);
        return false;
    };
    if let Some(default) = &spec.default {
        let checked = if spec.repeated.as_ref().is_some_and(|r| r.value) {
            bootvar::check_default_list(kind, &default.value)
        } else {
            bootvar::check_default(kind, &default.value)
        };
        if let Err(why) = checked {
            diags.push(
                Diagnostic::error(format!(
                    "invalid default `{}` for the boot argument `--{}` of type `{}`",
                    default.value, spec.name.value, spec.ty.value
                ))
                .at_span(file, default.span.clone(), why),
            );
            ok = false;
        }
        if let Some(r) = spec.required.as_ref().filter(|r| r.value) {
            diags.push(
                Diagnostic::error(format!(
                    "the boot argument `--{}` is required and has a default",
                    spec.name.value
                ))
                .at_span(
                    file,
                    r.span.clone(),
                    "a required argument must be given, so its default is never used",
                )
                .with_label(Label::new(file, default.span.clone(), "the default"))
                .with_help("remove `required = true` or the default"),
            );
            ok = false;
        }
    }
    if let Some(section) = &spec.section
        && section.value.trim().is_empty()
    {
        diags.push(Diagnostic::error("empty `section`").at_span(
            file,
            section.span.clone(),
            "expected a section title such as \"APPLICATION OPTIONS\"",
        ));
        ok = false;
    }
    ok
}

/// Maps Rust type names a user may write by habit to the boot-argument type name.
fn rust_type_hint(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "String" | "str" | "&str" => "string",
        "boolean" | "Bool" => "bool",
        "Duration" => "duration",
        "Ipv4Addr" | "ip" => "ipv4",
        "Ipv6Addr" => "ipv6",
        "integer" | "i128" | "isize" => "int",
        "usize" | "u128" => "uint",
        _ => return None,
    })
}

/// Checks a declaration from an implementation's metadata.
fn check_decl(decl: &ArgDecl) -> Result<(), String> {
    bootvar::check_name(&decl.name)?;
    let kind = Kind::parse_name(&decl.ty).ok_or_else(|| format!("unknown type `{}`", decl.ty))?;
    if let Some(d) = &decl.default {
        let checked = if decl.repeated {
            bootvar::check_default_list(kind, d)
        } else {
            bootvar::check_default(kind, d)
        };
        checked.map_err(|e| format!("invalid default `{d}`: {e}"))?;
    }
    Ok(())
}

/// The Rust types (last path segment) that read a value of kind `ty`.
fn rust_types(ty: &str) -> &'static [&'static str] {
    match ty {
        "string" => &["String"],
        "bool" => &["bool"],
        "i8" => &["i8"],
        "i16" => &["i16"],
        "i32" => &["i32"],
        "i64" => &["i64"],
        "u8" => &["u8"],
        "u16" => &["u16"],
        "u32" => &["u32"],
        "u64" => &["u64"],
        "int" => &["i64", "isize"],
        "uint" => &["u64", "usize"],
        "duration" => &["Duration"],
        "ipv4" => &["Ipv4Addr"],
        "ipv6" => &["Ipv6Addr"],
        "ipv4-prefix" => &["Ipv4Prefix"],
        "ipv6-prefix" => &["Ipv6Prefix"],
        "mac" => &["MacAddr", "Mac"],
        _ => &[],
    }
}

/// The field type that reads `decl`, as a hint.
fn rust_type_for(decl: &ArgDecl) -> String {
    let t = rust_types(&decl.ty).first().copied().unwrap_or("String");
    if decl.repeated {
        format!("Vec<{t}>")
    } else if is_optional(decl) {
        format!("Option<{t}>")
    } else {
        t.to_string()
    }
}

/// An argument that may be absent: not required, no default, not repeated, not a flag.
fn is_optional(decl: &ArgDecl) -> bool {
    !decl.required && decl.default.is_none() && !decl.repeated && decl.ty != "bool"
}

/// Checks a field's type against a declaration.
fn field_matches(shape: &FieldType, decl: &ArgDecl) -> Result<(), String> {
    let expect = rust_types(&decl.ty);
    let (inner, kind) = match shape {
        FieldType::Plain(t) => (t, "plain"),
        FieldType::Optional(t) => (t, "option"),
        FieldType::List(t) => (t, "vec"),
        FieldType::Other => return Err(format!("expected `{}`", rust_type_for(decl))),
    };
    if !expect.contains(&inner.as_str()) {
        return Err(format!(
            "`{inner}` cannot hold a `{}` argument; expected `{}`",
            decl.ty,
            list(expect)
        ));
    }
    match kind {
        "vec" if !decl.repeated => Err("`Vec<_>` is for repeated arguments, and this one is not `repeated = true`".into()),
        "option" if !is_optional(decl) => Err(if decl.default.is_some() {
            "`Option<_>` is for arguments without a default; this one has a default, so it always has a value".into()
        } else {
            "`Option<_>` is for optional arguments; this one is required or repeated".into()
        }),
        "plain" if decl.repeated => Err("a repeated argument is read as `Vec<_>`".into()),
        "plain" if is_optional(decl) => {
            Err("this argument has no default and is not required, so it may be absent: read it as `Option<_>`".into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootvar_checks() {
        let ipv4_prefix = Kind::parse_name("ipv4-prefix").unwrap();
        assert!(bootvar::check_default(ipv4_prefix, "10.0.0.2/24").is_ok());
        assert!(bootvar::check_default(ipv4_prefix, "10.0.0.2/33").is_err());
        assert!(bootvar::check_default(Kind::parse_name("u16").unwrap(), "70000").is_err());
        assert!(bootvar::check_name("dns-servers").is_ok());
        assert!(bootvar::check_name("Help").is_err());
        for n in KIND_NAMES {
            assert!(Kind::parse_name(n).is_some(), "{n}");
        }
    }

    #[test]
    fn field_types() {
        let decl = |ty: &str, default: Option<&str>, repeated: bool| ArgDecl {
            name: "x".into(),
            ty: ty.into(),
            default: default.map(String::from),
            doc: "d".into(),
            section: DEFAULT_SECTION.into(),
            required: false,
            repeated,
        };
        assert!(
            field_matches(
                &FieldType::Plain("String".into()),
                &decl("string", Some("a"), false)
            )
            .is_ok()
        );
        assert!(
            field_matches(
                &FieldType::Plain("String".into()),
                &decl("string", None, false)
            )
            .is_err()
        );
        assert!(
            field_matches(
                &FieldType::Optional("u16".into()),
                &decl("u16", None, false)
            )
            .is_ok()
        );
        assert!(
            field_matches(
                &FieldType::List("Ipv4Addr".into()),
                &decl("ipv4", None, true)
            )
            .is_ok()
        );
        assert!(
            field_matches(
                &FieldType::Plain("u32".into()),
                &decl("u16", Some("1"), false)
            )
            .is_err()
        );
        assert!(
            field_matches(&FieldType::Plain("bool".into()), &decl("bool", None, false)).is_ok()
        );
    }
}
