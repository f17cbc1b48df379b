//! `unikernel.toml`: the unikernel's name, configure-time keys, devices and boot arguments.
//!
//! The file is data, never code. [`load`] (or [`parse`]) reads and checks all of it and
//! returns either a [`Manifest`], whose every value remembers its byte span, or every problem
//! found, each pointing at the file, line and column.
//!
//! # Format
//!
//! ```toml
//! [unikernel]
//! name = "hello-key"        # required; [a-z][a-z0-9-]*, at most 40 characters
//!
//! [keys]                    # optional configure-time keys; the command line overrides them
//! net = "direct"            # a key an interface declares (here `stack`): a string...
//! dhcp = false              # ...or a boolean, as the key's declaration says
//!
//! [keys.flavour]            # a key the unikernel declares for its own use
//! doc = "The greeting's flavour."  # required, one line
//! values = ["plain", "fancy"]      # omit for a boolean key
//! default = "plain"         # required: a string among `values`, or `true`/`false`
//!
//! [devices.stack]           # a device instance named `stack`
//! type = "stack"            # an interface of kind "device" in the catalogue
//! net = "service"           # wiring: role -> instance (roles: the implementation's `needs`)
//!
//! [devices.htdocs]
//! type = "kv_ro"
//! dir = "htdocs"            # a string parameter the chosen implementation declares
//! keys = { kv = "direct" }  # keys for this instance only (its interface's keys)
//!
//! [args.hello]              # a boot argument of the application
//! type = "string"           # string bool i8..i64 u8..u64 int uint duration ipv4 ipv6
//!                           # ipv4-prefix ipv6-prefix mac
//! default = "Hello world!"  # optional; a string, or a boolean/integer written bare
//! doc = "The greeting."     # required, non-empty
//! section = "APPLICATION OPTIONS"  # optional (this is the default)
//! required = false          # optional
//! repeated = false          # optional
//! ```
//!
//! Rules checked here:
//!
//! - the only tables are `[unikernel]` (required), `[keys]`, `[devices.NAME]`, `[args.NAME]`;
//!   unknown tables and keys are errors that list what is allowed;
//! - instance names match `[a-z][a-z0-9_]*` and are not Rust keywords (they become Rust
//!   identifiers and main-function parameter names);
//! - every device table has a string `type`; its other keys are strings (wiring or
//!   parameters: which ones are allowed depends on the implementation chosen, so the device
//!   graph checks them, see the `graph` module), except `keys`, a table of string or
//!   boolean settings (which keys the instance has is checked by the `keys` module);
//! - the shape of `[keys]`: each entry is a string or boolean setting, or a table declaring
//!   a key (which keys exist and which values they take is checked by the `keys` module);
//! - the shape of `[args.NAME]` (names, types and defaults are checked by the `bootargs`
//!   module).
//!
//! This module is the syntax layer: it imports nothing of the crate but `diagnostic`.

mod names;
mod tables;

pub use names::{RUST_KEYWORDS, check_instance_name, check_unikernel_name};

use crate::diagnostic::{Diagnostic, Diagnostics, Label, SourceFile, did_you_mean, list};
use names::suggest_name;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use tables::Cx;
use toml::de::{DeTable, DeValue};

/// A value with the byte range it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    /// The value.
    pub value: T,
    /// Byte range in the file.
    pub span: Range<usize>,
}

impl<T> Sp<T> {
    /// A value at `span`.
    pub fn new(value: T, span: Range<usize>) -> Sp<T> {
        Sp { value, span }
    }
}

/// A checked `unikernel.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The file, for diagnostics.
    pub file: Arc<SourceFile>,
    /// `[unikernel] name`.
    pub name: Sp<String>,
    /// `[keys]`: the settings and the unikernel's own key declarations.
    pub keys: KeyTable,
    /// `[devices.*]`, in file order.
    pub devices: Vec<DeviceDecl>,
    /// `[args.*]`, in file order.
    pub args: Vec<ArgSpec>,
    /// `[implementations]`: interfaces whose implementation the unikernel pins, in file order.
    pub pins: Vec<Pin>,
}

/// One `[implementations]` entry: `random = "fixed-random"` makes the crate `fixed-random`
/// the implementation of every instance of `random`, over the built-in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The interface.
    pub interface: Sp<String>,
    /// The implementation's package name.
    pub package: Sp<String>,
}

