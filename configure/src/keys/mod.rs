//! Configure-time keys: the registry of keys the catalogue and the unikernel declare, and
//! the resolution of each key's value.
//!
//! A key chooses between implementations at configure time (never at run time: run-time
//! choices are boot arguments). An interface crate declares the keys it owns in its
//! `[package.metadata.petrel.keys]` (`net` and `dhcp` for `stack`, `kv` for `kv_ro`); a
//! unikernel may declare its own in `[keys.NAME]`. Each key has a default per target;
//! `[keys]` in `unikernel.toml` overrides the default and the command line (`--key
//! NAME=VALUE`, or an alias such as `--net=`) overrides both. A device instance may have its
//! own value of its interface's keys (`[devices.NAME] keys = { kv = "direct" }`, `--key
//! NAME.kv=direct`): see the `instances` module.
//!
//! What a target cannot do is not written here: a value is possible on a target only if
//! some implementation whose `when` names that value supports the target ("the socket
//! stack exists only on unix" because the one implementation with `when = { net = "socket"
//! }` lists only unix). An error points at where the value came from.

mod instances;
mod overrides;
mod registry;

pub use overrides::KeyOverrides;
pub use registry::{KeyDef, Owner, Registry};

use crate::catalogue::{Catalogue, Implementation, KeyDecl};
use crate::diagnostic::{Diagnostic, Diagnostics, Label, SourceFile, did_you_mean, list};
use crate::manifest::{DeviceDecl, KeyTable, Literal, Manifest, Reading};
use crate::target::Target;
use overrides::Typed;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

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
    /// The device instances whose own keys differ from [`Keys::values`]: by instance name,
    /// those keys.
    pub instances: BTreeMap<String, Vec<KeyValue>>,
}

impl Keys {
    /// The keys as `instance` sees them: its own values over the unikernel's.
    pub fn for_instance(&self, instance: &str) -> Keys {
        let Some(own) = self.instances.get(instance) else {
            return Keys {
                values: self.values.clone(),
                instances: BTreeMap::new(),
            };
        };
        let values = self
            .values
            .iter()
            .map(|k| {
                own.iter()
                    .find(|o| o.def.name == k.def.name)
                    .unwrap_or(k)
                    .clone()
            })
            .collect();
        Keys {
            values,
            instances: BTreeMap::new(),
        }
    }

    /// The keys typed on the command line, as `.petrel/state.json` remembers them: `kv`, and
    /// `storage.kv` for one instance.
    pub fn command_line(&self) -> BTreeMap<String, String> {
        let typed = |k: &&KeyValue| k.source == KeySource::CommandLine;
        let own = self.instances.iter().flat_map(|(instance, keys)| {
            keys.iter()
                .filter(typed)
                .map(move |k| (format!("{instance}.{}", k.def.name), k.value.clone()))
        });
        self.values
            .iter()
            .filter(typed)
            .map(|k| (k.def.name.clone(), k.value.clone()))
            .chain(own)
            .collect()
    }

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
/// on `target`. Keys given for one instance are errors here (there are no devices): see
/// [`resolve_with_devices`].
pub fn resolve(
    catalogue: &Catalogue,
    table: &KeyTable,
    target: Target,
    overrides: &KeyOverrides,
) -> Result<Keys, Diagnostics> {
    resolve_with_devices(catalogue, table, Some(&[]), target, overrides)
}

/// [`resolve`], and the keys of each of `devices` (`None` when the devices are not known
/// because unikernel.toml has errors: instance keys are then not checked).
pub fn resolve_with_devices(
    catalogue: &Catalogue,
    table: &KeyTable,
    devices: Option<&[DeviceDecl]>,
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
            instances::typed_value(def, typed)
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
    let instances = match devices {
        Some(devices) => instances::resolve_instances(
            &registry,
            &table.file,
            devices,
            &values,
            target,
            overrides,
        )
        .map_err(|d| diags.extend(d))
        .unwrap_or_default(),
        None => BTreeMap::new(),
    };
    diags.into_result(Keys { values, instances })
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
            let keys =
                resolve_with_devices(catalogue, &m.keys, Some(&m.devices), target, overrides)?;
            Ok((m, keys))
        }
        Err(mut d) => {
            if let Some(table) = &reading.keys
                && let Err(more) = resolve_with_devices(catalogue, table, None, target, overrides)
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
mod tests;
