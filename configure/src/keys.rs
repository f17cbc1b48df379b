//! Configure-time keys: `net`, `dhcp`, `kv`.
//!
//! A key chooses between implementations at configure time (never at run time: run-time
//! choices are boot arguments). Each key has a default per target; `[keys]` in
//! `unikernel.toml` overrides the default and the command line (`--net=`, `--dhcp`/`--no-dhcp`,
//! `--kv=`) overrides both. A target may forbid a value ("the socket stack exists only on
//! unix"): that is an error pointing at where the value came from.

use crate::diagnostic::{Diagnostic, Diagnostics, Label, SourceFile, did_you_mean, list};
use crate::manifest::Manifest;
use crate::target::Target;
use std::fmt;

/// The definition of one configure key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDef {
    /// Its name in `[keys]`, `when` tables and on the command line (`--net`).
    pub name: &'static str,
    /// One line for `--help` and `describe`.
    pub doc: &'static str,
    /// The allowed values (`true`/`false` for booleans).
    pub values: &'static [&'static str],
    /// The default on unix.
    pub default_unix: &'static str,
    /// The default on every other target.
    pub default_other: &'static str,
}

impl KeyDef {
    /// True for boolean keys (written `dhcp = false`, `--dhcp`/`--no-dhcp`).
    pub fn is_bool(&self) -> bool {
        self.values == ["true", "false"]
    }

    /// The default value for `target`.
    pub fn default_for(&self, target: Target) -> &'static str {
        if target == Target::Unix {
            self.default_unix
        } else {
            self.default_other
        }
    }
}

/// Every configure key, in the order `describe` shows them.
pub const KEYS: [KeyDef; 3] = [
    KeyDef {
        name: "net",
        doc: "The network stack: `socket` uses the host's sockets (unix only), `direct` is the unikernel's own TCP/IP stack on a network device.",
        values: &["socket", "direct"],
        default_unix: "socket",
        default_other: "direct",
    },
    KeyDef {
        name: "dhcp",
        doc: "With the direct stack, get the IPv4 configuration by DHCP instead of the --ipv4 boot arguments.",
        values: &["true", "false"],
        default_unix: "true",
        default_other: "true",
    },
    KeyDef {
        name: "kv",
        doc: "Read-only key-value stores: `crunch` embeds the files in the image, `direct` reads the host's directory at run time (unix only).",
        values: &["crunch", "direct"],
        default_unix: "crunch",
        default_other: "crunch",
    },
];

/// A value a target forbids, with why and what to use instead.
struct Constraint {
    key: &'static str,
    value: &'static str,
    allowed_on: Target,
    reason: &'static str,
    instead: &'static str,
}

const CONSTRAINTS: [Constraint; 2] = [
    Constraint {
        key: "net",
        value: "socket",
        allowed_on: Target::Unix,
        reason: "the socket stack exists only on unix: it uses the host's sockets",
        instead: "direct",
    },
    Constraint {
        key: "kv",
        value: "direct",
        allowed_on: Target::Unix,
        reason: "the direct key-value store exists only on unix: it reads the host's files at run time",
        instead: "crunch",
    },
];

/// The keys given on the command line (`None` = not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOverrides {
    /// `--net=VALUE`.
    pub net: Option<String>,
    /// `--dhcp` (true) or `--no-dhcp` (false).
    pub dhcp: Option<bool>,
    /// `--kv=VALUE`.
    pub kv: Option<String>,
}

impl KeyOverrides {
    /// The command-line value of key `name`, as a string.
    fn get(&self, name: &str) -> Option<String> {
        match name {
            "net" => self.net.clone(),
            "dhcp" => self.dhcp.map(|b| b.to_string()),
            "kv" => self.kv.clone(),
            _ => None,
        }
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

/// One resolved key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key's definition.
    pub def: KeyDef,
    /// Its value (`"true"`/`"false"` for booleans).
    pub value: String,
    /// Where the value came from.
    pub source: KeySource,
    /// The place it was written (toml span or command line), for diagnostics.
    pub origin: Option<Label>,
}

impl KeyValue {
    /// `net = socket (default)`: the key, its value and where it came from.
    pub fn describe(&self) -> String {
        format!("{} = {} ({})", self.def.name, self.value, self.source)
    }
}

/// Every key with its value, in [`KEYS`] order.
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

    /// The default keys of `target` (for tests and tools).
    pub fn defaults(target: Target) -> Keys {
        Keys {
            values: KEYS
                .iter()
                .map(|def| KeyValue {
                    def: *def,
                    value: def.default_for(target).to_string(),
                    source: KeySource::Default,
                    origin: None,
                })
                .collect(),
        }
    }
}

