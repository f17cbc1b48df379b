//! Configure-time keys: the registry of keys the catalogue and the unikernel declare, and
//! the resolution of each key's value.
//!
//! A key chooses between implementations at configure time (never at run time: run-time
//! choices are boot arguments). An interface crate declares the keys it owns in its
//! `[package.metadata.petrel.keys]` (`net` and `dhcp` for `stack`, `kv` for `kv_ro`); a
//! unikernel may declare its own in `[keys.NAME]`. Each key has a default per target;
//! `[keys]` in `unikernel.toml` overrides the default and the command line (`--key
//! NAME=VALUE`, or an alias such as `--net=`) overrides both.
//!
//! What a target cannot do is not written here: a value is possible on a target only if
//! some implementation whose `when` names that value supports the target ("the socket
//! stack exists only on unix" because the one implementation with `when = { net = "socket"
//! }` lists only unix). An error points at where the value came from.

use crate::catalogue::{Catalogue, Implementation, KeyDecl};
use crate::diagnostic::{Diagnostic, Diagnostics, Label, SourceFile, did_you_mean, list};
use crate::manifest::{KeyTable, Literal, Manifest, Reading};
use crate::target::Target;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Who declared a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The interface of that name (its crate's metadata).
    Interface(String),
    /// The unikernel, in `[keys.NAME]`.
    Unikernel,
}

/// The definition of one configure key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDef {
    /// Its name in `[keys]`, `when` tables and on the command line.
    pub name: String,
    /// Who declared it.
    pub owner: Owner,
    /// The declaration.
    pub decl: KeyDecl,
}

impl KeyDef {
    /// True for boolean keys (written `dhcp = false`).
    pub fn is_bool(&self) -> bool {
        self.decl.boolean
    }

    /// The default value for `target`.
    pub fn default_for(&self, target: Target) -> &str {
        self.decl.default_for(target)
    }
}

/// Every key that exists for one configuration: the catalogue's and the unikernel's, by
/// name, with the implementations that say on which targets each value exists.
#[derive(Debug, Clone)]
pub struct Registry<'a> {
    keys: BTreeMap<String, KeyDef>,
    implementations: &'a [Implementation],
}

impl<'a> Registry<'a> {
    /// The keys of `catalogue` and of the unikernel's `[keys.NAME]` tables. Checks that no
    /// key is declared twice and that every implementation's `when` and `features` name
    /// declared keys and values.
    pub fn new(catalogue: &'a Catalogue, table: &KeyTable) -> Result<Registry<'a>, Diagnostics> {
        let mut diags = Diagnostics::new();
        let mut keys: BTreeMap<String, KeyDef> = BTreeMap::new();
        for (name, interface, decl) in catalogue.keys() {
            if let Some(first) = keys.get(name) {
                let Owner::Interface(first) = &first.owner else {
                    continue;
                };
                diags.push(
                    Diagnostic::error(format!(
                        "the key `{name}` is declared by two interfaces: `{first}` and `{}`",
                        interface.name
                    ))
                    .at(Label::file(&package_file(&interface.package), ""))
                    .with_help("a key belongs to one interface: rename one of them"),
                );
                continue;
            }
            keys.insert(
                name.to_string(),
                KeyDef {
                    name: name.to_string(),
                    owner: Owner::Interface(interface.name.clone()),
                    decl: decl.clone(),
                },
            );
        }
        for spec in &table.decls {
            let name = &spec.name.value;
            if let Some(KeyDef {
                owner: Owner::Interface(owner),
                ..
            }) = keys.get(name)
            {
                diags.push(
                    Diagnostic::error(format!(
                        "the key `{name}` is already declared by the interface `{owner}`"
                    ))
                    .at_span(&table.file, spec.name.span.clone(), "declared again here")
                    .with_help(format!(
                        "set it with `{name} = ...` in `[keys]`, or give your key another name"
                    )),
                );
                continue;
            }
            match unikernel_decl(&table.file, spec) {
                Ok(decl) => {
                    keys.insert(
                        name.clone(),
                        KeyDef {
                            name: name.clone(),
                            owner: Owner::Unikernel,
                            decl,
                        },
                    );
                }
                Err(d) => diags.push(*d),
            }
        }
        for imp in &catalogue.implementations {
            let uses = imp.when.iter().map(|(k, v)| ("when", k, v)).chain(
                imp.features
                    .values()
                    .flatten()
                    .map(|(k, v)| ("features", k, v)),
            );
            for (field, key, value) in uses {
                if let Err(problem) = check_use(&keys, key, value) {
                    diags.push(
                        Diagnostic::error(format!(
                            "{} ({}): [package.metadata.petrel] {field}: {problem}",
                            imp.package,
                            imp.dir.join("Cargo.toml").display()
                        ))
                        .at(Label::file(
                            &SourceFile::new(imp.dir.join("Cargo.toml").display().to_string(), ""),
                            "",
                        )),
                    );
                }
            }
        }
        diags.into_result(Registry {
            keys,
            implementations: &catalogue.implementations,
        })
    }

    /// The key `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<&KeyDef> {
        self.keys.get(name)
    }