/// The `[keys]` table as written.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyTable {
    /// The file, for diagnostics.
    pub file: Arc<SourceFile>,
    /// `name = value` entries, in file order.
    pub settings: Vec<KeySetting>,
    /// `[keys.NAME]` tables: keys the unikernel declares, in file order.
    pub decls: Vec<KeySpec>,
}

impl KeyTable {
    /// The setting of key `name`, if any.
    pub fn setting(&self, name: &str) -> Option<&KeySetting> {
        self.settings.iter().find(|k| k.name.value == name)
    }
}

/// One `name = value` entry of `[keys]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetting {
    /// The key's name.
    pub name: Sp<String>,
    /// Its value as written.
    pub value: Sp<Literal>,
}

/// A key's value as written: a string or a boolean (which one the key wants is the key
/// registry's business).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `"socket"`.
    Str(String),
    /// `false`.
    Bool(bool),
}

impl Literal {
    /// The value as text (`"true"`/`"false"` for booleans).
    pub fn text(&self) -> String {
        match self {
            Literal::Str(s) => s.clone(),
            Literal::Bool(b) => b.to_string(),
        }
    }
}

/// One `[keys.NAME]` table: a key the unikernel declares for its own use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// The key's name (the table's key).
    pub name: Sp<String>,
    /// `doc`.
    pub doc: Sp<String>,
    /// `values` (empty for a boolean key).
    pub values: Vec<Sp<String>>,
    /// `default`: a boolean default makes a boolean key.
    pub default: Sp<Literal>,
}

/// One `[devices.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDecl {
    /// The instance name (the table's key).
    pub name: Sp<String>,
    /// `type`: the interface.
    pub ty: Sp<String>,
    /// `implementation`: the package this instance is pinned to, if any.
    pub implementation: Option<Sp<String>>,
    /// `group`: the prefix of this instance's boot arguments (`--NAME-disk`), if chosen.
    pub group: Option<Sp<String>>,
    /// `keys = { kv = "direct" }`: configure keys set for this instance only (the
    /// interface's keys; checked by the `keys` module), in file order.
    pub keys: Vec<KeySetting>,
    /// Every other entry: wiring (role -> instance) or parameter (name -> string), in file
    /// order.
    pub entries: Vec<DeviceEntry>,
}

impl DeviceDecl {
    /// The entry named `key`, if any.
    pub fn entry(&self, key: &str) -> Option<&DeviceEntry> {
        self.entries.iter().find(|e| e.key.value == key)
    }
}

/// A `key = "value"` entry of a device table other than `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEntry {
    /// The key (a role or a parameter name).
    pub key: Sp<String>,
    /// The string value.
    pub value: Sp<String>,
}

/// One `[args.NAME]` table: a boot argument of the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgSpec {
    /// The argument's name (the table's key), without `--`.
    pub name: Sp<String>,
    /// `type`.
    pub ty: Sp<String>,
    /// `default`, as a string.
    pub default: Option<Sp<String>>,
    /// `doc`.
    pub doc: Sp<String>,
    /// `section`.
    pub section: Option<Sp<String>>,
    /// `required`.
    pub required: Option<Sp<bool>>,
    /// `repeated`.
    pub repeated: Option<Sp<bool>>,
}

/// The `--help` section of arguments that do not name one.
pub const DEFAULT_SECTION: &str = "APPLICATION OPTIONS";

impl Manifest {
    /// The device declared as `name`, if any.
    pub fn device(&self, name: &str) -> Option<&DeviceDecl> {
        self.devices.iter().find(|d| d.name.value == name)
    }

    /// The package pinned for `interface` in `[implementations]`, if any.
    pub fn pin(&self, interface: &str) -> Option<&Sp<String>> {
        self.pins
            .iter()
            .find(|p| p.interface.value == interface)
            .map(|p| &p.package)
    }

    /// The `[keys]` setting `name`, if any.
    pub fn key(&self, name: &str) -> Option<&KeySetting> {
        self.keys.setting(name)
    }
}