/// Resolves every key: command line, else `[keys]`, else the target's default; then checks
/// each value is allowed and allowed on `target`.
pub fn resolve(
    manifest: &Manifest,
    target: Target,
    overrides: &KeyOverrides,
) -> Result<Keys, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut values = Vec::new();
    for def in KEYS {
        // `[keys]` is checked even where the command line overrides it: a value that is
        // wrong in the file is wrong whatever was typed today.
        let written = manifest.key(def.name).map(|k| KeyValue {
            def,
            value: k.value.value.clone(),
            source: KeySource::Manifest,
            origin: Some(Label::new(&manifest.file, k.value.span.clone(), "")),
        });
        let (value, source, origin) = if let Some(v) = overrides.get(def.name) {
            if let Some(Err(d)) = written.as_ref().map(check_allowed) {
                diags.push(*d);
            }
            let text = format!("--{}={v}", def.name);
            let file = SourceFile::new("<command line>", text.clone());
            let span = def.name.len() + 3..text.len();
            (v, KeySource::CommandLine, Some(Label::new(&file, span, "")))
        } else if let Some(k) = written {
            (k.value, k.source, k.origin)
        } else {
            (
                def.default_for(target).to_string(),
                KeySource::Default,
                None,
            )
        };
        let kv = KeyValue {
            def,
            value,
            source,
            origin,
        };
        if let Err(d) = check_value(&kv, target) {
            diags.push(*d);
        } else {
            values.push(kv);
        }
    }
    diags.into_result(Keys { values })
}

/// Where `kv` was written, carrying `message`.
fn place(kv: &KeyValue, message: String) -> Label {
    match &kv.origin {
        Some(l) => Label {
            message,
            ..l.clone()
        },
        None => Label::file(&SourceFile::new("<default>", String::new()), message),
    }
}

/// Checks one key's value: allowed at all, and allowed on `target`.
fn check_value(kv: &KeyValue, target: Target) -> Result<(), Box<Diagnostic>> {
    check_allowed(kv)?;
    let def = &kv.def;
    let on_cli = kv.source == KeySource::CommandLine;
    let place = |message: String| place(kv, message);
    if let Some(c) = CONSTRAINTS
        .iter()
        .find(|c| c.key == def.name && c.value == kv.value && c.allowed_on != target)
    {
        let message = format!("`{} = {}` is not available on {target}", def.name, kv.value);
        let help = if on_cli {
            format!("use `--{}={}`", def.name, c.instead)
        } else {
            format!("use `{} = \"{}\"`", def.name, c.instead)
        };
        return Err(Box::new(
            Diagnostic::error(message)
                .at(place(c.reason.to_string()))
                .with_help(help),
        ));
    }
    Ok(())
}

/// Checks that `kv`'s value is one of its key's values.
fn check_allowed(kv: &KeyValue) -> Result<(), Box<Diagnostic>> {
    let def = &kv.def;
    if def.values.contains(&kv.value.as_str()) {
        return Ok(());
    }
    let on_cli = kv.source == KeySource::CommandLine;
    let mut d = Diagnostic::error(format!(
        "invalid value `{}` for the key `{}`",
        kv.value, def.name
    ))
    .at(place(kv, format!("expected one of: {}", list(def.values))))
    .with_note(def.doc);
    if let Some(s) = did_you_mean(&kv.value, def.values.iter().copied()) {
        d = d.with_help(if on_cli {
            format!("did you mean `--{}={s}`?", def.name)
        } else {
            format!("did you mean `{} = \"{s}\"`?", def.name)
        });
    }
    Err(Box::new(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(keys: &str) -> Manifest {
        let text = format!("[unikernel]\nname = \"k\"\n[keys]\n{keys}");
        crate::manifest::parse(SourceFile::new("unikernel.toml", text)).unwrap()
    }

    #[test]
    fn defaults_per_target() {
        let m = manifest("");
        let k = resolve(&m, Target::Unix, &KeyOverrides::default()).unwrap();
        assert_eq!(k.value("net"), Some("socket"));
        let k = resolve(&m, Target::Hvt, &KeyOverrides::default()).unwrap();
        assert_eq!(k.value("net"), Some("direct"));
        assert_eq!(k.get("dhcp").unwrap().describe(), "dhcp = true (default)");
    }

    #[test]
    fn command_line_wins() {
        let m = manifest("net = \"direct\"\ndhcp = false");
        let o = KeyOverrides {
            net: Some("socket".into()),
            ..Default::default()
        };
        let k = resolve(&m, Target::Unix, &o).unwrap();
        assert_eq!(k.get("net").unwrap().source, KeySource::CommandLine);
        assert_eq!(
            k.get("dhcp").unwrap().describe(),
            "dhcp = false (unikernel.toml)"
        );
    }

    #[test]
    fn socket_on_hvt() {
        let m = manifest("net = \"socket\"");
        let e = resolve(&m, Target::Hvt, &KeyOverrides::default())
            .unwrap_err()
            .render();
        assert!(e.contains("only on unix"), "{e}");
        assert!(e.contains("unikernel.toml:4:7"), "{e}");
        let o = KeyOverrides {
            kv: Some("direct".into()),
            net: Some("sockt".into()),
            ..Default::default()
        };
        let e = resolve(&manifest(""), Target::Xen, &o)
            .unwrap_err()
            .render();
        assert!(e.contains("<command line>:1:7"), "{e}");
        assert!(e.contains("did you mean `--net=socket`?"), "{e}");
        assert!(e.contains("use `--kv=crunch`"), "{e}");
    }

    #[test]
    fn keys_table_is_checked_even_when_overridden() {
        let o = KeyOverrides {
            net: Some("socket".into()),
            ..Default::default()
        };
        let e = resolve(&manifest("net = \"bogus\""), Target::Unix, &o)
            .unwrap_err()
            .render();
        assert!(e.contains("invalid value `bogus` for the key `net`"), "{e}");
        assert!(e.contains("unikernel.toml:4:7"), "{e}");
    }
}