    /// Every key, by name.
    pub fn iter(&self) -> impl Iterator<Item = &KeyDef> {
        self.keys.values()
    }

    /// The targets where `key = value` exists, or `None` when every target has it (no
    /// implementation's `when` names that value).
    pub fn targets_of(&self, key: &str, value: &str) -> Option<Vec<Target>> {
        let mut with: Vec<&Implementation> = self
            .implementations
            .iter()
            .filter(|i| i.when.get(key).is_some_and(|v| v == value))
            .collect();
        if with.is_empty() {
            return None;
        }
        with.sort_by(|a, b| a.package.cmp(&b.package));
        Some(
            Target::ALL
                .into_iter()
                .filter(|t| with.iter().any(|i| i.targets.contains(t)))
                .collect(),
        )
    }

    /// The packages whose `when` names `key = value`.
    fn packages_with(&self, key: &str, value: &str) -> Vec<&str> {
        self.implementations
            .iter()
            .filter(|i| i.when.get(key).is_some_and(|v| v == value))
            .map(|i| i.package.as_str())
            .collect()
    }

    /// Whether `key = value` exists on `target`.
    fn possible(&self, key: &str, value: &str, target: Target) -> bool {
        self.targets_of(key, value)
            .is_none_or(|ts| ts.contains(&target))
    }
}

/// A crate's Cargo.toml, for a label that names only the file.
fn package_file(package: &str) -> Arc<SourceFile> {
    SourceFile::new(format!("<package {package}>"), String::new())
}

/// Checks that `key = value` in an implementation's metadata names a declared key and one of
/// its values.
fn check_use(keys: &BTreeMap<String, KeyDef>, key: &str, value: &str) -> Result<(), String> {
    let Some(def) = keys.get(key) else {
        let known: Vec<&str> = keys.keys().map(String::as_str).collect();
        let hint = did_you_mean(key, known.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(format!(
            "`{key} = {value}` names the key `{key}`, which no interface or unikernel declares{hint}"
        ));
    };
    if def.decl.values.iter().any(|v| v == value) {
        Ok(())
    } else {
        Err(format!(
            "`{key} = {value}`, but `{key}` is one of {}",
            def.decl.values.join(", ")
        ))
    }
}

/// The declaration of a `[keys.NAME]` table, checked.
fn unikernel_decl(
    file: &Arc<SourceFile>,
    spec: &crate::manifest::KeySpec,
) -> Result<KeyDecl, Box<Diagnostic>> {
    let name = &spec.name.value;
    let boolean = matches!(spec.default.value, Literal::Bool(_));
    let values: Vec<String> = if boolean {
        if let Some(v) = spec.values.first() {
            return Err(Box::new(
                Diagnostic::error(format!("the boolean key `{name}` has `values`"))
                    .at_span(
                        file,
                        v.span.clone(),
                        "a boolean key's values are true and false",
                    )
                    .with_help("remove `values`, or make `default` a string"),
            ));
        }
        vec!["true".into(), "false".into()]
    } else {
        spec.values.iter().map(|v| v.value.clone()).collect()
    };
    let default = spec.default.value.text();
    if !values.contains(&default) {
        let why = if values.is_empty() {
            "expected `values = [...]` listing it, or a boolean default".to_string()
        } else {
            format!("expected one of: {}", list(&values))
        };
        return Err(Box::new(
            Diagnostic::error(format!(
                "the default `{default}` of the key `{name}` is not one of its values"
            ))
            .at_span(file, spec.default.span.clone(), why),
        ));
    }
    Ok(KeyDecl {
        doc: spec.doc.value.clone(),
        values,
        boolean,
        default,
        defaults: BTreeMap::new(),
        limits: BTreeMap::new(),
    })
}

/// The keys given on the command line, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOverrides {
    values: BTreeMap<String, Typed>,
}

