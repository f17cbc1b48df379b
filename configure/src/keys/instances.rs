//! Keys of one device instance: `[devices.NAME] keys = { kv = "direct" }` and
//! `--key NAME.kv=direct`, so that two instances of one interface can be built differently
//! (one store crunched, the other read from the host).
//!
//! An instance has the keys its interface declares (`kv` for a `kv_ro` device, `net` and
//! `dhcp` for a `stack`). Its value of a key is, first found: `--key INSTANCE.KEY=` on the
//! command line, then `--key KEY=` (the plain key on the command line means every instance),
//! then its device table's `keys`, then the unikernel's value of the key (`[keys]` or the
//! target's default). Only the instances that differ from the unikernel's value get an entry.

use super::*;
use crate::manifest::DeviceDecl;

/// Resolves the instance keys of `devices` against `registry`, after the unikernel's keys
/// `globals`. Returns the instances' own values by instance name, or every error.
pub(super) fn resolve_instances(
    registry: &Registry<'_>,
    file: &Arc<SourceFile>,
    devices: &[DeviceDecl],
    globals: &[KeyValue],
    target: Target,
    overrides: &KeyOverrides,
) -> Result<BTreeMap<String, Vec<KeyValue>>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut out: BTreeMap<String, Vec<KeyValue>> = BTreeMap::new();
    for (instance, name, typed) in overrides.instance_keys() {
        let Some(device) = devices.iter().find(|d| d.name.value == instance) else {
            if !typed.replayed {
                diags.push(unknown_instance(instance, typed, devices));
            }
            continue;
        };
        if let Err(d) = owned_by(registry, device, name, || cli_label(typed, name))
            && !typed.replayed
        {
            diags.push(*d);
        }
    }
    for device in devices {
        for s in &device.keys {
            let label = || Label::new(file, s.name.span.clone(), "");
            if let Err(d) = owned_by(registry, device, &s.name.value, label) {
                diags.push(*d);
            }
        }
    }
    for device in devices {
        let instance = &device.name.value;
        let typed_here = overrides.instances.get(instance.as_str());
        for def in registry.iter() {
            if def.owner != Owner::Interface(device.ty.value.clone()) {
                continue;
            }
            let written = match device.keys.iter().find(|s| s.name.value == def.name) {
                Some(s) => match written_value(def, file, s) {
                    Ok(kv) => Some(kv),
                    Err(d) => {
                        diags.push(own(*d, instance));
                        continue;
                    }
                },
                None => None,
            };
            let kv = match typed_here.and_then(|t| t.get(&def.name)) {
                Some(typed) => {
                    if let Some(Err(d)) = written.as_ref().map(check_allowed) {
                        diags.push(own(*d, instance));
                    }
                    typed_value(def, typed)
                }
                // The plain key typed on the command line means every instance.
                None if overrides.values.contains_key(&def.name) => continue,
                None => match written {
                    Some(kv) => kv,
                    None => continue,
                },
            };
            if globals
                .iter()
                .any(|g| g.def.name == kv.def.name && g.value == kv.value)
            {
                continue;
            }
            match check_value(registry, &kv, target) {
                Ok(()) => out.entry(instance.clone()).or_default().push(kv),
                Err(d) => diags.push(own(*d, instance)),
            }
        }
    }
    diags.into_result(out)
}

/// `d`, about a value of the device `instance` only, saying so.
fn own(d: Diagnostic, instance: &str) -> Diagnostic {
    d.with_note(format!("set for the device `{instance}` only"))
}

/// The value of `def` typed on the command line as `typed`.
pub(super) fn typed_value(def: &KeyDef, typed: &Typed) -> KeyValue {
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
}

/// The label of the key name `name` in the command-line argument `typed`
/// (`--key=storage.kv=direct`).
fn cli_label(typed: &Typed, name: &str) -> Label {
    let file = SourceFile::new("<command line>", typed.written.clone());
    let end = typed.written.len() - typed.value.len() - 1;
    Label::new(&file, end - name.len()..end, "")
}

/// Checks that `device`'s interface declares the key `name`; the error is at `label()`.
fn owned_by(
    registry: &Registry<'_>,
    device: &DeviceDecl,
    name: &str,
    label: impl FnOnce() -> Label,
) -> Result<(), Box<Diagnostic>> {
    let interface = &device.ty.value;
    let own: Vec<&str> = registry
        .iter()
        .filter(|k| k.owner == Owner::Interface(interface.clone()))
        .map(|k| k.name.as_str())
        .collect();
    if own.contains(&name) {
        return Ok(());
    }
    let shown: String = name.chars().take(40).collect();
    let mut d = Diagnostic::error(format!(
        "the device `{}` (type `{interface}`) has no key `{shown}`",
        device.name.value
    ))
    .at(Label {
        message: if own.is_empty() {
            format!("the interface `{interface}` declares no configure key")
        } else {
            format!("expected one of: {}", list(&own))
        },
        ..label()
    });
    match registry.get(name).map(|k| &k.owner) {
        Some(Owner::Interface(other)) => {
            d = d.with_note(format!(
                "`{shown}` is a key of the `{other}` interface: set it on a `{other}` device, or for every instance with `{shown} = ...` in `[keys]`"
            ));
        }
        Some(Owner::Unikernel) => {
            d = d.with_note(format!(
                "`{shown}` is the unikernel's own key: set it in `[keys]`, not per device"
            ));
        }
        None => {
            if let Some(s) = did_you_mean(name, own.iter().copied()) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
        }
    }
    Err(Box::new(d))
}

/// "no device `X`" for `--key X.NAME=VALUE`, listing the declared devices.
fn unknown_instance(instance: &str, typed: &Typed, devices: &[DeviceDecl]) -> Diagnostic {
    let file = SourceFile::new("<command line>", typed.written.clone());
    let start = "--key=".len().min(typed.written.len());
    let end = (start + instance.len()).min(typed.written.len());
    let names: Vec<&str> = devices.iter().map(|d| d.name.value.as_str()).collect();
    let shown: String = instance.chars().take(40).collect();
    let mut d = Diagnostic::error(format!(
        "no device `{shown}` in unikernel.toml for `{}`",
        typed.written
    ))
    .at(Label::new(
        &file,
        start..end,
        if names.is_empty() {
            "unikernel.toml declares no device".to_string()
        } else {
            format!("its devices: {}", list(&names))
        },
    ));
    if let Some(s) = did_you_mean(instance, names.iter().copied()) {
        d = d.with_help(format!("did you mean `{s}`?"));
    }
    d
}