/// What [`read`] found: the manifest if the file is valid, and in any case its `[keys]`
/// table as far as it could be read, so that the keys can be checked against the key
/// registry in the same report as the file's other problems.
#[derive(Debug, Clone)]
pub struct Reading {
    /// The manifest, or every problem found.
    pub manifest: Result<Manifest, Diagnostics>,
    /// `[keys]`, unless the file could not be read or is not TOML.
    pub keys: Option<KeyTable>,
}

/// Reads and checks the file at `path` (shown in diagnostics as given).
pub fn load(path: &Path) -> Result<Manifest, Diagnostics> {
    load_as(path, &path.display().to_string())
}

/// Reads and checks the file at `path`, shown in diagnostics as `display_name`.
pub fn load_as(path: &Path, display_name: &str) -> Result<Manifest, Diagnostics> {
    read_path(path, display_name).manifest
}

/// [`load_as`], keeping `[keys]` even when the file has problems.
pub fn read_path(path: &Path, display_name: &str) -> Reading {
    let bytes = std::fs::read(path).map_err(|e| {
        let file = SourceFile::new(display_name, "");
        Diagnostics::from(
            Diagnostic::error(format!("cannot read `{display_name}`: {e}"))
                .at(Label::file(&file, ""))
                .with_help("`petrel configure` runs in the directory of the unikernel's Cargo.toml and unikernel.toml"),
        )
    });
    match bytes {
        Ok(bytes) => read_bytes(display_name, &bytes),
        Err(d) => Reading {
            manifest: Err(d),
            keys: None,
        },
    }
}

/// Checks `bytes` read from a file shown as `display_name`. Text that is not UTF-8 is an
/// error at the first invalid byte.
pub fn parse_bytes(display_name: &str, bytes: &[u8]) -> Result<Manifest, Diagnostics> {
    read_bytes(display_name, bytes).manifest
}

/// [`parse_bytes`], keeping `[keys]` even when the file has problems.
pub fn read_bytes(display_name: &str, bytes: &[u8]) -> Reading {
    match std::str::from_utf8(bytes) {
        Ok(text) => read(SourceFile::new(display_name, text)),
        Err(e) => {
            let at = e.valid_up_to();
            let file = SourceFile::new(display_name, String::from_utf8_lossy(bytes).into_owned());
            // The lossy text has the same prefix, so `at` is a valid offset in it.
            Reading {
                manifest: Err(Diagnostic::error("the file is not valid UTF-8")
                    .at_span(&file, at..at + 1, "this byte is not UTF-8")
                    .with_help("unikernel.toml is a TOML file, which must be UTF-8 text")
                    .into()),
                keys: None,
            }
        }
    }
}

/// The tables allowed at the top level.
const TOP_LEVEL: [&str; 5] = ["unikernel", "keys", "devices", "args", "implementations"];
/// The keys of `[unikernel]`.
const UNIKERNEL_KEYS: [&str; 1] = ["name"];
/// The keys of `[args.NAME]`.
const ARG_KEYS: [&str; 6] = ["type", "default", "doc", "section", "required", "repeated"];

/// Checks the text of `file`.
pub fn parse(file: Arc<SourceFile>) -> Result<Manifest, Diagnostics> {
    read(file).manifest
}

/// [`parse`], keeping `[keys]` even when the file has problems.
pub fn read(file: Arc<SourceFile>) -> Reading {
    let text = file.text.clone();
    let (doc, errors) = DeTable::parse_recoverable(&text);
    if !errors.is_empty() {
        let mut diags = Diagnostics::new();
        for e in errors {
            diags.push(toml_error(&file, &e));
        }
        diags.sort();
        return Reading {
            manifest: Err(diags),
            keys: None,
        };
    }
    let mut cx = Cx {
        file: file.clone(),
        diags: Diagnostics::new(),
    };
    let doc = doc.get_ref();
    for (key, value) in doc.iter() {
        if !TOP_LEVEL.contains(&key.get_ref().as_ref()) {
            let what = if value.get_ref().is_table() {
                "table"
            } else {
                "key"
            };
            cx.unknown_key(key, what, "the top level", &TOP_LEVEL);
        }
    }
    let name = cx.unikernel(doc);
    let keys = match doc.get("keys") {
        Some(v) => cx.keys(v),
        None => KeyTable {
            file: file.clone(),
            settings: Vec::new(),
            decls: Vec::new(),
        },
    };
    let devices = match doc.get("devices") {
        Some(v) => cx.devices(v),
        None => Vec::new(),
    };
    let args = match doc.get("args") {
        Some(v) => cx.args(v),
        None => Vec::new(),
    };
    let pins = match doc.get("implementations") {
        Some(v) => cx.pins(v),
        None => Vec::new(),
    };
    let Cx { mut diags, .. } = cx;
    diags.sort();
    let manifest = match name {
        Some(name) if !diags.has_errors() => Ok(Manifest {
            file,
            name,
            keys: keys.clone(),
            devices,
            args,
            pins,
        }),
        _ => Err(diags),
    };
    Reading {
        manifest,
        keys: Some(keys),
    }
}