/// One key typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Typed {
    value: String,
    /// How it was written, ending with the value (`--net=socket`, `--key=tls=none`), for
    /// diagnostics and the suggestions they make.
    written: String,
    /// Replayed from the last configure: a key that no longer exists is dropped, not an
    /// error (the user did not type it today).
    replayed: bool,
}

impl KeyOverrides {
    /// No key given.
    pub fn new() -> KeyOverrides {
        KeyOverrides::default()
    }

    /// Key `name` given by its own flag (`--net=socket`; `--dhcp` is `dhcp` = `true`);
    /// `Err` when the command line already gave it another value.
    pub fn alias(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.insert(name, value, format!("--{name}={value}"), false)
    }

    /// `--key NAME=VALUE`; `Err` with a one-line reason when it is not `NAME=VALUE` or the
    /// key was already given another value.
    pub fn key_flag(&mut self, arg: &str) -> Result<(), String> {
        match arg.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                self.insert(name, value, format!("--key={name}={value}"), false)
            }
            _ => Err(format!(
                "invalid `--key {arg}`: expected NAME=VALUE, e.g. `--key net=direct`"
            )),
        }
    }

    /// Key `name` remembered from the last configure's command line.
    pub fn replay(&mut self, name: &str, value: &str) {
        // Replayed keys come from a map: each name once, so this cannot conflict.
        let _ = self.insert(name, value, format!("--key={name}={value}"), true);
    }

    fn insert(
        &mut self,
        name: &str,
        value: &str,
        written: String,
        replayed: bool,
    ) -> Result<(), String> {
        if let Some(first) = self.values.get(name)
            && first.value != value
        {
            return Err(format!(
                "the key `{name}` is given twice on the command line: `{}` and `{written}`",
                first.written
            ));
        }
        self.values.insert(
            name.to_string(),
            Typed {
                value: value.to_string(),
                written,
                replayed,
            },
        );
        Ok(())
    }

    /// True when no key was given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value given for key `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|t| t.value.as_str())
    }
}

/// Where a key's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySource {
    /// The target's default.
    Default,
    /// `[keys]` in `unikernel.toml`.
    Manifest,
    /// The command line.
    CommandLine,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeySource::Default => "default",
            KeySource::Manifest => "unikernel.toml",
            KeySource::CommandLine => "command line",
        })
    }
}

/// Where a value was written, for diagnostics and suggestions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// Nowhere: the default.
    Default,
    /// In `[keys]`, at this label.
    File(Label),
    /// On the command line, at this label; `prefix` + value is how it was typed.
    CommandLine { label: Label, prefix: String },
}

/// One resolved key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key's definition.
    pub def: KeyDef,
    /// Its value (`"true"`/`"false"` for booleans).
    pub value: String,
    /// Where the value came from.
    pub source: KeySource,
    place: Place,
}

impl KeyValue {
    /// `net = socket (default)`: the key, its value and where it came from.
    pub fn describe(&self) -> String {
        format!("{} = {} ({})", self.def.name, self.value, self.source)
    }

    /// How to write `value` for this key where the user wrote it.
    fn spelled(&self, value: &str) -> String {
        match &self.place {
            Place::CommandLine { prefix, .. } => format!("--{prefix}{value}"),
            _ if self.def.is_bool() => format!("{} = {value}", self.def.name),
            _ => format!("{} = \"{value}\"", self.def.name),
        }
    }

    /// Where the value was written, carrying `message`.
    fn label(&self, message: String) -> Label {
        match &self.place {
            Place::File(l) | Place::CommandLine { label: l, .. } => Label {
                message,
                ..l.clone()
            },
            Place::Default => Label::file(&SourceFile::new("<default>", String::new()), message),
        }
    }
}

/// Every key with its value, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// The keys.
    pub values: Vec<KeyValue>,
}

impl Keys {
    /// The key `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<&KeyValue> {
        self.values.iter().find(|k| k.def.name == name)
    }

    /// The value of key `name`, if it exists.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|k| k.value.as_str())
    }

    /// The Cargo features configure enables on `imp` for `target`: its `target-features`
    /// for the target, then each `features` entry whose key values all hold.
    pub fn features_for(&self, imp: &Implementation, target: Target) -> Vec<String> {
        let mut features = imp
            .target_features
            .get(&target)
            .cloned()
            .unwrap_or_default();
        for (feature, when) in &imp.features {
            if when.iter().all(|(k, v)| self.value(k) == Some(v.as_str())) {
                features.push(feature.clone());
            }
        }
        features
    }
}

/// Resolves every key of `catalogue` and of the unikernel's `[keys]` table: command line,
/// else `[keys]`, else the target's default; then checks each value is allowed and exists
/// on `target`.
pub fn resolve(
    catalogue: &Catalogue,
    table: &KeyTable,
    target: Target,
    overrides: &KeyOverrides,
) -> Result<Keys, Diagnostics> {
    let registry = Registry::new(catalogue, table)?;
    let mut diags = Diagnostics::new();
    let names: Vec<&str> = registry.iter().map(|k| k.name.as_str()).collect();
    for s in &table.settings {
        if registry.get(&s.name.value).is_none() {
            diags.push(unknown_key(
                &s.name.value,
                Label::new(&table.file, s.name.span.clone(), ""),
                "`[keys]`",
                &names,
                None,
            ));
        }
    }
    for (name, typed) in &overrides.values {
        if registry.get(name).is_none() && !typed.replayed {
            let file = SourceFile::new("<command line>", typed.written.clone());
            let start = typed.written.len() - typed.value.len() - 1 - name.len();
            let label = Label::new(&file, start..start + name.len(), "");
            let cli = Some(typed.value.as_str());
            diags.push(unknown_key(name, label, "the command line", &names, cli));
        }
    }
    let mut values = Vec::new();
    for def in registry.iter() {
        // `[keys]` is checked even where the command line overrides it: a value that is
        // wrong in the file is wrong whatever was typed today.
        let written = match table.setting(&def.name) {
            Some(s) => match written_value(def, &table.file, s) {
                Ok(kv) => Some(kv),
                Err(d) => {
                    diags.push(*d);
                    continue;
                }
            },
            None => None,
        };
        let kv = if let Some(typed) = overrides.values.get(&def.name) {
            if let Some(Err(d)) = written.as_ref().map(check_allowed) {
                diags.push(*d);
            }
            let file = SourceFile::new("<command line>", typed.written.clone());
            let start = typed.written.len() - typed.value.len();
            KeyValue {
                def: def.clone(),
                value: typed.value.clone(),
                source: KeySource::CommandLine,
                place: Place::CommandLine {
                    label: Label::new(&file, start..typed.written.len(), ""),
                    prefix: typed.written[2..start].to_string(),
                },
            }
        } else if let Some(kv) = written {
            kv
        } else {
            KeyValue {
                def: def.clone(),
                value: def.default_for(target).to_string(),
                source: KeySource::Default,
                place: Place::Default,
            }
        };
        if let Err(d) = check_value(&registry, &kv, target) {
            diags.push(*d);
        } else {
            values.push(kv);
        }
    }
    diags.into_result(Keys { values })
}