/// A TOML syntax error as a diagnostic, with a clearer message for the common ones.
fn toml_error(file: &Arc<SourceFile>, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim().to_string();
    let Some(span) = e.span() else {
        return Diagnostic::error(format!("invalid TOML: {message}")).at(Label::file(file, ""));
    };
    let found = file.text.get(span.clone()).unwrap_or("").to_string();
    if message == "duplicate key" {
        let d = Diagnostic::error(format!("duplicate key `{}`", truncate(&found, 40))).at_span(
            file,
            span.clone(),
            "defined a second time here",
        );
        let first = first_occurrence(&file.text, &found, span.start)
            .map(|at| Label::new(file, at..at + found.len(), "first defined here"));
        let d = match first {
            Some(l) => d.with_label(l),
            None => d,
        };
        return d.with_help("a key (and a table such as `[devices.NAME]`) may be defined only once; rename or merge one of them");
    }
    Diagnostic::error(format!("invalid TOML: {message}")).at_span(file, span, "")
}

/// The first earlier occurrence of `word` as a whole key (before `before`), for "first
/// defined here" notes.
fn first_occurrence(text: &str, word: &str, before: usize) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word)
        .map(|(i, _)| i)
        .filter(|&i| i < before)
        .find(|&i| {
            let prev_ok = text[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !is_key_char(c));
            let next_ok = text[i + word.len()..]
                .chars()
                .next()
                .is_none_or(|c| !is_key_char(c));
            prev_ok && next_ok
        })
}

/// `s`, cut to `n` characters with `...`.
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}...", s.chars().take(n).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Manifest {
        match parse(SourceFile::new("unikernel.toml", text)) {
            Ok(m) => m,
            Err(d) => panic!("{}", d.render()),
        }
    }

    fn err(text: &str) -> String {
        match parse(SourceFile::new("unikernel.toml", text)) {
            Ok(m) => panic!("expected an error, got {m:?}"),
            Err(d) => d.render(),
        }
    }

    #[test]
    fn full_example() {
        let m = ok(r#"
[unikernel]
name = "hello-key"
[keys]
net = "direct"
dhcp = false
[devices.stack]
type = "stack"
net = "service"
[devices.htdocs]
type = "kv_ro"
dir = "htdocs"
[args.hello]
type = "string"
default = "Hello world!"
doc = "The greeting."
[args.port]
type = "u16"
default = 8_080
doc = "Port."
required = false
"#);
        assert_eq!(m.name.value, "hello-key");
        assert_eq!(m.keys.settings.len(), 2);
        assert_eq!(m.key("dhcp").unwrap().value.value, Literal::Bool(false));
        assert_eq!(
            m.devices
                .iter()
                .map(|d| d.name.value.as_str())
                .collect::<Vec<_>>(),
            ["stack", "htdocs"]
        );
        assert_eq!(
            m.device("stack").unwrap().entry("net").unwrap().value.value,
            "service"
        );
        assert_eq!(m.args[1].default.as_ref().unwrap().value, "8080");
    }

    #[test]
    fn errors_are_collected() {
        let r = err("[unikernel]\nname = \"Hello\"\n[devics.x]\n");
        assert!(r.contains("unknown table `[devics]`"), "{r}");
        assert!(r.contains("invalid unikernel name"), "{r}");
    }

    #[test]
    fn names() {
        assert!(check_instance_name("stack_1").is_ok());
        assert!(check_instance_name("type").is_err());
        assert!(check_instance_name("1a").is_err());
        assert!(check_unikernel_name(&"a".repeat(41)).is_err());
        assert!(check_unikernel_name("hello-2").is_ok());
    }
}