/// The manifest of `reading` and its keys, resolved against `catalogue`. When the manifest
/// has problems, its `[keys]` table is still checked, so that every problem of the file is
/// reported at once, in file order.
pub fn resolve_reading(
    reading: Reading,
    catalogue: &Catalogue,
    target: Target,
    overrides: &KeyOverrides,
) -> Result<(Manifest, Keys), Diagnostics> {
    match reading.manifest {
        Ok(m) => {
            let keys = resolve(catalogue, &m.keys, target, overrides)?;
            Ok((m, keys))
        }
        Err(mut d) => {
            if let Some(table) = &reading.keys
                && let Err(more) = resolve(catalogue, table, target, overrides)
            {
                d.extend(more);
                d.sort();
            }
            Err(d)
        }
    }
}

/// "unknown key" at `label`, listing the keys that exist; `cli` is the value typed with it on
/// the command line.
fn unknown_key(
    name: &str,
    label: Label,
    place: &str,
    names: &[&str],
    cli: Option<&str>,
) -> Diagnostic {
    let shown: String = name.chars().take(40).collect();
    let mut d = Diagnostic::error(format!("unknown key `{shown}` in {place}")).at(Label {
        message: format!("expected one of: {}", list(names)),
        ..label
    });
    if let Some(s) = did_you_mean(name, names.iter().copied()) {
        d = d.with_help(match cli {
            Some(value) => format!("did you mean `--key={s}={value}`?"),
            None => format!("did you mean `{s}`?"),
        });
    } else if names.is_empty() {
        d = d.with_note("no interface in the catalogue and no `[keys.NAME]` table declares a key");
    }
    d
}

/// A `[keys]` setting as a value of `def`, or an error if its type is wrong (a string for a
/// boolean key, or the reverse).
fn written_value(
    def: &KeyDef,
    file: &Arc<SourceFile>,
    s: &crate::manifest::KeySetting,
) -> Result<KeyValue, Box<Diagnostic>> {
    let span = s.value.span.clone();
    let what = format!("the key `{}`", def.name);
    match (&s.value.value, def.is_bool()) {
        (Literal::Str(text), true) => {
            let mut d = Diagnostic::error(format!("{what} must be a boolean")).at_span(
                file,
                span,
                "expected `true` or `false`, found a string",
            );
            if text == "true" || text == "false" {
                d = d.with_help(format!("write `{text}` without quotes"));
            }
            Err(Box::new(d))
        }
        (Literal::Bool(b), false) => Err(Box::new(
            Diagnostic::error(format!("{what} must be a string"))
                .at_span(file, span, "expected a string, found a boolean")
                .with_help(format!(
                    "write `\"{b}\"`, one of: {}",
                    list(&def.decl.values)
                )),
        )),
        (v, _) => Ok(KeyValue {
            def: def.clone(),
            value: v.text(),
            source: KeySource::Manifest,
            place: Place::File(Label::new(file, span, "")),
        }),
    }
}

/// Checks one key's value: allowed at all, and existing on `target`.
fn check_value(
    registry: &Registry<'_>,
    kv: &KeyValue,
    target: Target,
) -> Result<(), Box<Diagnostic>> {
    check_allowed(kv)?;
    let def = &kv.def;
    if registry.possible(&def.name, &kv.value, target) {
        return Ok(());
    }
    let on = registry
        .targets_of(&def.name, &kv.value)
        .unwrap_or_default();
    let on = list(on.iter().map(|t| t.name()));
    let reason = match def.decl.limits.get(&kv.value) {
        Some(l) => format!("{} exists only on {on}: {}", l.what, l.why),
        None => format!(
            "`{} = {}` exists only on {on} (it chooses {})",
            def.name,
            kv.value,
            list(registry.packages_with(&def.name, &kv.value))
        ),
    };
    let message = format!("`{} = {}` is not available on {target}", def.name, kv.value);
    let default = def.default_for(target);
    let instead = std::iter::once(default)
        .chain(def.decl.values.iter().map(String::as_str))
        .find(|v| *v != kv.value && registry.possible(&def.name, v, target));
    let mut d = Diagnostic::error(message).at(kv.label(reason));
    if let Some(v) = instead {
        d = d.with_help(format!("use `{}`", kv.spelled(v)));
    }
    Err(Box::new(d))
}

/// Checks that `kv`'s value is one of its key's values.
fn check_allowed(kv: &KeyValue) -> Result<(), Box<Diagnostic>> {
    let def = &kv.def;
    if def.decl.values.contains(&kv.value) {
        return Ok(());
    }
    let mut d = Diagnostic::error(format!(
        "invalid value `{}` for the key `{}`",
        kv.value, def.name
    ))
    .at(kv.label(format!("expected one of: {}", list(&def.decl.values))))
    .with_note(def.decl.doc.clone());
    if let Some(s) = did_you_mean(&kv.value, def.decl.values.iter().map(String::as_str)) {
        d = d.with_help(format!("did you mean `{}`?", kv.spelled(s)));
    }
    Err(Box::new(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::test_package as package;
    use serde_json::json;

    /// The built-in keys' shape: `stack` owns `net` and `dhcp`, `kv_ro` owns `kv`.
    fn catalogue() -> Catalogue {
        crate::catalogue::from_packages(&[
            package("petrel-stack", json!({"interface": "stack", "kind": "device", "handle": "Stack", "keys": {
                "net": {"doc": "The network stack.", "values": ["socket", "direct"], "default": "direct", "defaults": {"unix": "socket"},
                        "limits": {"socket": {"what": "the socket stack", "why": "it uses the host's sockets"}}},
                "dhcp": {"doc": "DHCP.", "default": true}}})),
            package("petrel-kv-ro", json!({"interface": "kv_ro", "kind": "device", "handle": "KvRo", "keys": {
                "kv": {"doc": "Stores.", "values": ["crunch", "direct"], "default": "crunch"}}})),
            package("petrel-stack-socket", json!({"implements": "stack", "targets": ["unix"], "when": {"net": "socket"}})),
            package("petrel-stack-direct", json!({"implements": "stack", "targets": ["unix", "hvt", "spt", "virtio", "xen"], "when": {"net": "direct"},
                "features": {"dhcp": {"dhcp": "true"}}, "target-features": {"spt": ["spt"]}})),
            package("petrel-kv-ro-direct", json!({"implements": "kv_ro", "targets": ["unix"], "when": {"kv": "direct"}})),
        ])
        .expect("valid test catalogue")
    }

    fn table(keys: &str) -> KeyTable {
        let text = format!("[unikernel]\nname = \"k\"\n[keys]\n{keys}");
        crate::manifest::parse(SourceFile::new("unikernel.toml", text))
            .expect("valid manifest")
            .keys
    }

    fn resolve_err(keys: &str, target: Target, o: &KeyOverrides) -> String {
        resolve(&catalogue(), &table(keys), target, o)
            .expect_err("an error")
            .render()
    }

    #[test]
    fn defaults_per_target() {
        let c = catalogue();
        let k = resolve(&c, &table(""), Target::Unix, &KeyOverrides::new()).unwrap();
        assert_eq!(k.value("net"), Some("socket"));
        let k = resolve(&c, &table(""), Target::Hvt, &KeyOverrides::new()).unwrap();
        assert_eq!(k.value("net"), Some("direct"));
        assert_eq!(k.get("dhcp").unwrap().describe(), "dhcp = true (default)");
    }

    #[test]
    fn command_line_wins() {
        let mut o = KeyOverrides::new();
        o.alias("net", "socket").unwrap();
        let k = resolve(
            &catalogue(),
            &table("net = \"direct\"\ndhcp = false"),
            Target::Unix,
            &o,
        )
        .unwrap();
        assert_eq!(k.get("net").unwrap().source, KeySource::CommandLine);
        assert_eq!(
            k.get("dhcp").unwrap().describe(),
            "dhcp = false (unikernel.toml)"
        );
    }

    #[test]
    fn values_missing_on_a_target_are_derived_from_the_implementations() {
        let e = resolve_err("net = \"socket\"", Target::Hvt, &KeyOverrides::new());
        assert!(
            e.contains("the socket stack exists only on unix: it uses the host's sockets"),
            "{e}"
        );
        assert!(e.contains("unikernel.toml:4:7"), "{e}");
        assert!(e.contains("use `net = \"direct\"`"), "{e}");
        let mut o = KeyOverrides::new();
        o.alias("kv", "direct").unwrap();
        o.alias("net", "sockt").unwrap();
        let e = resolve_err("", Target::Xen, &o);
        assert!(e.contains("<command line>:1:7"), "{e}");
        assert!(e.contains("did you mean `--net=socket`?"), "{e}");
        // No `limits` wording for kv: the reason names the implementation.
        assert!(
            e.contains("`kv = direct` exists only on unix (it chooses petrel-kv-ro-direct)"),
            "{e}"
        );
        assert!(e.contains("use `--kv=crunch`"), "{e}");
    }

    #[test]
    fn keys_table_is_checked_even_when_overridden() {
        let mut o = KeyOverrides::new();
        o.alias("net", "socket").unwrap();
        let e = resolve_err("net = \"bogus\"", Target::Unix, &o);
        assert!(e.contains("invalid value `bogus` for the key `net`"), "{e}");
        assert!(e.contains("unikernel.toml:4:7"), "{e}");
    }

    #[test]
    fn unknown_keys_are_spanned_with_a_suggestion() {
        let e = resolve_err("nte = \"direct\"", Target::Unix, &KeyOverrides::new());
        assert!(e.contains("unknown key `nte` in `[keys]`"), "{e}");
        assert!(e.contains("expected one of: dhcp, kv, net"), "{e}");
        assert!(e.contains("did you mean `net`?"), "{e}");
        let mut o = KeyOverrides::new();
        o.key_flag("dhcpp=true").unwrap();
        let e = resolve_err("", Target::Unix, &o);
        assert!(e.contains("<command line>:1:7"), "{e}");
        assert!(e.contains("did you mean `--key=dhcp=true`?"), "{e}");
        assert!(o.key_flag("net").is_err());
        assert!(
            o.key_flag("dhcpp=true").is_ok(),
            "the same value twice is fine"
        );
        let e = o.key_flag("dhcpp=false").unwrap_err();
        assert!(
            e.contains("`--key=dhcpp=true` and `--key=dhcpp=false`"),
            "{e}"
        );
        // A key remembered from an older configure that no longer exists is dropped.
        let mut o = KeyOverrides::new();
        o.replay("colour", "red");
        assert!(resolve(&catalogue(), &table(""), Target::Unix, &o).is_ok());
    }

    #[test]
    fn type_mismatches_say_how_to_write_the_value() {
        let e = resolve_err("dhcp = \"false\"", Target::Unix, &KeyOverrides::new());
        assert!(e.contains("the key `dhcp` must be a boolean"), "{e}");
        assert!(e.contains("write `false` without quotes"), "{e}");
        let e = resolve_err("net = true", Target::Unix, &KeyOverrides::new());
        assert!(e.contains("the key `net` must be a string"), "{e}");
    }

    #[test]
    fn unikernel_keys() {
        let t = table(
            "flavour = \"fancy\"\n[keys.mode]\ndoc = \"Mode.\"\nvalues = [\"a\", \"b\"]\ndefault = \"a\"\n",
        );
        // `flavour` is set but declared nowhere.
        let e = resolve(&catalogue(), &t, Target::Unix, &KeyOverrides::new())
            .unwrap_err()
            .render();
        assert!(e.contains("unknown key `flavour`"), "{e}");
        let t = table("[keys.mode]\ndoc = \"Mode.\"\nvalues = [\"a\", \"b\"]\ndefault = \"a\"\n");
        let mut o = KeyOverrides::new();
        o.key_flag("mode=b").unwrap();
        let k = resolve(&catalogue(), &t, Target::Hvt, &o).unwrap();
        assert_eq!(k.get("mode").unwrap().describe(), "mode = b (command line)");
        let t = table("[keys.net]\ndoc = \"Mine.\"\ndefault = false\n");
        let e = resolve(&catalogue(), &t, Target::Unix, &KeyOverrides::new())
            .unwrap_err()
            .render();
        assert!(
            e.contains("already declared by the interface `stack`"),
            "{e}"
        );
        let t = table("[keys.mode]\ndoc = \"Mode.\"\nvalues = [\"a\"]\ndefault = \"c\"\n");
        let e = resolve(&catalogue(), &t, Target::Unix, &KeyOverrides::new())
            .unwrap_err()
            .render();
        assert!(
            e.contains("the default `c` of the key `mode` is not one of its values"),
            "{e}"
        );
    }

    #[test]
    fn a_key_belongs_to_one_interface() {
        let mut c = catalogue();
        let other = crate::catalogue::from_packages(&[package(
            "petrel-other",
            json!({"interface": "other", "kind": "service", "keys": {"net": {"doc": "Mine.", "default": false}}}),
        )])
        .unwrap();
        c.interfaces.extend(other.interfaces);
        let e = resolve(&c, &table(""), Target::Unix, &KeyOverrides::new())
            .unwrap_err()
            .render();
        assert!(
            e.contains("the key `net` is declared by two interfaces: `other` and `stack`"),
            "{e}"
        );
    }

    #[test]
    fn features_follow_the_keys() {
        let c = catalogue();
        let imp = c
            .implementations
            .iter()
            .find(|i| i.package == "petrel-stack-direct")
            .unwrap();
        let keys = |dhcp: &str| {
            let mut o = KeyOverrides::new();
            o.alias("dhcp", dhcp).unwrap();
            resolve(&c, &table(""), Target::Spt, &o).expect("valid keys")
        };
        assert_eq!(keys("true").features_for(imp, Target::Spt), ["spt", "dhcp"]);
        assert_eq!(keys("false").features_for(imp, Target::Spt), ["spt"]);
        assert!(keys("false").features_for(imp, Target::Unix).is_empty());
    }

    #[test]
    fn implementations_name_declared_keys_and_values() {
        for (petrel, wanted) in [
            (
                json!({"implements": "stack", "targets": ["unix"], "features": {"dhcp": {"colour": "red"}}}),
                "features: `colour = red` names the key `colour`, which no interface or unikernel declares",
            ),
            (
                json!({"implements": "stack", "targets": ["unix"], "features": {"dhcp": {"dhcp": "yes"}}}),
                "features: `dhcp = yes`, but `dhcp` is one of true, false",
            ),
            (
                json!({"implements": "stack", "targets": ["unix"], "when": {"nte": "x"}}),
                "(did you mean `net`?)",
            ),
        ] {
            let mut c = catalogue();
            let extra = crate::catalogue::from_packages(&[package("bad", petrel)]).unwrap();
            c.implementations.extend(extra.implementations);
            let e = resolve(&c, &table(""), Target::Unix, &KeyOverrides::new())
                .unwrap_err()
                .render();
            assert!(e.contains(wanted), "{e}");
            assert!(e.contains("bad (/x/bad/Cargo.toml)"), "{e}");
        }
        // A key the unikernel declares may be named too.
        let mut c = catalogue();
        let extra = crate::catalogue::from_packages(&[package(
            "mine",
            json!({"implements": "stack", "targets": ["unix"], "when": {"mode": "b"}}),
        )])
        .unwrap();
        c.implementations.extend(extra.implementations);
        let t = table("[keys.mode]\ndoc = \"Mode.\"\nvalues = [\"a\", \"b\"]\ndefault = \"a\"\n");
        assert!(resolve(&c, &t, Target::Unix, &KeyOverrides::new()).is_ok());
    }
}
